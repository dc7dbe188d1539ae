package podlogs

import (
	"bufio"
	"context"
	"fmt"
	"github.com/shoalmesh/shoal/observability"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
)

func contents(lines []*shoalv1.LogLine) []string {
	var out []string
	for _, l := range lines {
		out = append(out, l.GetStream()+":"+string(l.GetContent()))
	}
	return out
}

func readAll(t *testing.T, path string, o ReadOptions) []string {
	t.Helper()
	var got []*shoalv1.LogLine
	if err := Read(context.Background(), path, o, func(ls []*shoalv1.LogLine) error { got = append(got, ls...); return nil }); err != nil {
		t.Fatal(err)
	}
	return contents(got)
}

func TestWriterFormatAndRead(t *testing.T) {
	path := filepath.Join(t.TempDir(), "0.log")
	w, err := Open(path, 1<<20, Meta{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprint(w.Stream("stdout"), "one\ntw")
	fmt.Fprint(w.Stream("stderr"), "err-line\n")
	fmt.Fprint(w.Stream("stdout"), "o\n")
	w.Close()
	raw, _ := os.ReadFile(path)
	first := strings.SplitN(string(raw), "\n", 2)[0]
	if f := strings.SplitN(first, " ", 4); len(f) != 4 || f[1] != "stdout" || f[2] != "F" || f[3] != "one" {
		t.Fatalf("CRI record = %q", first)
	}
	if _, err := time.Parse(time.RFC3339Nano, strings.Fields(first)[0]); err != nil {
		t.Fatalf("timestamp: %v", err)
	}
	tests := []struct {
		name string
		o    ReadOptions
		want []string
	}{
		{"all", ReadOptions{}, []string{"stdout:one", "stderr:err-line", "stdout:two"}},
		{"tail", ReadOptions{TailLines: ptr(int64(2))}, []string{"stderr:err-line", "stdout:two"}},
		{"tail0", ReadOptions{TailLines: ptr(int64(0))}, nil},
		{"since future", ReadOptions{Since: time.Now().Add(time.Hour)}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := readAll(t, path, tc.o); strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Errorf("got %q want %q", got, tc.want)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestRotationKeepsOneOldFileAndReadSpansBoth(t *testing.T) {
	path := filepath.Join(t.TempDir(), "0.log")
	w, err := Open(path, 300, Meta{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 30; i++ {
		fmt.Fprintf(w.Stream("stdout"), "line-%02d\n", i)
	}
	w.Close()
	if _, err := os.Stat(path + ".1"); err != nil {
		t.Fatalf("no rotated file: %v", err)
	}
	if fi, _ := os.Stat(path); fi.Size() > 300 {
		t.Errorf("current file is %d bytes, max 300", fi.Size())
	}
	got := readAll(t, path, ReadOptions{})
	if len(got) == 0 || got[len(got)-1] != "stdout:line-29" {
		t.Fatalf("got %q", got)
	}
	if len(got) >= 30 {
		t.Errorf("rotation kept everything (%d lines); only one old file should remain", len(got))
	}
}

func TestLongLinesAreSplitIntoPartials(t *testing.T) {
	path := filepath.Join(t.TempDir(), "0.log")
	w, _ := Open(path, 1<<20, Meta{}, nil)
	fmt.Fprint(w.Stream("stdout"), strings.Repeat("x", maxLine+10)+"\n")
	w.Close()
	raw, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	if len(lines) != 2 || strings.Fields(lines[0])[2] != "P" || strings.Fields(lines[1])[2] != "F" {
		t.Fatalf("records: %d, tags %q", len(lines), []string{strings.Fields(lines[0])[2]})
	}
}

func TestFollowSeesNewLinesAndStopsWhenDone(t *testing.T) {
	path := filepath.Join(t.TempDir(), "0.log")
	w, _ := Open(path, 200, Meta{}, nil)
	fmt.Fprint(w.Stream("stdout"), "before\n")
	var done sync.WaitGroup
	var mu sync.Mutex
	var got []string
	finished := make(chan struct{})
	var isDone bool
	done.Add(1)
	go func() {
		defer done.Done()
		_ = Read(context.Background(), path, ReadOptions{Follow: true, Poll: 10 * time.Millisecond,
			Done: func() bool { mu.Lock(); defer mu.Unlock(); return isDone }},
			func(ls []*shoalv1.LogLine) error {
				mu.Lock()
				got = append(got, contents(ls)...)
				mu.Unlock()
				return nil
			})
		close(finished)
	}()
	for i := 0; i < 10; i++ { // crosses rotations
		fmt.Fprintf(w.Stream("stdout"), "after-%d\n", i)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n > 0 && got[n-1] == "stdout:after-9" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("follow got %q", got)
		}
		time.Sleep(10 * time.Millisecond)
	}
	mu.Lock()
	isDone = true
	mu.Unlock()
	select {
	case <-finished:
	case <-time.After(10 * time.Second):
		t.Fatal("follow did not end once the container was done")
	}
	w.Close()
}

// A fake Fluentd: the forward protocol's msgpack carries the tag and the
// record's strings verbatim.
func TestFluentShipsTaggedRecords(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	recv := make(chan string, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		r := bufio.NewReader(c)
		var b strings.Builder
		buf := make([]byte, 4096)
		for !strings.Contains(b.String(), "hello-fluent") {
			n, err := r.Read(buf)
			b.Write(buf[:n])
			if err != nil {
				break
			}
		}
		recv <- b.String()
	}()
	sink, err := observability.NewFluentSink(l.Addr().String(), 100, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	f := NewFluent(sink)
	m := Meta{Namespace: "ns1", Pod: "web", Container: "app", Node: "node-a"}
	f.Ship(m, "stdout", time.Now(), []byte("hello-fluent"))
	select {
	case got := <-recv:
		for _, want := range []string{"shoal.pod.ns1.web.app", "namespace", "ns1", "node-a", "stdout", "hello-fluent", "container", "stream"} {
			if !strings.Contains(got, want) {
				t.Errorf("record lacks %q", want)
			}
		}
	case <-time.After(20 * time.Second):
		t.Fatal("nothing reached the fake Fluentd")
	}
}

func TestFluentNeverBlocksWhenUnreachable(t *testing.T) {
	sink, err := observability.NewFluentSink("127.0.0.1:1", 10, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	f := NewFluent(sink)
	done := make(chan struct{})
	go func() {
		for i := 0; i < 1000; i++ {
			f.Ship(Meta{Namespace: "a", Pod: "b", Container: "c"}, "stdout", time.Now(), []byte("x"))
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Ship blocked with Fluentd unreachable")
	}
	if f.Dropped() == 0 {
		t.Errorf("a 10-record buffer took 1000 records to an unreachable Fluentd without dropping any")
	}
}
