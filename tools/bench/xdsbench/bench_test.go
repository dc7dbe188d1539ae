package xdsbench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMain makes the test binary a client process when Run starts it as
// one (`xdsbench.test xds-clients ...`), as the bench command does.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == ClientsCommand {
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
		err := ClientsMain(ctx, os.Args[2:], os.Stdin, os.Stdout)
		stop()
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", ClientsCommand, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestSplit(t *testing.T) {
	tests := []struct {
		name                 string
		n, k                 int
		wantFirst, wantCount []int
	}{
		{name: "one process", n: 1000, k: 1, wantFirst: []int{0}, wantCount: []int{1000}},
		{name: "even", n: 1000, k: 4, wantFirst: []int{0, 250, 500, 750}, wantCount: []int{250, 250, 250, 250}},
		{name: "uneven", n: 5, k: 2, wantFirst: []int{0, 2}, wantCount: []int{2, 3}},
		{name: "one each", n: 3, k: 3, wantFirst: []int{0, 1, 2}, wantCount: []int{1, 1, 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			first, count := split(tc.n, tc.k)
			if !slices.Equal(first, tc.wantFirst) || !slices.Equal(count, tc.wantCount) {
				t.Errorf("split(%d, %d) = %v, %v; want %v, %v", tc.n, tc.k, first, count, tc.wantFirst, tc.wantCount)
			}
		})
	}
}

// TestRunSmall runs the whole benchmark with a few streams in two client
// processes per server (this test binary, re-executed): both servers
// converge every change, every process writes its profiles of the change
// phase, and every client process exits cleanly when Run ends.
// SHOAL_XDSBENCH_STREAMS raises the count, SHOAL_XDSBENCH_PROCS sets the
// processes, the Markdown goes to SHOAL_XDSBENCH_OUT when set and the
// profiles to the directory SHOAL_XDSBENCH_PROFILE (else to a temporary
// one, checked); SHOAL_XDSBENCH_XDS_BIN and SHOAL_XDSBENCH_BARE_BIN, both
// set, replace the binaries built from this tree, e.g. to compare two
// commits.
func TestRunSmall(t *testing.T) {
	cfg := NewConfig()
	cfg.Streams, cfg.Changes, cfg.Timeout, cfg.ClientProcs = 5, 2, time.Minute, 2
	if s := os.Getenv("SHOAL_XDSBENCH_STREAMS"); s != "" {
		cfg.Streams, _ = strconv.Atoi(s)
		cfg.Changes, cfg.Timeout = 5, 5*time.Minute
	}
	if s := os.Getenv("SHOAL_XDSBENCH_PROCS"); s != "" {
		cfg.ClientProcs, _ = strconv.Atoi(s)
	}
	cfg.ProfileDir = os.Getenv("SHOAL_XDSBENCH_PROFILE")
	checkProfiles := cfg.ProfileDir == ""
	if checkProfiles {
		cfg.ProfileDir = t.TempDir()
	}
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
	if checkProfiles {
		want := []string{"bench.cpu.pprof"}
		for _, sd := range []string{"bare", "xds"} {
			want = append(want, sd+".cpu.pprof", sd+".allocs.pprof")
			for j := range cfg.ClientProcs {
				c := fmt.Sprintf("clients-%s-%d", sd, j)
				want = append(want, c+".cpu.pprof", c+".allocs.pprof", c+".allocs.pprof.start")
			}
		}
		for _, name := range want {
			fi, err := os.Stat(filepath.Join(cfg.ProfileDir, name))
			if err != nil {
				t.Errorf("profile %s: %v", name, err)
			} else if fi.Size() == 0 {
				t.Errorf("profile %s is empty", name)
			}
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

func TestProcsPhrase(t *testing.T) {
	tests := []struct {
		n, k int
		want string
	}{
		{n: 1000, k: 1, want: "1 process of 1000 clients"},
		{n: 1000, k: 8, want: "8 processes of 125 clients"},
		{n: 5, k: 2, want: "2 processes of 2-3 clients"},
	}
	for _, tc := range tests {
		if got := procsPhrase(tc.n, tc.k); got != tc.want {
			t.Errorf("procsPhrase(%d, %d) = %q, want %q", tc.n, tc.k, got, tc.want)
		}
	}
}

// TestStartClientsFails: client processes that cannot reach their server,
// or whose benchmark is cancelled while they wait for a server that never
// answers, make startClients fail, and stopClients leaves none of them
// running and none needing a SIGKILL.
func TestStartClientsFails(t *testing.T) {
	refused, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused.Close() // nothing listens here: every first call fails at once
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close() // accepts (the kernel's backlog) and never answers
	tests := []struct {
		name   string
		ads    string
		cancel bool // the benchmark is cancelled while waiting
	}{
		{name: "server unreachable", ads: refused.Addr().String()},
		{name: "cancelled", ads: silent.Addr().String(), cancel: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			cfg := Config{Streams: 3, ClientProcs: 2, Timeout: time.Minute}
			if tc.cancel {
				// The processes stay unready (their first calls wait a
				// minute for the silent server) until this cancels.
				go func() {
					time.Sleep(time.Second)
					cancel()
				}()
			}
			procs, err := startClients(ctx, cfg, &side{short: "xds", ads: tc.ads}, io.Discard)
			if err == nil {
				t.Fatal("startClients succeeded without a server")
			}
			if tc.cancel != errors.Is(err, context.Canceled) {
				t.Errorf("startClients: %v", err)
			}
			if len(procs) != 2 {
				t.Fatalf("%d processes started, want 2", len(procs))
			}
			if err := stopClients(procs); err != nil && strings.Contains(err.Error(), "killed") {
				t.Error(err)
			}
			for _, p := range procs {
				if p.cmd.ProcessState == nil {
					t.Errorf("client process %s (pid %d) not waited for", p.name, p.cmd.Process.Pid)
				}
			}
		})
	}
}
