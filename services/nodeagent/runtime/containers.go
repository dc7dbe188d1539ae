package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/pkg/cio"
	"github.com/containerd/containerd/v2/pkg/oci"
	"github.com/containerd/errdefs"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Exit is how a task ended.
type Exit struct {
	Code     int
	ExitedAt time.Time
	Err      error
}

// Task is a running (or finished) container process the agent watches.
type Task struct {
	Container client.Container
	Task      client.Task
	// Exited is closed when the process has exited; Exit then tells how.
	Exited <-chan struct{}
	exit   Exit
}

// Exit is how the task ended; valid once Exited is closed.
func (t *Task) Exit() Exit { return t.exit }

// Pid is the task's process id on the host.
func (t *Task) Pid() uint32 { return t.Task.Pid() }

// Create makes a container from img with the given labels and spec options
// (after the image's config); its snapshot is named after the container.
func (r *Runtime) Create(ctx context.Context, id string, img client.Image, labels map[string]string, opts ...oci.SpecOpts) (client.Container, error) {
	p, err := r.Prepare(ctx, id, img, append([]oci.SpecOpts{oci.WithImageConfig(img)}, opts...)...)
	if err != nil {
		return nil, err
	}
	return r.Commit(ctx, p, labels)
}

// Start starts the container's task with stdout and stderr copied to the
// writers (nil discards), and returns it running.
func (r *Runtime) Start(ctx context.Context, c client.Container, stdout, stderr io.Writer) (*Task, error) {
	t, err := r.CreateTask(ctx, c, stdout, stderr)
	if err != nil {
		return nil, err
	}
	if err := r.StartTask(ctx, t); err != nil {
		return nil, err
	}
	return t, nil
}

// CreateTask creates the container's task (its process exists, in its
// namespaces, but has not run yet) with stdout and stderr copied to the
// writers (nil discards); StartTask runs it.
func (r *Runtime) CreateTask(ctx context.Context, c client.Container, stdout, stderr io.Writer) (*Task, error) {
	ctx = r.WithNamespace(ctx)
	creator := cio.NullIO
	if stdout != nil || stderr != nil {
		creator = cio.NewCreator(cio.WithStreams(nil, orDiscard(stdout), orDiscard(stderr)), cio.WithFIFODir(r.fifoDir))
	}
	task, err := c.NewTask(ctx, creator)
	if err != nil {
		return nil, fmt.Errorf("runtime: creating task %s: %w", c.ID(), err)
	}
	t, err := r.watch(ctx, c, task)
	if err != nil {
		r.deleteTask(ctx, task)
		return nil, err
	}
	return t, nil
}

// StartTask runs a task made by CreateTask; on failure the task is deleted.
func (r *Runtime) StartTask(ctx context.Context, t *Task) error {
	ctx = r.WithNamespace(ctx)
	if err := t.Task.Start(ctx); err != nil {
		r.deleteTask(ctx, t.Task)
		return fmt.Errorf("runtime: starting task %s: %w", t.Container.ID(), err)
	}
	return nil
}

// Attach re-attaches to the task of a container started by an earlier agent:
// its stdio FIFOs are reopened onto the writers. A task that has already
// exited is returned with its exit on Exited. ErrNoTask when there is none.
func (r *Runtime) Attach(ctx context.Context, c client.Container, stdout, stderr io.Writer) (*Task, error) {
	ctx = r.WithNamespace(ctx)
	task, err := c.Task(ctx, cio.NewAttach(cio.WithStreams(nil, orDiscard(stdout), orDiscard(stderr))))
	if errdefs.IsNotFound(err) {
		return nil, ErrNoTask
	}
	if err != nil {
		return nil, fmt.Errorf("runtime: attaching to %s: %w", c.ID(), err)
	}
	return r.watch(ctx, c, task)
}

// ErrNoTask means a container has no task.
var ErrNoTask = errors.New("runtime: container has no task")

// Created reports whether the task was created and never started (its
// creator stopped in between).
func (r *Runtime) Created(ctx context.Context, t *Task) bool {
	st, err := t.Task.Status(r.WithNamespace(ctx))
	return err == nil && st.Status == client.Created
}

func (r *Runtime) watch(ctx context.Context, c client.Container, task client.Task) (*Task, error) {
	// Wait before Start, or a fast exit is missed.
	wait, err := task.Wait(context.WithoutCancel(ctx))
	if err != nil {
		return nil, fmt.Errorf("runtime: waiting on %s: %w", c.ID(), err)
	}
	out := make(chan struct{})
	t := &Task{Container: c, Task: task, Exited: out}
	go func() {
		defer close(out)
		st := <-wait
		code, at, err := st.Result()
		if tio := task.IO(); tio != nil {
			// Drain what the process wrote before reporting its exit.
			done := make(chan struct{})
			go func() { tio.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(2 * time.Second):
			}
		}
		t.exit = Exit{Code: int(code), ExitedAt: at, Err: err}
	}()
	return t, nil
}

