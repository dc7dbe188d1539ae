package conditions

import (
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
)

func TestSet(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	orig := []*shoalv1.Condition{
		{Type: "PodScheduled", Status: True, LastTransitionTime: timestamppb.New(t0)},
		{Type: "Ready", Status: True, LastTransitionTime: timestamppb.New(t0)},
	}
	keep := proto.Clone(orig[1]).(*shoalv1.Condition)

	same := Set(orig, &shoalv1.Condition{Type: "Ready", Status: True, Reason: "Again"}, t0.Add(time.Hour))
	if !Get(same, "Ready").GetLastTransitionTime().AsTime().Equal(t0) || Get(same, "Ready").GetReason() != "Again" {
		t.Fatalf("unchanged status keeps its transition time: %v", Get(same, "Ready"))
	}
	flipped := Set(orig, &shoalv1.Condition{Type: "Ready", Status: False}, t0.Add(time.Hour))
	if !Get(flipped, "Ready").GetLastTransitionTime().AsTime().Equal(t0.Add(time.Hour)) || IsTrue(flipped, "Ready") {
		t.Fatalf("a flip moves the transition time: %v", Get(flipped, "Ready"))
	}
	added := Set(orig, &shoalv1.Condition{Type: "ContainersReady", Status: True}, t0)
	if len(added) != 3 || len(orig) != 2 {
		t.Fatalf("added %d, orig %d", len(added), len(orig))
	}
	if !proto.Equal(orig[1], keep) {
		t.Fatal("Set modified its input")
	}
	if r := Remove(orig, "Ready"); len(r) != 1 || Get(r, "Ready") != nil || len(orig) != 2 {
		t.Fatalf("Remove: %v", r)
	}
}
