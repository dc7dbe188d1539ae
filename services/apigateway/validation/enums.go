package validation

import (
	"slices"

	"google.golang.org/protobuf/reflect/protoreflect"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/shoalmesh/shoal/sdk/go/selector"
)

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
	fds := m.Descriptor().Fields()
	for i := 0; i < fds.Len(); i++ {
		fd := fds.Get(i)
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
			vd := fd.MapValue()
			if vd.Kind() != protoreflect.EnumKind && vd.Kind() != protoreflect.MessageKind {
				continue
			}
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
	found := false
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsList():
			l := v.List()
			for j := 0; j < l.Len() && !found; j++ {
				found = undefinedValue(fd, l.Get(j))
			}
		case fd.IsMap():
			vd := fd.MapValue()
			if vd.Kind() == protoreflect.EnumKind || vd.Kind() == protoreflect.MessageKind {
				v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
					found = undefinedValue(vd, mv)
					return !found
				})
			}
		default:
			found = undefinedValue(fd, v)
		}
		return !found
	})
	return found
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
