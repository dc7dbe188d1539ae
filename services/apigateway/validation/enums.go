package validation

import (
	"slices"
	"sync"

	"google.golang.org/protobuf/reflect/protoreflect"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/shoalmesh/shoal/sdk/go/kinds"
	"github.com/shoalmesh/shoal/sdk/go/selector"
)

// enumFields maps every message type of every kind, at any depth, to its
// fields through which an enum value can be reached: enum fields, and
// message fields (singular, repeated or map values) whose type has such
// fields. The walks below visit only these, so the strings, numbers,
// labels and command lines that make up most of an object cost nothing;
// walking every populated field by reflection was ~30 us and 150
// allocations per pod. Built once from the compiled-in descriptors and
// never changed.
var enumFields = sync.OnceValue(func() map[protoreflect.FullName][]protoreflect.FieldDescriptor {
	out := map[protoreflect.FullName][]protoreflect.FieldDescriptor{}
	visiting := map[protoreflect.FullName]bool{}
	var visit func(md protoreflect.MessageDescriptor) bool
	visit = func(md protoreflect.MessageDescriptor) bool {
		name := md.FullName()
		if visiting[name] {
			return true // a cycle: keep the field; its type's own entry decides
		}
		if fds, done := out[name]; done {
			return len(fds) > 0
		}
		visiting[name] = true
		fds := []protoreflect.FieldDescriptor{}
		all := md.Fields()
		for i := 0; i < all.Len(); i++ {
			fd := all.Get(i)
			switch vd := valueField(fd); vd.Kind() {
			case protoreflect.EnumKind:
				fds = append(fds, fd)
			case protoreflect.MessageKind, protoreflect.GroupKind:
				if visit(vd.Message()) {
					fds = append(fds, fd)
				}
			}
		}
		delete(visiting, name)
		out[name] = fds
		return len(fds) > 0
	}
	for _, k := range kinds.All() {
		visit(k.New().ProtoReflect().Descriptor())
	}
	return out
})

// valueField describes the values fd holds: its map values for a map,
// else fd itself (also for a list, whose elements fd describes).
func valueField(fd protoreflect.FieldDescriptor) protoreflect.FieldDescriptor {
	if fd.IsMap() {
		return fd.MapValue()
	}
	return fd
}

// fieldsWithEnums are md's fields that can lead to an enum value: from
// enumFields, or every field for a type outside it (none is today).
func fieldsWithEnums(md protoreflect.MessageDescriptor) []protoreflect.FieldDescriptor {
	if fds, ok := enumFields()[md.FullName()]; ok {
		return fds
	}
	all := md.Fields()
	fds := make([]protoreflect.FieldDescriptor, all.Len())
	for i := range fds {
		fds[i] = all.Get(i)
	}
	return fds
}

// undefinedEnums walks every populated field of m, depth first in field
// order, and reports each enum value that its enum does not define
// (NotSupported at the field's path). Top-level fields named in skip are not
// visited. Map entries are visited in key order, so the result is
// deterministic.
func undefinedEnums(m protoreflect.Message, path *field.Path, skip ...protoreflect.Name) field.ErrorList {
	// Nearly every object is valid: find that out first without building a
	// field path per visited field (the walk below allocates one each),
	// which made this check a quarter of validating a pod.
	if !hasUndefinedEnum(m) {
		return nil
	}
	var errs field.ErrorList
	for _, fd := range fieldsWithEnums(m.Descriptor()) {
		if slices.Contains(skip, fd.Name()) || !m.Has(fd) {
			continue
		}
		p := path.Child(string(fd.Name()))
		v := m.Get(fd)
		switch {
		case fd.IsList():
			l := v.List()
			for j := 0; j < l.Len(); j++ {
				errs = append(errs, undefinedEnumValue(fd, l.Get(j), p.Index(j))...)
			}
		case fd.IsMap():
			vd := valueField(fd)
			mp := v.Map()
			keys := make([]protoreflect.MapKey, 0, mp.Len())
			mp.Range(func(k protoreflect.MapKey, _ protoreflect.Value) bool {
				keys = append(keys, k)
				return true
			})
			slices.SortFunc(keys, func(a, b protoreflect.MapKey) int {
				switch as, bs := a.String(), b.String(); {
				case as < bs:
					return -1
				case as > bs:
					return 1
				}
				return 0
			})
			for _, k := range keys {
				errs = append(errs, undefinedEnumValue(vd, mp.Get(k), p.Key(k.String()))...)
			}
		default:
			errs = append(errs, undefinedEnumValue(fd, v, p)...)
		}
	}
	return errs
}

// undefinedEnumValue checks one singular value of field (or map value) fd.
func undefinedEnumValue(fd protoreflect.FieldDescriptor, v protoreflect.Value, p *field.Path) field.ErrorList {
	switch fd.Kind() {
	case protoreflect.EnumKind:
		ed := fd.Enum()
		if ed.Values().ByNumber(v.Enum()) == nil {
			return field.ErrorList{selector.UndefinedEnum(p, ed, v.Enum())}
		}
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return undefinedEnums(v.Message(), p)
	}
	return nil
}

// hasUndefinedEnum reports whether any populated field under m, at any
// depth, holds an enum value its enum does not define.
func hasUndefinedEnum(m protoreflect.Message) bool {
	for _, fd := range fieldsWithEnums(m.Descriptor()) {
		if !m.Has(fd) {
			continue
		}
		v := m.Get(fd)
		switch {
		case fd.IsList():
			l := v.List()
			for j := 0; j < l.Len(); j++ {
				if undefinedValue(fd, l.Get(j)) {
					return true
				}
			}
		case fd.IsMap():
			vd, found := valueField(fd), false
			v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
				found = undefinedValue(vd, mv)
				return !found
			})
			if found {
				return true
			}
		default:
			if undefinedValue(fd, v) {
				return true
			}
		}
	}
	return false
}

func undefinedValue(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
	switch fd.Kind() {
	case protoreflect.EnumKind:
		return fd.Enum().Values().ByNumber(v.Enum()) == nil
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return hasUndefinedEnum(v.Message())
	}
	return false
}
