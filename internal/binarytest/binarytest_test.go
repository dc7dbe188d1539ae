package binarytest

import (
	"os/exec"
	"strings"
	"testing"
	"time"
)

// A shell that exits 0 on SIGTERM stands for a service that drains.
const drains = `trap 'echo draining; exit 0' TERM; echo started; while :; do sleep 0.05; done`

func TestStartStop(t *testing.T) {
	p := Start(t, exec.Command("sh", "-c", drains))
	for !strings.Contains(p.Logs(), "started") {
		select {
		case <-p.Exited():
			t.Fatalf("exited early: %s", p.Logs())
		case <-time.After(10 * time.Millisecond):
		}
	}
	p.Stop(t)
	if !strings.Contains(p.Logs(), "draining") {
		t.Errorf("logs lack the drain: %q", p.Logs())
	}
}

func TestTail(t *testing.T) {
	if got := Tail([]byte("  one\ntwo\nthree \n"), 5); got != "three" {
		t.Errorf("Tail = %q, want %q", got, "three")
	}
	if got := Tail([]byte("ab\n"), 10); got != "ab" {
		t.Errorf("Tail = %q, want %q", got, "ab")
	}
}
