package gatewaybench

import (
	"errors"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/services/apigateway/gatewaytest"
)

// TestParseFrame checks that reading the three fields in place agrees with
// a full decode of the same event.
func TestParseFrame(t *testing.T) {
	stamped := func(name, stamp string) *shoalv1.Pod {
		p := gatewaytest.Pod(watchNS, name, map[string]string{"app": "bench", writtenAtAnnotation: "label, not annotation"})
		p.Metadata.Annotations = map[string]string{"other": "x", writtenAtAnnotation: stamp, "z": "y"}
		p.Metadata.ResourceVersion = "42"
		p.Metadata.CreationTimestamp = timestamppb.Now()
		p.Status = &shoalv1.PodStatus{Phase: shoalv1.PodPhase_POD_PHASE_PENDING}
		return p
	}
	tests := []struct {
		name string
		ev   *shoalv1.WatchPodsResponse
	}{
		{"added with stamp", &shoalv1.WatchPodsResponse{Type: shoalv1.WatchEventType_WATCH_EVENT_TYPE_ADDED, Pod: stamped("event-3", "1700000000123456789")}},
		{"modified", &shoalv1.WatchPodsResponse{Type: shoalv1.WatchEventType_WATCH_EVENT_TYPE_MODIFIED, Pod: stamped("sync", "5")}},
		{"no annotations", &shoalv1.WatchPodsResponse{Type: shoalv1.WatchEventType_WATCH_EVENT_TYPE_ADDED, Pod: gatewaytest.Pod(watchNS, "plain", nil)}},
		{"bookmark", &shoalv1.WatchPodsResponse{Type: shoalv1.WatchEventType_WATCH_EVENT_TYPE_BOOKMARK, Pod: &shoalv1.Pod{Metadata: &shoalv1.ObjectMeta{ResourceVersion: "7"}}}},
		{"empty", &shoalv1.WatchPodsResponse{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := proto.Marshal(tc.ev)
			if err != nil {
				t.Fatal(err)
			}
			got, err := parseFrame(b, writtenAtAnnotation)
			if err != nil {
				t.Fatalf("parseFrame: %v", err)
			}
			var full shoalv1.WatchPodsResponse
			if err := proto.Unmarshal(b, &full); err != nil {
				t.Fatal(err)
			}
			stamp, has := full.GetPod().GetMetadata().GetAnnotations()[writtenAtAnnotation]
			want := podEvent{Type: full.GetType(), Name: full.GetPod().GetMetadata().GetName(), Annotation: stamp, HasAnnotation: has}
			if got != want {
				t.Errorf("parseFrame = %+v, full decode says %+v", got, want)
			}
		})
	}
}

func TestParseFrameMalformed(t *testing.T) {
	good, err := proto.Marshal(&shoalv1.WatchPodsResponse{Type: shoalv1.WatchEventType_WATCH_EVENT_TYPE_ADDED, Pod: gatewaytest.Pod(watchNS, "p", nil)})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range [][]byte{good[:len(good)-1], {0x12, 0x05, 0x0a}, {0xff}} {
		if _, err := parseFrame(b, writtenAtAnnotation); !errors.Is(err, errMalformed) {
			t.Errorf("parseFrame(%x) = %v, want errMalformed", b, err)
		}
	}
}
