// Package validation checks Shoal objects the way the Kubernetes API server
// checks its own, and reports every problem as a field.Error whose path uses
// the proto field names (snake_case, exactly as in proto/shoal/v1), list
// indexes and map keys:
//
//	spec.containers[0].image: Required value
//	spec.template.spec.containers[1].ports[0].container_port: Invalid value: 0: ...
//	metadata.labels[app]: Invalid value: "-web": ...
//
// The apigateway turns the list into an INVALID_ARGUMENT status with one
// BadRequest field violation per error.
//
// Three entry points, one per write:
//
//   - Object(obj): create and update. Metadata and spec (status is ignored).
//   - Update(old, obj): the extra rules of an update (immutable fields). The
//     gateway calls Object(obj) and Update(old, obj) and reports both.
//   - Status(obj): UpdateStatus. The status part only.
//
// Conventions:
//
//   - The whole object is the empty path "": an object larger than
//     MaxObjectBytes (proto encoding) is field.TooLong at "" with
//     MaxObjectBytes as the limit; a nil object is Required at "".
//   - Annotations larger than MaxAnnotationsBytes in total (keys plus values)
//     are TooLong at metadata.annotations.
//   - In a label-like map (metadata.labels, node_selector, service selector,
//     match_labels) a bad key is Invalid at the map's path with the key as the
//     bad value; a bad value is Invalid at path[key]. Annotation keys follow
//     the same rule.
//   - Every enum field, anywhere in the validated part, must hold a number
//     its enum defines (proto3 decodes unknown numbers silently). A generic
//     reflection walk reports each undefined one as NotSupported at the
//     field's path, the number as the bad value and the defined names as the
//     supported values. At most one NotSupported error is reported per path.
//     Where the zero value UNSPECIFIED is not acceptable either (label and
//     node selector operators, taint effects, condition statuses, node
//     address types) it is Required at that path.
//   - Missing required values are Required; values out of range or of the
//     wrong form are Invalid; repeated names or keys are Duplicate at the
//     second occurrence; an option that conflicts with another field is
//     Forbidden; a reference to a missing volume is NotFound; a changed
//     immutable field is Invalid ("field is immutable") or, for a pod spec,
//     Forbidden at the changed field.
//
// Validation never mutates its input and never panics, whatever bytes were
// decoded into the object (see FuzzObject).
package validation
