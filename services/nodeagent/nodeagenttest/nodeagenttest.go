// Package nodeagenttest runs the node agent's real dependencies for tests
// and benchmarks: a containerd daemon of its own (Debian's, under a
// directory it owns, CRI disabled) and the test images built by
// tools/mkimage from static binaries compiled on the spot.
package nodeagenttest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/pkg/namespaces"

	"github.com/shoalmesh/shoal/tools/mkimage"
)

// Image references the test images are built under.
const (
	PauseImage      = "shoal.local/pause:latest"
	BusyboxImage    = "shoal.local/busybox:latest"
	TestServerImage = "shoal.local/testserver:latest"
	// The mesh demo (tools/greeter), built by BuildGreeterImages.
	GreeterServerImage = "shoal.local/greeter-server:latest"
	GreeterClientImage = "shoal.local/greeter-client:latest"
)

// Prerequisites fails with the Debian package to install when something the
// node agent needs is missing.
func Prerequisites() error {
	var errs []error
	for _, p := range []struct{ path, pkg string }{
		{"containerd", "containerd"},
		{"containerd-shim-runc-v2", "containerd"},
		{"runc", "runc"},
		{"ip", "iproute2"},
	} {
		if _, err := exec.LookPath(p.path); err != nil {
			errs = append(errs, fmt.Errorf("%s not found: apt-get install -y %s", p.path, p.pkg))
		}
	}
	for _, p := range []string{"/usr/lib/cni/bridge", "/usr/lib/cni/host-local", "/usr/lib/cni/loopback"} {
		if _, err := os.Stat(p); err != nil {
			errs = append(errs, fmt.Errorf("%s not found: apt-get install -y containernetworking-plugins", p))
		}
	}
	if _, err := os.Stat("/bin/busybox"); err != nil {
		errs = append(errs, fmt.Errorf("/bin/busybox not found: apt-get install -y busybox-static"))
	}
	if os.Geteuid() != 0 {
		errs = append(errs, errors.New("the node agent's end-to-end tests must run as root"))
	}
	return errors.Join(errs...)
}

// RepoRoot is the module root (where go.mod is).
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", "..", ".."))
}

// BuildBinary compiles a static binary of the package pkg (relative to the
// repo root, e.g. ./services/nodeagent/pause) into dir.
func BuildBinary(ctx context.Context, dir, pkg, name string, ldflags ...string) (string, error) {
	out := filepath.Join(dir, name)
	args := []string{"build", "-o", out}
	if len(ldflags) > 0 {
		args = append(args, "-ldflags="+strings.Join(ldflags, " "))
	}
	cmd := exec.CommandContext(ctx, "go", append(args, pkg)...)
	cmd.Dir = RepoRoot()
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %v\n%s", pkg, err, b)
	}
	return out, nil
}

// BuildImages writes the pause, busybox and testserver image archives into
// imageDir (binaries go to binDir).
func BuildImages(ctx context.Context, binDir, imageDir string) error {
	if err := os.MkdirAll(imageDir, 0o755); err != nil {
		return err
	}
	pause, err := BuildBinary(ctx, binDir, "./services/nodeagent/pause", "pause", "-s", "-w")
	if err != nil {
		return err
	}
	ts, err := BuildBinary(ctx, binDir, "./tools/testimages/testserver", "testserver", "-s", "-w")
	if err != nil {
		return err
	}
	if err := mkimage.WriteArchive(filepath.Join(imageDir, "pause.tar"), mkimage.Static(PauseImage, pause)); err != nil {
		return err
	}
	if err := mkimage.WriteArchive(filepath.Join(imageDir, "testserver.tar"), mkimage.Static(TestServerImage, ts)); err != nil {
		return err
	}
	bb, err := mkimage.Busybox(BusyboxImage, "/bin/busybox")
	if err != nil {
		return err
	}
	return mkimage.WriteArchive(filepath.Join(imageDir, "busybox.tar"), bb)
}

