// Package supervisor runs the processes of a local Shoal cluster: each
// binary in its own process with its own log file, started in order, waited
// on until healthy, and stopped in reverse order (SIGTERM, then SIGKILL
// after a grace period) — only processes it started, by PID.
package supervisor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// Process describes one program to run.
type Process struct {
	Name string
	Path string
	Args []string
	Env  []string
	// Netns, when set, runs the process inside that named network
	// namespace (/run/netns/<Netns>, made by `ip netns add`), via nsenter
	// --net: unlike `ip netns exec`, the process keeps the host's mount
	// namespace, so mounts it makes (netns pins, volumes) are visible to
	// containerd and runc.
	Netns string
	// HealthAddr is a gRPC address serving grpc.health.v1; Start waits for
	// SERVING there. Empty: Ready (if set) decides, else running is enough.
	HealthAddr string
	// Ready is an extra readiness check (e.g. a socket file exists).
	Ready func(ctx context.Context) error
	// StopGrace is how long SIGTERM gets before SIGKILL (default 15s).
	StopGrace time.Duration
}

// Supervisor owns the processes it started.
type Supervisor struct {
	logDir string
	log    *slog.Logger

	mu      sync.Mutex
	running []*running
}

type running struct {
	p    Process
	cmd  *exec.Cmd
	done chan struct{}
	err  error
	logf *os.File
}

// New returns a supervisor writing one log file per process into logDir.
func New(logDir string, log *slog.Logger) (*Supervisor, error) {
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return nil, err
	}
	return &Supervisor{logDir: logDir, log: log}, nil
}

// LogPath is where a process's output goes.
func (s *Supervisor) LogPath(name string) string { return filepath.Join(s.logDir, name+".log") }

// Start runs p and waits until it is healthy (or fails, or ctx ends).
func (s *Supervisor) Start(ctx context.Context, p Process) error {
	logf, err := os.OpenFile(s.LogPath(p.Name), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	path, args := p.Path, p.Args
	if p.Netns != "" {
		path, args = "nsenter", append([]string{"--net=/run/netns/" + p.Netns, "--", p.Path}, p.Args...)
	}
	cmd := exec.Command(path, args...)
	cmd.Env = append(os.Environ(), p.Env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	// Own process group: a Ctrl-C at the terminal reaches the supervisor,
	// which then stops children in order, instead of all at once.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("supervisor: starting %s: %w", p.Name, err)
	}
	r := &running{p: p, cmd: cmd, done: make(chan struct{}), logf: logf}
	go func() {
		r.err = cmd.Wait()
		close(r.done)
	}()
	s.mu.Lock()
	s.running = append(s.running, r)
	s.mu.Unlock()
	s.log.Info("started", "process", p.Name, "pid", cmd.Process.Pid, "log", s.LogPath(p.Name))
	return s.waitReady(ctx, r)
}

func (s *Supervisor) waitReady(ctx context.Context, r *running) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	var conn *grpc.ClientConn
	if r.p.HealthAddr != "" {
		var err error
		if conn, err = grpc.NewClient(r.p.HealthAddr, grpc.WithTransportCredentials(insecure.NewCredentials())); err != nil {
			return err
		}
		defer conn.Close()
	}
	for {
		err := s.check(ctx, r, conn)
		if err == nil {
			return nil
		}
		select {
		case <-r.done:
			return fmt.Errorf("supervisor: %s exited (%v) before it was ready; see %s", r.p.Name, r.err, s.LogPath(r.p.Name))
		case <-ctx.Done():
			return fmt.Errorf("supervisor: %s not ready: %v; see %s", r.p.Name, err, s.LogPath(r.p.Name))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (s *Supervisor) check(ctx context.Context, r *running, conn *grpc.ClientConn) error {
	if conn != nil {
		cctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		resp, err := healthpb.NewHealthClient(conn).Check(cctx, &healthpb.HealthCheckRequest{})
		if err != nil {
			return err
		}
		if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			return fmt.Errorf("health %v", resp.GetStatus())
		}
	}
	if r.p.Ready != nil {
		return r.p.Ready(ctx)
	}
	return nil
}

// Exited reports processes that stopped on their own.
func (s *Supervisor) Exited() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, r := range s.running {
		select {
		case <-r.done:
			out = append(out, fmt.Sprintf("%s (%v)", r.p.Name, r.err))
		default:
		}
	}
	return out
}

// Stop stops every process, newest first, each with SIGTERM and then
// SIGKILL after its grace period.
func (s *Supervisor) Stop() error {
	s.mu.Lock()
	procs := s.running
	s.running = nil
	s.mu.Unlock()
	var errs []error
	for i := len(procs) - 1; i >= 0; i-- {
		if err := stop(procs[i]); err != nil {
			errs = append(errs, err)
		}
		s.log.Info("stopped", "process", procs[i].p.Name)
	}
	return errors.Join(errs...)
}

func stop(r *running) error {
	defer r.logf.Close()
	select {
	case <-r.done:
		return nil
	default:
	}
	grace := r.p.StopGrace
	if grace == 0 {
		grace = 15 * time.Second
	}
	_ = r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.done:
		return nil
	case <-time.After(grace):
	}
	_ = r.cmd.Process.Kill()
	<-r.done
	return fmt.Errorf("supervisor: %s did not stop within %s of SIGTERM and was killed", r.p.Name, grace)
}
