package supervisor

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"
)

func TestStartStop(t *testing.T) {
	s, err := New(t.TempDir(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	marker := t.TempDir() + "/ready"
	if err := s.Start(ctx, Process{Name: "polite", Path: "sh", Args: []string{"-c", "touch " + marker + "; echo hello; exec sleep 100"},
		Ready: func(context.Context) error { _, err := os.Stat(marker); return err }}); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(ctx, Process{Name: "stubborn", Path: "sh", Args: []string{"-c", "trap '' TERM; while true; do sleep 0.1; done"}, StopGrace: 300 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	err = s.Start(ctx, Process{Name: "crashes", Path: "sh", Args: []string{"-c", "exit 3"}, Ready: func(context.Context) error { return errors.New("never") }})
	if err == nil || !strings.Contains(err.Error(), "exited") {
		t.Fatalf("a process that dies before it is ready: %v", err)
	}
	err = s.Stop()
	if err == nil || !strings.Contains(err.Error(), "stubborn") {
		t.Fatalf("Stop must report the process it had to kill: %v", err)
	}
	if len(s.Exited()) != 0 {
		t.Fatal("stopped processes are forgotten")
	}
	out, _ := os.ReadFile(s.LogPath("polite"))
	if !strings.Contains(string(out), "hello") {
		t.Fatalf("log file: %q", out)
	}
}