// Kill signals the task; a task already gone is not an error.
func (r *Runtime) Kill(ctx context.Context, t client.Task, sig syscall.Signal) error {
	err := t.Kill(r.WithNamespace(ctx), sig)
	if err != nil && !errdefs.IsNotFound(err) && !errdefs.IsFailedPrecondition(err) {
		return fmt.Errorf("runtime: kill %s: %w", t.ID(), err)
	}
	return nil
}

// Stop sends SIGTERM, waits up to grace for exited to fire, then SIGKILLs
// and waits again (bounded).
func (r *Runtime) Stop(ctx context.Context, t *Task, grace time.Duration) {
	if t == nil {
		return
	}
	select {
	case <-t.Exited:
		return
	default:
	}
	if grace > 0 {
		_ = r.Kill(ctx, t.Task, syscall.SIGTERM)
		timer := time.NewTimer(grace)
		defer timer.Stop()
		select {
		case <-t.Exited:
			return
		case <-timer.C:
		case <-ctx.Done():
		}
	}
	_ = r.Kill(ctx, t.Task, syscall.SIGKILL)
	select {
	case <-t.Exited:
	case <-time.After(10 * time.Second):
	}
}

// Remove deletes the container's task (killing it), its FIFOs, the container
// and its snapshot. Missing pieces are fine.
func (r *Runtime) Remove(ctx context.Context, c client.Container) error {
	ctx = r.WithNamespace(context.WithoutCancel(ctx))
	if task, err := c.Task(ctx, nil); err == nil {
		r.deleteTask(ctx, task)
	}
	r.removeFIFOs(c.ID())
	if err := c.Delete(ctx, client.WithSnapshotCleanup); err != nil && !errdefs.IsNotFound(err) {
		return fmt.Errorf("runtime: deleting container %s: %w", c.ID(), err)
	}
	return nil
}

func (r *Runtime) deleteTask(ctx context.Context, task client.Task) {
	if _, err := task.Delete(ctx, client.WithProcessKill); err != nil && !errdefs.IsNotFound(err) {
		// The shim may still be reporting the exit; try once more.
		time.Sleep(100 * time.Millisecond)
		_, _ = task.Delete(ctx, client.WithProcessKill)
	}
}

// removeFIFOs removes the FIFO directories of a container: cio.NewCreator
// makes one temporary directory per task holding <id>-stdout/-stderr.
func (r *Runtime) removeFIFOs(id string) {
	matches, _ := filepath.Glob(filepath.Join(r.fifoDir, "*", id+"-std*"))
	for _, m := range matches {
		os.RemoveAll(filepath.Dir(m))
	}
}

// Containers lists the namespace's containers matching containerd filters,
// e.g. LabelFilter("shoal.pod.uid", "").
func (r *Runtime) Containers(ctx context.Context, filters ...string) ([]client.Container, error) {
	cs, err := r.client.Containers(r.WithNamespace(ctx), filters...)
	if err != nil {
		return nil, fmt.Errorf("runtime: listing containers: %w", err)
	}
	return cs, nil
}

// Exec runs argv inside the task's container and returns its exit code.
func (r *Runtime) Exec(ctx context.Context, c client.Container, t client.Task, execID string, argv []string, out io.Writer) (int, error) {
	ctx = r.WithNamespace(ctx)
	spec, err := c.Spec(ctx)
	if err != nil {
		return -1, err
	}
	pspec := *spec.Process
	pspec.Args = argv
	pspec.Terminal = false
	creator := cio.NullIO
	if out != nil {
		creator = cio.NewCreator(cio.WithStreams(nil, out, out), cio.WithFIFODir(r.fifoDir))
	}
	p, err := t.Exec(ctx, execID, &pspec, creator)
	if err != nil {
		return -1, fmt.Errorf("runtime: exec: %w", err)
	}
	defer func() {
		_, _ = p.Delete(context.WithoutCancel(ctx), client.WithProcessKill)
	}()
	wait, err := p.Wait(context.WithoutCancel(ctx))
	if err != nil {
		return -1, err
	}
	if err := p.Start(ctx); err != nil {
		return -1, fmt.Errorf("runtime: exec start: %w", err)
	}
	select {
	case st := <-wait:
		code, _, err := st.Result()
		return int(code), err
	case <-ctx.Done():
		_ = p.Kill(context.WithoutCancel(ctx), syscall.SIGKILL)
		<-wait
		return -1, ctx.Err()
	}
}

// Spec returns the container's OCI spec.
func (r *Runtime) Spec(ctx context.Context, c client.Container) (*specs.Spec, error) {
	return c.Spec(r.WithNamespace(ctx))
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

// LabelFilter is a containerd filter on a label: present when value is
// empty, equal otherwise.
func LabelFilter(key, value string) string {
	if value == "" {
		return fmt.Sprintf("labels.%q", key)
	}
	return fmt.Sprintf("labels.%q==%q", key, value)
}
