package gatewaybench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/shoalmesh/shoal/internal/freeport"
	"github.com/shoalmesh/shoal/sdk/go/client"
)

// gatewayProcess is an apigateway subprocess with its own embedded etcd and
// data directory. Only the process it started is ever signalled.
type gatewayProcess struct {
	cmd     *exec.Cmd
	dir     string
	logPath string
	addr    string // gRPC
	etcdURL string // the embedded etcd's client URL
	exited  chan struct{}
	waitErr error
}

// startGateway starts bin on free loopback ports and a fresh temporary
// data directory, and returns once its gRPC health reports SERVING.
func startGateway(ctx context.Context, bin string, extraArgs []string, timeout time.Duration) (*gatewayProcess, error) {
	abs, err := filepath.Abs(bin)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(abs); err != nil {
		return nil, fmt.Errorf("gatewaybench: apigateway binary: %w (run make build first)", err)
	}
	ports, err := freeport.Ports(3)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "shoal-bench-")
	if err != nil {
		return nil, err
	}
	p := &gatewayProcess{
		dir:     dir,
		logPath: filepath.Join(dir, "apigateway.log"),
		addr:    fmt.Sprintf("127.0.0.1:%d", ports[0]),
		etcdURL: fmt.Sprintf("http://127.0.0.1:%d", ports[1]),
		exited:  make(chan struct{}),
	}
	logFile, err := os.Create(p.logPath)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	defer logFile.Close() // the child holds its own descriptor
	args := []string{
		"--listen", p.addr,
		"--etcd-client-url", p.etcdURL,
		"--etcd-peer-url", fmt.Sprintf("http://127.0.0.1:%d", ports[2]),
		"--etcd-data-dir", filepath.Join(dir, "etcd"),
		"--metrics-addr", "",
	}
	// Extra flags come last so they win (e.g. a metrics address with
	// --enable-pprof to profile the gateway under load).
	p.cmd = exec.Command(abs, append(args, extraArgs...)...)
	p.cmd.Env = gatewayEnv(os.Environ())
	p.cmd.Stdout, p.cmd.Stderr = logFile, logFile
	if err := p.cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("gatewaybench: starting %s: %w", abs, err)
	}
	go func() {
		p.waitErr = p.cmd.Wait()
		close(p.exited)
	}()
	if err := p.waitServing(ctx, timeout); err != nil {
		p.stop()
		return nil, fmt.Errorf("%w\n--- apigateway log (tail) ---\n%s", err, p.logTail(2000))
	}
	return p, nil
}

// gatewayEnv drops the gateway's own SHOAL_APIGATEWAY_* variables from env:
// they would change flags the benchmark does not set (a token file would
// turn authentication on), and the benchmark must run one known setup.
func gatewayEnv(env []string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		if !strings.HasPrefix(kv, "SHOAL_APIGATEWAY_") {
			out = append(out, kv)
		}
	}
	return out
}

// waitServing polls grpc.health.v1 until SERVING, the process exits, or
// timeout passes.
func (p *gatewayProcess) waitServing(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	conn, err := client.Dial(ctx, p.addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	hc := healthpb.NewHealthClient(conn)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		callCtx, callCancel := context.WithTimeout(ctx, time.Second)
		resp, err := hc.Check(callCtx, &healthpb.HealthCheckRequest{})
		callCancel()
		if err == nil && resp.GetStatus() == healthpb.HealthCheckResponse_SERVING {
			return nil
		}
		select {
		case <-p.exited:
			return fmt.Errorf("gatewaybench: apigateway exited before serving: %v", p.waitErr)
		case <-ctx.Done():
			return fmt.Errorf("gatewaybench: apigateway not serving after %v (last check: %v)", timeout, err)
		case <-tick.C:
		}
	}
}

// pid is the subprocess's process id.
func (p *gatewayProcess) pid() int { return p.cmd.Process.Pid }

// stop sends SIGTERM, waits for the graceful drain, kills the process if it
// outlives the drain bound, and removes the data directory.
func (p *gatewayProcess) stop() error {
	defer os.RemoveAll(p.dir)
	select {
	case <-p.exited:
		return p.exitErr()
	default:
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	// The gateway drains in-flight calls for up to 10s by default.
	select {
	case <-p.exited:
		return p.exitErr()
	case <-time.After(20 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
		return errors.New("gatewaybench: apigateway ignored SIGTERM for 20s; killed")
	}
}

// exitErr is nil when the gateway exited with status 0 (a clean drain).
func (p *gatewayProcess) exitErr() error {
	if p.waitErr != nil {
		return fmt.Errorf("gatewaybench: apigateway: %w", p.waitErr)
	}
	return nil
}

// logTail is the end of the gateway's log, for error messages.
func (p *gatewayProcess) logTail(n int64) string {
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return err.Error()
	}
	if int64(len(b)) > n {
		b = b[int64(len(b))-n:]
	}
	return string(b)
}
