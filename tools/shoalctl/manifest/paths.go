package manifest

import (
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// JSONPath rewrites a field path that uses proto names, as the apigateway
// reports them (spec.template.spec.containers[0].ports[0].container_port),
// into the JSON names a manifest uses (...ports[0].containerPort). md is
// the object's message. Segments that name no field are kept as they are.
func JSONPath(md protoreflect.MessageDescriptor, path string) string {
	if path == "" || md == nil {
		return path
	}
	segments := splitPath(path)
	for i, seg := range segments {
		name, rest, _ := strings.Cut(seg, "[")
		if rest != "" {
			rest = "[" + rest
		}
		if md == nil {
			break
		}
		fd := md.Fields().ByName(protoreflect.Name(name))
		if fd == nil {
			break
		}
		segments[i] = fd.JSONName() + rest
		switch {
		case fd.IsMap():
			md = fd.MapValue().Message()
		default:
			md = fd.Message()
		}
	}
	return strings.Join(segments, ".")
}

// splitPath cuts a path at the dots outside brackets, so that map keys
// (labels[app.kubernetes.io/name]) stay whole.
func splitPath(path string) []string {
	var out []string
	depth, start := 0, 0
	for i, r := range path {
		switch r {
		case '[':
			depth++
		case ']':
			depth--
		case '.':
			if depth == 0 {
				out = append(out, path[start:i])
				start = i + 1
			}
		}
	}
	return append(out, path[start:])
}
