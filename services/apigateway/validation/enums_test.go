package validation

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/shoalmesh/shoal/sdk/go/kinds"
)

// enumPaths lists every path from md to an enum field (each a chain of
// fields; a message type already on the path is not entered again).
func enumPaths(md protoreflect.MessageDescriptor, on map[protoreflect.FullName]bool) [][]protoreflect.FieldDescriptor {
	if on[md.FullName()] {
		return nil
	}
	on[md.FullName()] = true
	defer delete(on, md.FullName())
	var out [][]protoreflect.FieldDescriptor
	fds := md.Fields()
	for i := 0; i < fds.Len(); i++ {
		fd := fds.Get(i)
		switch vd := valueField(fd); vd.Kind() {
		case protoreflect.EnumKind:
			out = append(out, []protoreflect.FieldDescriptor{fd})
		case protoreflect.MessageKind, protoreflect.GroupKind:
			for _, rest := range enumPaths(vd.Message(), on) {
				out = append(out, append([]protoreflect.FieldDescriptor{fd}, rest...))
			}
		}
	}
	return out
}

// setUndefined populates path in m (one element per list, key "k" per
// map) and sets the enum at its end to a number no enum defines.
func setUndefined(m protoreflect.Message, path []protoreflect.FieldDescriptor) {
	const undefined = protoreflect.EnumNumber(987654)
	fd := path[0]
	last := len(path) == 1
	switch {
	case fd.IsList():
		l := m.Mutable(fd).List()
		if last {
			l.Append(protoreflect.ValueOfEnum(undefined))
			return
		}
		e := l.NewElement()
		l.Append(e)
		setUndefined(e.Message(), path[1:])
	case fd.IsMap():
		mp := m.Mutable(fd).Map()
		key := protoreflect.ValueOfString("k").MapKey()
		if fd.MapKey().Kind() != protoreflect.StringKind {
			key = protoreflect.ValueOfInt64(1).MapKey()
		}
		if last {
			mp.Set(key, protoreflect.ValueOfEnum(undefined))
			return
		}
		setUndefined(mp.Mutable(key).Message(), path[1:])
	case last:
		m.Set(fd, protoreflect.ValueOfEnum(undefined))
	default:
		setUndefined(m.Mutable(fd).Message(), path[1:])
	}
}

// Every enum field of every kind, however deep, is found: an undefined
// value put there is reported by the walks that visit only enumFields.
func TestEnumFieldsReachEveryEnum(t *testing.T) {
	n := 0
	for _, k := range kinds.All() {
		md := k.New().ProtoReflect().Descriptor()
		for _, path := range enumPaths(md, map[protoreflect.FullName]bool{}) {
			names := make([]string, len(path))
			for i, fd := range path {
				names[i] = string(fd.Name())
			}
			where := k.Name + "." + strings.Join(names, ".")
			obj := k.New()
			setUndefined(obj.ProtoReflect(), path)
			if !hasUndefinedEnum(obj.ProtoReflect()) {
				t.Errorf("%s: undefined enum value not found", where)
			}
			if errs := undefinedEnums(obj.ProtoReflect(), nil); len(errs) != 1 {
				t.Errorf("%s: %d errors, want 1: %v", where, len(errs), errs)
			}
			n++
		}
	}
	// Pods alone have a dozen enum fields; a walk that found none would
	// make this test vacuous.
	if n < 20 {
		t.Fatalf("only %d enum fields found in all kinds", n)
	}
}

// BenchmarkUndefinedEnumsPod is the enum check of a valid pod, the common
// case on every create and update (docs/benchmarks.md).
func BenchmarkUndefinedEnumsPod(b *testing.B) {
	m := validPod().ProtoReflect()
	b.ReportAllocs()
	for b.Loop() {
		if undefinedEnums(m, nil, "status") != nil {
			b.Fatal("a valid pod has an undefined enum")
		}
	}
}