// BuildGreeterImages writes the greeter server and client (a grpc-go xDS
// client: GRPC_XDS_BOOTSTRAP is all it needs) image archives into
// imageDir.
func BuildGreeterImages(ctx context.Context, binDir, imageDir string) error {
	if err := os.MkdirAll(imageDir, 0o755); err != nil {
		return err
	}
	for _, b := range []struct{ pkg, name, ref string }{
		{"./tools/greeter/server", "greeter-server", GreeterServerImage},
		{"./tools/greeter/client", "greeter-client", GreeterClientImage},
	} {
		bin, err := BuildBinary(ctx, binDir, b.pkg, b.name, "-s", "-w")
		if err != nil {
			return err
		}
		if err := mkimage.WriteArchive(filepath.Join(imageDir, b.name+".tar"), mkimage.Static(b.ref, bin)); err != nil {
			return err
		}
	}
	return nil
}

// Containerd is a containerd daemon this process started.
type Containerd struct {
	Dir     string
	Address string
	cmd     *exec.Cmd
	done    chan struct{}
}

const config = `version = 2
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[debug]
  address = ""
[metrics]
  address = ""
`

// StartContainerd runs containerd with root, state and socket under dir
// and waits until it answers.
func StartContainerd(ctx context.Context, dir string) (*Containerd, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	cfg := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfg, []byte(config), 0o600); err != nil {
		return nil, err
	}
	c := &Containerd{Dir: dir, Address: filepath.Join(dir, "containerd.sock"), done: make(chan struct{})}
	logf, err := os.Create(filepath.Join(dir, "containerd.log"))
	if err != nil {
		return nil, err
	}
	c.cmd = exec.Command("containerd", "--config", cfg, "--root", filepath.Join(dir, "root"),
		"--state", filepath.Join(dir, "state"), "--address", c.Address, "--log-level", "warn")
	c.cmd.Stdout, c.cmd.Stderr = logf, logf
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := c.cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("starting containerd (apt-get install -y containerd): %w", err)
	}
	go func() { c.cmd.Wait(); logf.Close(); close(c.done) }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if err := ping(ctx, c.Address); err == nil {
			return c, nil
		} else if time.Now().After(deadline) {
			c.Stop()
			log, _ := os.ReadFile(filepath.Join(dir, "containerd.log"))
			return nil, fmt.Errorf("containerd did not come up: %v\n%s", err, log)
		}
		select {
		case <-c.done:
			log, _ := os.ReadFile(filepath.Join(dir, "containerd.log"))
			return nil, fmt.Errorf("containerd exited:\n%s", log)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func ping(ctx context.Context, addr string) error {
	if _, err := os.Stat(addr); err != nil {
		return err
	}
	c, err := client.New(addr, client.WithTimeout(2*time.Second))
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.Version(ctx)
	return err
}

// Purge deletes every task, container and image of a containerd namespace
// (what a failed test may leave) and the namespace itself.
func (c *Containerd) Purge(ctx context.Context, ns string) {
	cl, err := client.New(c.Address, client.WithTimeout(5*time.Second))
	if err != nil {
		return
	}
	defer cl.Close()
	ctx = namespaces.WithNamespace(ctx, ns)
	cs, _ := cl.Containers(ctx)
	for _, ctr := range cs {
		if t, err := ctr.Task(ctx, nil); err == nil {
			_, _ = t.Delete(ctx, client.WithProcessKill)
		}
		_ = ctr.Delete(ctx, client.WithSnapshotCleanup)
	}
	imgs, _ := cl.ImageService().List(ctx)
	for _, i := range imgs {
		_ = cl.ImageService().Delete(ctx, i.Name)
	}
	_ = cl.NamespaceService().Delete(context.Background(), ns)
	for _, d := range []string{"/sys/fs/cgroup/*/" + ns, "/sys/fs/cgroup/" + ns} {
		ms, _ := filepath.Glob(d)
		for _, m := range ms {
			_ = syscall.Rmdir(m)
		}
	}
	_ = os.RemoveAll("/run/containerd/runc/" + ns)
}

// Stop ends the daemon this process started (SIGTERM, then SIGKILL).
func (c *Containerd) Stop() {
	if c.cmd.Process == nil {
		return
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.done
	}
}
