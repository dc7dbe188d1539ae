package xdsbench

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"
)

// TestRunSmall runs the whole benchmark with a few streams: both servers
// converge every change (SHOAL_XDSBENCH_STREAMS raises the count; the
// Markdown goes to SHOAL_XDSBENCH_OUT when set, CPU profiles of the change
// phase to the directory SHOAL_XDSBENCH_PROFILE; SHOAL_XDSBENCH_XDS_BIN and
// SHOAL_XDSBENCH_BARE_BIN, both set, replace the binaries built from this
// tree, e.g. to compare two commits).
func TestRunSmall(t *testing.T) {
	cfg := NewConfig()
	cfg.Streams, cfg.Changes, cfg.Timeout = 5, 2, time.Minute
	if s := os.Getenv("SHOAL_XDSBENCH_STREAMS"); s != "" {
		cfg.Streams, _ = strconv.Atoi(s)
		cfg.Changes, cfg.Timeout = 5, 5*time.Minute
	}
	cfg.ProfileDir = os.Getenv("SHOAL_XDSBENCH_PROFILE")
	cfg.XDSBin, cfg.BareBin = os.Getenv("SHOAL_XDSBENCH_XDS_BIN"), os.Getenv("SHOAL_XDSBENCH_BARE_BIN")
	if err := os.Chdir("../../.."); err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), cfg, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []ServerResult{res.Bare, res.XDS} {
		if len(s.Ack) != cfg.Streams*cfg.Changes || len(s.Client) != cfg.Streams*cfg.Changes {
			t.Errorf("%s: %d acks, %d client switches, want %d each", s.Name, len(s.Ack), len(s.Client), cfg.Streams*cfg.Changes)
		}
	}
	md := res.Markdown()
	if out := os.Getenv("SHOAL_XDSBENCH_OUT"); out != "" {
		if err := os.WriteFile(out, md, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("\n%s", md)
}
