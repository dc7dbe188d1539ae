package deployment

import (
	"encoding/binary"
	"hash/fnv"
	"maps"
	"strconv"

	"google.golang.org/protobuf/proto"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/sdk/go/rollout"
)

// safeAlphabet has no vowels (no words) and no look-alike characters
// (Kubernetes' rand.SafeEncodeString).
const safeAlphabet = "bcdfghjklmnpqrstvwxz2456789"

// templateHash names a pod template: FNV-32a of its deterministic protobuf
// encoding (without the pod-template-hash label), salted with the
// Deployment's collision count, written in a safe alphabet. It is the
// pod-template-hash label of the template's ReplicaSet and pods and the
// suffix of the ReplicaSet's name.
func templateHash(t *shoalv1.PodTemplateSpec, collisionCount int32) string {
	b, _ := proto.MarshalOptions{Deterministic: true}.Marshal(rollout.StripHash(t))
	h := fnv.New32a()
	h.Write(b)
	if collisionCount != 0 {
		var salt [4]byte
		binary.LittleEndian.PutUint32(salt[:], uint32(collisionCount))
		h.Write(salt[:])
	}
	digits := []byte(strconv.FormatUint(uint64(h.Sum32()), 10))
	for i, c := range digits {
		digits[i] = safeAlphabet[int(c)%len(safeAlphabet)]
	}
	return string(digits)
}

// equalIgnoreHash reports whether two pod templates are the same apart
// from their pod-template-hash labels.
func equalIgnoreHash(a, b *shoalv1.PodTemplateSpec) bool {
	return proto.Equal(rollout.StripHash(a), rollout.StripHash(b))
}

// withHash returns a copy of t whose labels include pod-template-hash=hash.
func withHash(t *shoalv1.PodTemplateSpec, hash string) *shoalv1.PodTemplateSpec {
	out := &shoalv1.PodTemplateSpec{}
	if t != nil {
		out = proto.Clone(t).(*shoalv1.PodTemplateSpec)
	}
	if out.Metadata == nil {
		out.Metadata = &shoalv1.ObjectMeta{}
	}
	out.Metadata.Labels = maps.Clone(out.Metadata.Labels)
	if out.Metadata.Labels == nil {
		out.Metadata.Labels = map[string]string{}
	}
	out.Metadata.Labels[rollout.PodTemplateHashLabel] = hash
	return out
}

// selectorWithHash returns a copy of sel that also requires
// pod-template-hash=hash.
func selectorWithHash(sel *shoalv1.LabelSelector, hash string) *shoalv1.LabelSelector {
	out := &shoalv1.LabelSelector{}
	if sel != nil {
		out = proto.Clone(sel).(*shoalv1.LabelSelector)
	}
	out.MatchLabels = maps.Clone(out.MatchLabels)
	if out.MatchLabels == nil {
		out.MatchLabels = map[string]string{}
	}
	out.MatchLabels[rollout.PodTemplateHashLabel] = hash
	return out
}
