package informer

import (
	"context"
	"fmt"
	"slices"
	"testing"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/sdk/go/kinds"
)

func podAt(name, rv string) *shoalv1.Pod {
	p := pod("default", name, "n1")
	p.Metadata.ResourceVersion = rv
	return p
}

// drain returns the pending notifications as recorder lines.
func drain(inf *podInformer) []string {
	inf.notes.mu.Lock()
	defer inf.notes.mu.Unlock()
	var out []string
	for _, n := range inf.notes.pending {
		rv := n.obj.GetMetadata().GetResourceVersion()
		switch n.kind {
		case noteAdd:
			out = append(out, fmt.Sprintf("add %s@%s", kinds.Key(n.obj), rv))
		case noteUpdate:
			out = append(out, fmt.Sprintf("update %s@%s->%s", kinds.Key(n.obj), n.old.GetMetadata().GetResourceVersion(), rv))
		case noteDelete:
			out = append(out, fmt.Sprintf("delete %s@%s", kinds.Key(n.obj), rv))
		}
	}
	inf.notes.pending = nil
	return out
}

func TestApplyNeverGoesBack(t *testing.T) {
	tests := []struct {
		name      string
		ev        podEvent
		wantNotes []string
		wantRV    string // of default/a in the store; "" = absent
		wantLast  string
	}{
		{name: "older modify", ev: podEvent{Type: modified, Object: podAt("a", "4")}, wantRV: "5", wantLast: "5"},
		{name: "duplicate modify", ev: podEvent{Type: modified, Object: podAt("a", "5")}, wantRV: "5", wantLast: "5"},
		{name: "older add", ev: podEvent{Type: added, Object: podAt("a", "3")}, wantRV: "5", wantLast: "5"},
		{name: "newer modify", ev: podEvent{Type: modified, Object: podAt("a", "6")},
			wantNotes: []string{"update default/a@5->6"}, wantRV: "6", wantLast: "6"},
		{name: "add of a cached object is an update", ev: podEvent{Type: added, Object: podAt("a", "7")},
			wantNotes: []string{"update default/a@5->7"}, wantRV: "7", wantLast: "7"},
		{name: "modify of an unknown object is an add", ev: podEvent{Type: modified, Object: podAt("b", "6")},
			wantNotes: []string{"add default/b@6"}, wantRV: "5", wantLast: "6"},
		{name: "older delete", ev: podEvent{Type: deleted, Object: podAt("a", "4")}, wantRV: "5", wantLast: "5"},
		{name: "delete with the stored version", ev: podEvent{Type: deleted, Object: podAt("a", "5")},
			wantNotes: []string{"delete default/a@5"}, wantLast: "5"},
		{name: "delete at a newer version", ev: podEvent{Type: deleted, Object: podAt("a", "8")},
			wantNotes: []string{"delete default/a@8"}, wantLast: "8"},
		{name: "delete of an unknown object", ev: podEvent{Type: deleted, Object: podAt("b", "9")}, wantRV: "5", wantLast: "9"},
		{name: "bookmark", ev: podEvent{Type: bookmark, Object: &shoalv1.Pod{Metadata: &shoalv1.ObjectMeta{ResourceVersion: "9"}}},
			wantRV: "5", wantLast: "9"},
		{name: "unknown type", ev: podEvent{Type: shoalv1.WatchEventType_WATCH_EVENT_TYPE_UNSPECIFIED, Object: podAt("a", "9")},
			wantRV: "5", wantLast: "5"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			inf := New[*shoalv1.Pod](newFakeServer())
			inf.replace([]*shoalv1.Pod{podAt("a", "5")}, "5")
			drain(inf)

			inf.apply(context.Background(), tc.ev)

			if got := drain(inf); !slices.Equal(got, tc.wantNotes) {
				t.Errorf("notifications = %q, want %q", got, tc.wantNotes)
			}
			got, ok := inf.Get("default/a")
			switch {
			case tc.wantRV == "" && ok:
				t.Errorf("default/a still cached at %s", got.GetMetadata().GetResourceVersion())
			case tc.wantRV != "" && got.GetMetadata().GetResourceVersion() != tc.wantRV:
				t.Errorf("default/a cached at %q, want %q", got.GetMetadata().GetResourceVersion(), tc.wantRV)
			}
			if last := inf.LastSyncResourceVersion(); last != tc.wantLast {
				t.Errorf("LastSyncResourceVersion = %q, want %q", last, tc.wantLast)
			}
		})
	}
}

func TestReplaceDiffs(t *testing.T) {
	inf := New[*shoalv1.Pod](newFakeServer())
	inf.replace([]*shoalv1.Pod{podAt("a", "1"), podAt("b", "2"), podAt("c", "3")}, "3")
	if got := drain(inf); !slices.Equal(got, []string{"add default/a@1", "add default/b@2", "add default/c@3"}) {
		t.Fatalf("first list notifications = %q", got)
	}
	// b changed, c unchanged, a vanished, d appeared.
	inf.replace([]*shoalv1.Pod{podAt("b", "5"), podAt("c", "3"), podAt("d", "6")}, "6")
	if got := drain(inf); !slices.Equal(got, []string{"update default/b@2->5", "add default/d@6", "delete default/a@1"}) {
		t.Errorf("relist notifications = %q", got)
	}
	if got := slices.Sorted(slices.Values(inf.Keys())); !slices.Equal(got, []string{"default/b", "default/c", "default/d"}) {
		t.Errorf("Keys = %q", got)
	}
	if got := inf.LastSyncResourceVersion(); got != "6" {
		t.Errorf("LastSyncResourceVersion = %q, want 6", got)
	}
	// A list older than a cached object does not take it back.
	inf.replace([]*shoalv1.Pod{podAt("b", "4"), podAt("c", "3"), podAt("d", "6")}, "6")
	if got := drain(inf); len(got) != 0 {
		t.Errorf("lagging list notifications = %q, want none", got)
	}
	if p, _ := inf.Get("default/b"); p.GetMetadata().GetResourceVersion() != "5" {
		t.Errorf("default/b went back to %s", p.GetMetadata().GetResourceVersion())
	}
}
