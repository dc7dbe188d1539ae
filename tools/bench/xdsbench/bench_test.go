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
// Markdown goes to SHOAL_XDSBENCH_OUT when set).
func TestRunSmall(t *testing.T) {
	cfg := NewConfig()
	cfg.Streams, cfg.Changes, cfg.Timeout = 5, 2, time.Minute
	if s := os.Getenv("SHOAL_XDSBENCH_STREAMS"); s != "" {
		cfg.Streams, _ = strconv.Atoi(s)
		cfg.Changes, cfg.Timeout = 5, 5*time.Minute
	}
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
