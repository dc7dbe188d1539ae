package schedulerbench

import (
	"context"
	"testing"
	"time"
)

// TestRunSmall runs the whole benchmark at a toy size: every pod is bound,
// and the report renders.
func TestRunSmall(t *testing.T) {
	cfg := NewConfig()
	cfg.Sizes = []Size{{Nodes: 20, Pods: 100}}
	cfg.EtcdTxnDuration = 200 * time.Millisecond
	cfg.EtcdNoFsync = true
	cfg.Timeout = time.Minute
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	run := res.Runs[0]
	if run.Latency.N != 100 || run.PodsPerSec <= 0 || run.EtcdTxnPerSec <= 0 {
		t.Errorf("result %+v", run)
	}
	if run.Attempts["scheduled"] != 100 {
		t.Errorf("scheduler bound %v pods, want 100", run.Attempts["scheduled"])
	}
	t.Logf("\n%s", res.Markdown())
}

func TestParseSizes(t *testing.T) {
	got, err := ParseSizes("1000x5000, 5000x10000")
	if err != nil || len(got) != 2 || got[1] != (Size{Nodes: 5000, Pods: 10000}) {
		t.Errorf("ParseSizes = %v, %v", got, err)
	}
	for _, bad := range []string{"", "10", "x5", "0x1", "ax1"} {
		if _, err := ParseSizes(bad); err == nil {
			t.Errorf("ParseSizes(%q) accepted", bad)
		}
	}
}
