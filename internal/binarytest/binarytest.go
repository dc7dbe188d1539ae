// Package binarytest runs real binaries from tests: the Shoal services'
// own main_test.go (build the binary, run it with flags and environment,
// wait for health, SIGTERM, a clean exit) and the tests that start
// third-party servers beside them (Prometheus, the OpenTelemetry
// Collector). It exists so that every such test starts, watches and stops
// a process the same way instead of each carrying its own copy:
//
//	bin := binarytest.Build(t, ".")[0]
//	binarytest.Help(t, bin, "-listen", "SHOAL_X_LISTEN")
//	cmd := exec.Command(bin, "--listen", addr)
//	cmd.Env = append(os.Environ(), "SHOAL_X_METRICS_ADDR="+metrics)
//	p := binarytest.Start(t, cmd)
//	p.WaitServing(t, ctx, conn)
//	... service-specific assertions ...
//	p.Stop(t) // SIGTERM, then a zero exit within StopGrace
//
// A process's stdout and stderr go to a file; when the test fails, the end
// of it is logged. Only the process Start started is ever signalled, by
// its PID: SIGTERM when the test ends, SIGKILL if it has not exited
// StopGrace later.
package binarytest

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// StopGrace is how long a process has to exit after SIGTERM: the drain
// bound of every Shoal service, with room to spare.
const StopGrace = 30 * time.Second

// logTail is how much of a process's output a failed test shows.
const logTail = 8000

// pollInterval is how often the Wait methods and Metrics look again.
const pollInterval = 100 * time.Millisecond

// metricsWait bounds how long Metrics waits for what it wants.
const metricsWait = 10 * time.Second

// Build compiles the main packages pkgs, named as go build takes them
// relative to the test's directory ("." or "../../services/xds"), into a
// temporary directory with one go build, and returns each binary's path in
// the order of pkgs.
func Build(t testing.TB, pkgs ...string) []string {
	t.Helper()
	dir := t.TempDir()
	out := make([]string, len(pkgs))
	for i, pkg := range pkgs {
		abs, err := filepath.Abs(pkg)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = filepath.Join(dir, filepath.Base(abs))
	}
	args := append([]string{"build", "-o", dir + string(filepath.Separator)}, pkgs...)
	if b, err := exec.Command("go", args...).CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, b)
	}
	return out
}

// Help runs bin --help, which must exit 0, and fails the test for every
// string of want its output lacks (flag names, environment variables).
func Help(t testing.TB, bin string, want ...string) {
	t.Helper()
	out, err := exec.Command(bin, "--help").CombinedOutput()
	if err != nil {
		t.Fatalf("%s --help: %v\n%s", filepath.Base(bin), err, out)
	}
	for _, w := range want {
		if !strings.Contains(string(out), w) {
			t.Errorf("%s --help lacks %q", filepath.Base(bin), w)
		}
	}
}

// Process is a binary a test started.
type Process struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	exited  chan struct{}
	err     error // cmd.Wait's result, set before exited is closed
}

// Start starts cmd (its Stdout and Stderr are replaced by a log file) and
// stops it when the test ends: SIGTERM, then SIGKILL after StopGrace.
func Start(t testing.TB, cmd *exec.Cmd) *Process {
	t.Helper()
	p := &Process{
		name:    filepath.Base(cmd.Path),
		cmd:     cmd,
		logPath: filepath.Join(t.TempDir(), filepath.Base(cmd.Path)+".log"),
		exited:  make(chan struct{}),
	}
	out, err := os.Create(p.logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		out.Close()
		t.Fatalf("starting %s: %v", p.name, err)
	}
	go func() {
		p.err = cmd.Wait()
		out.Close()
		close(p.exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(StopGrace):
			_ = cmd.Process.Kill()
			<-p.exited
		}
		if t.Failed() {
			t.Logf("%s output (tail):\n%s", p.name, p.tail())
		}
	})
	return p
}

// Exited is closed once the process has exited.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// Logs returns everything the process has written so far.
func (p *Process) Logs() string {
	b, _ := os.ReadFile(p.logPath)
	return string(b)
}

func (p *Process) tail() string { return Tail([]byte(p.Logs()), logTail) }

// Terminate sends the process SIGTERM.
func (p *Process) Terminate(t testing.TB) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM to %s: %v", p.name, err)
	}
}

// WaitExit fails the test unless the process exits with status 0 within
// StopGrace.
func (p *Process) WaitExit(t testing.TB) {
	t.Helper()
	select {
	case <-p.exited:
		if p.err != nil {
			t.Fatalf("%s exited: %v", p.name, p.err)
		}
	case <-time.After(StopGrace):
		t.Fatalf("%s did not exit within %v", p.name, StopGrace)
	}
}

// Stop is Terminate, then WaitExit: the drain of a SIGTERM must end in a
// clean exit.
func (p *Process) Stop(t testing.TB) {
	t.Helper()
	p.Terminate(t)
	p.WaitExit(t)
}

// WaitServing polls grpc.health.v1 on conn until each of services ("" or
// none: the whole server) is SERVING, in order. It fails the test if the
// process exits or ctx ends first.
func (p *Process) WaitServing(t testing.TB, ctx context.Context, conn grpc.ClientConnInterface, services ...string) {
	t.Helper()
	if len(services) == 0 {
		services = []string{""}
	}
	hc := healthpb.NewHealthClient(conn)
	for _, service := range services {
		for {
			cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			resp, err := hc.Check(cctx, &healthpb.HealthCheckRequest{Service: service})
			cancel()
			if err == nil && resp.GetStatus() == healthpb.HealthCheckResponse_SERVING {
				break
			}
			select {
			case <-p.exited:
				t.Fatalf("%s exited before health %q was SERVING: %v", p.name, service, p.err)
			case <-ctx.Done():
				t.Fatalf("%s: health %q never SERVING: %v", p.name, service, err)
			case <-time.After(pollInterval):
			}
		}
	}
}

// Metrics fetches http://addr/metrics until it holds every string of want
// or metricsWait has passed, fails the test for each it still lacks, and
// returns the last exposition. It polls because a service counts an action
// after its effect is visible: the scheduler's bind lands in the gateway,
// where the test sees it, before the scheduler records it.
func Metrics(t testing.TB, addr string, want ...string) string {
	t.Helper()
	c := http.Client{Timeout: 10 * time.Second}
	var (
		body    string
		missing []string
	)
	for deadline := time.Now().Add(metricsWait); ; time.Sleep(pollInterval) {
		resp, err := c.Get("http://" + addr + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		body, missing = string(b), nil
		for _, w := range want {
			if !strings.Contains(body, w) {
				missing = append(missing, w)
			}
		}
		if len(missing) == 0 || time.Now().After(deadline) {
			break
		}
	}
	for _, w := range missing {
		t.Errorf("metrics at %s lack %s", addr, w)
	}
	return body
}

// Tail returns the last n bytes of b, trimmed of surrounding white space:
// the end of a log worth showing in a failure.
func Tail(b []byte, n int) string {
	b = bytes.TrimSpace(b)
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}
