// Package apply implements `shoalctl apply`'s update rule: a three-way merge
// of the stored object, the manifest, and the manifest applied last time
// (kept in an annotation, as kubectl keeps
// kubectl.kubernetes.io/last-applied-configuration).
//
// For every field of the object, recursively:
//
//   - set in the manifest: the manifest's value wins (maps merge key by
//     key; lists are replaced whole);
//   - absent from the manifest but present last time: the user removed it,
//     so it is cleared;
//   - absent from both: someone else set it (the gateway's defaults, a
//     cluster IP, `shoalctl scale`, a controller's annotation), so it stays.
//
// Status is never touched (the gateway ignores it on update).
package apply

import (
	"encoding/json"
	"fmt"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/shoalmesh/shoal/sdk/go/kinds"
	"github.com/shoalmesh/shoal/tools/shoalctl/manifest"
	"github.com/shoalmesh/shoal/tools/shoalctl/printers"
)

// LastAppliedAnnotation holds the manifest applied last, as a Shoal
// document in JSON.
const LastAppliedAnnotation = printers.LastAppliedAnnotation

// Prepare returns the object to create: obj with the last-applied
// annotation recording obj itself.
func Prepare(obj kinds.Object) (kinds.Object, error) {
	out := proto.Clone(obj).(kinds.Object)
	m := kinds.Meta(out)
	if m.Annotations != nil {
		delete(m.Annotations, LastAppliedAnnotation)
	}
	tree, err := manifest.Tree(out)
	if err != nil {
		return nil, err
	}
	js, err := json.Marshal(tree)
	if err != nil {
		return nil, err
	}
	if m.Annotations == nil {
		m.Annotations = map[string]string{}
	}
	m.Annotations[LastAppliedAnnotation] = string(js)
	return out, nil
}

// LastApplied reads the manifest recorded on a stored object; nil when
// there is none (or it cannot be read, which is treated the same).
func LastApplied(cur kinds.Object) kinds.Object {
	js, ok := cur.GetMetadata().GetAnnotations()[LastAppliedAnnotation]
	if !ok {
		return nil
	}
	docs, err := manifest.Decode("last-applied", []byte(js))
	if err != nil || len(docs) != 1 {
		return nil
	}
	if docs[0].Object.ProtoReflect().Descriptor() != cur.ProtoReflect().Descriptor() {
		return nil
	}
	return docs[0].Object
}

// Merge returns the object to store: cur updated with desired (a Prepare'd
// manifest), given last (LastApplied(cur), may be nil).
func Merge(cur, desired, last kinds.Object) (kinds.Object, error) {
	if cur.ProtoReflect().Descriptor() != desired.ProtoReflect().Descriptor() {
		return nil, fmt.Errorf("apply: cannot merge a %s into a %s", desired.ProtoReflect().Descriptor().Name(), cur.ProtoReflect().Descriptor().Name())
	}
	out := proto.Clone(cur).(kinds.Object)
	d := proto.Clone(desired).(kinds.Object)
	kinds.ClearStatus(d)
	var l protoreflect.Message
	if last != nil && last.ProtoReflect().IsValid() {
		lc := proto.Clone(last).(kinds.Object)
		kinds.ClearStatus(lc)
		l = lc.ProtoReflect()
	}
	mergeMessage(out.ProtoReflect(), d.ProtoReflect(), l)
	return out, nil
}

func mergeMessage(out, desired, last protoreflect.Message) {
	fields := out.Descriptor().Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		inDesired := desired.Has(fd)
		inLast := last != nil && last.Has(fd)
		switch {
		case !inDesired && inLast:
			out.Clear(fd)
		case !inDesired:
		case fd.IsMap():
			var lm protoreflect.Map
			if inLast {
				lm = last.Get(fd).Map()
			}
			mergeMap(out.Mutable(fd).Map(), desired.Get(fd).Map(), lm)
		case fd.Message() != nil && !fd.IsList() && out.Has(fd):
			var lm protoreflect.Message
			if inLast {
				lm = last.Get(fd).Message()
			}
			mergeMessage(out.Mutable(fd).Message(), desired.Get(fd).Message(), lm)
		default:
			out.Set(fd, desired.Get(fd))
		}
	}
}

// mergeMap merges key by key: the manifest's keys are set, keys applied
// last time and gone from the manifest are removed, others stay.
func mergeMap(out, desired, last protoreflect.Map) {
	if last != nil {
		last.Range(func(k protoreflect.MapKey, _ protoreflect.Value) bool {
			if !desired.Has(k) {
				out.Clear(k)
			}
			return true
		})
	}
	desired.Range(func(k protoreflect.MapKey, v protoreflect.Value) bool {
		out.Set(k, v)
		return true
	})
}

// SameIntent reports whether two objects agree on everything a manifest
// sets: labels, annotations and spec. Server-managed metadata and status
// are not compared.
func SameIntent(a, b kinds.Object) bool {
	am, bm := a.GetMetadata(), b.GetMetadata()
	if !equalMaps(am.GetLabels(), bm.GetLabels()) || !equalMaps(am.GetAnnotations(), bm.GetAnnotations()) {
		return false
	}
	return equalMessages(kinds.Spec(a).Interface(), kinds.Spec(b).Interface())
}

// equalMessages compares deterministic encodings, so that an unset message
// equals an empty one.
func equalMessages(a, b proto.Message) bool {
	opts := proto.MarshalOptions{Deterministic: true}
	ab, aerr := opts.Marshal(a)
	bb, berr := opts.Marshal(b)
	return aerr == nil && berr == nil && string(ab) == string(bb)
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if bv, ok := b[k]; !ok || bv != v {
			return false
		}
	}
	return true
}
