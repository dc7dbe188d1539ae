package controllerbench

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

	"github.com/shoalmesh/shoal/sdk/go/client"
)

// process is a service binary run as a subprocess with its log in a file.
// Only the process it started is ever signalled.
type process struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	exited  chan struct{}
	waitErr error
}

// start runs bin with args, its environment free of SHOAL_* variables
// (they would change flags the benchmark sets).
func start(name, bin string, dir string, args ...string) (*process, error) {
	abs, err := filepath.Abs(bin)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(abs); err != nil {
		return nil, fmt.Errorf("controllerbench: %s binary: %w (build it: go build -o bin/ ./services/%s)", name, err, name)
	}
	p := &process{name: name, logPath: filepath.Join(dir, name+".log"), exited: make(chan struct{})}
	logFile, err := os.Create(p.logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close() // the child holds its own descriptor
	p.cmd = exec.Command(abs, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SHOAL_") {
			p.cmd.Env = append(p.cmd.Env, kv)
		}
	}
	p.cmd.Stdout, p.cmd.Stderr = logFile, logFile
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("controllerbench: starting %s: %w", abs, err)
	}
	go func() {
		p.waitErr = p.cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

func (p *process) pid() int { return p.cmd.Process.Pid }

// waitHealthy polls grpc.health.v1 at addr for service until SERVING.
func (p *process) waitHealthy(ctx context.Context, addr, service string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	conn, err := client.Dial(ctx, addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	hc := healthpb.NewHealthClient(conn)
	for {
		callCtx, callCancel := context.WithTimeout(ctx, time.Second)
		resp, err := hc.Check(callCtx, &healthpb.HealthCheckRequest{Service: service})
		callCancel()
		if err == nil && resp.GetStatus() == healthpb.HealthCheckResponse_SERVING {
			return nil
		}
		select {
		case <-p.exited:
			return fmt.Errorf("controllerbench: %s exited before serving: %v\n%s", p.name, p.waitErr, p.logTail(2000))
		case <-ctx.Done():
			return fmt.Errorf("controllerbench: %s not serving after %v (last check: %v)\n%s", p.name, timeout, err, p.logTail(2000))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// stop sends SIGTERM, waits for a graceful exit, and kills the process if
// it outlives the bound.
func (p *process) stop() error {
	select {
	case <-p.exited:
		return p.exitErr()
	default:
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	select {
	case <-p.exited:
		return p.exitErr()
	case <-time.After(20 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
		return fmt.Errorf("controllerbench: %s ignored SIGTERM for 20s and was killed", p.name)
	}
}

func (p *process) exitErr() error {
	if p.waitErr != nil {
		return fmt.Errorf("controllerbench: %s exited: %w\n%s", p.name, p.waitErr, p.logTail(2000))
	}
	return nil
}

func (p *process) logTail(n int) string {
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return ""
	}
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}
