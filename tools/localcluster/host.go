package localcluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/pkg/namespaces"
)

// containerd without CRI, debug or metrics listeners: nothing but its socket.
const containerdConfig = `version = 2
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[debug]
  address = ""
[metrics]
  address = ""
`

// Prerequisites fails, saying what to install, when something the cluster
// needs is missing or when not running as root.
func Prerequisites() error {
	var errs []error
	if os.Geteuid() != 0 {
		errs = append(errs, errors.New("a local cluster runs containers and creates network namespaces: run it as root"))
	}
	for _, p := range []struct{ path, pkg string }{
		{"containerd", "containerd"}, {"containerd-shim-runc-v2", "containerd"},
		{"runc", "runc"}, {"ip", "iproute2"},
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
	return errors.Join(errs...)
}

// MissingPackages lists the Debian packages Prerequisites would ask for.
func MissingPackages() []string {
	var pkgs []string
	add := func(p string) {
		for _, q := range pkgs {
			if q == p {
				return
			}
		}
		pkgs = append(pkgs, p)
	}
	for _, p := range []struct{ path, pkg string }{
		{"containerd", "containerd"}, {"containerd-shim-runc-v2", "containerd"},
		{"runc", "runc"}, {"ip", "iproute2"},
	} {
		if _, err := exec.LookPath(p.path); err != nil {
			add(p.pkg)
		}
	}
	for _, p := range []string{"/usr/lib/cni/bridge", "/usr/lib/cni/host-local", "/usr/lib/cni/loopback"} {
		if _, err := os.Stat(p); err != nil {
			add("containernetworking-plugins")
		}
	}
	return pkgs
}

func run(name string, args ...string) error {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

func runOut(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).Output()
	return string(out), err
}

// setupNodeNetwork (netns mode): a host bridge with the subnet's .1, and per
// node a network namespace joined by a veth pair, its IP, a default route
// via the host, and a host route to its pod CIDR via its IP.
func (c *Cluster) setupNodeNetwork() error {
	cfg := c.cfg
	_, subnet, err := net.ParseCIDR(cfg.NodeSubnet)
	if err != nil {
		return fmt.Errorf("localcluster: node subnet %q: %w", cfg.NodeSubnet, err)
	}
	plen, _ := subnet.Mask.Size()
	hostIP := cfg.subnetIP(1)
	steps := [][]string{
		{"ip", "link", "add", c.hostBridge, "type", "bridge"},
		{"ip", "addr", "add", fmt.Sprintf("%s/%d", hostIP, plen), "dev", c.hostBridge},
		{"ip", "link", "set", c.hostBridge, "up"},
	}
	for i, n := range c.Nodes {
		veth := c.veths[i]
		steps = append(steps,
			[]string{"ip", "netns", "add", n.Netns},
			[]string{"ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", n.Netns},
			[]string{"ip", "link", "set", veth, "master", c.hostBridge},
			[]string{"ip", "link", "set", veth, "up"},
			[]string{"ip", "-n", n.Netns, "addr", "add", fmt.Sprintf("%s/%d", n.IP, plen), "dev", "eth0"},
			[]string{"ip", "-n", n.Netns, "link", "set", "eth0", "up"},
			[]string{"ip", "-n", n.Netns, "link", "set", "lo", "up"},
			[]string{"ip", "-n", n.Netns, "route", "add", "default", "via", hostIP},
			[]string{"ip", "route", "replace", n.PodCIDR, "via", n.IP, "dev", c.hostBridge},
		)
	}
	for _, s := range steps {
		if err := run(s[0], s[1:]...); err != nil {
			return fmt.Errorf("localcluster: node network: %w", err)
		}
	}
	// Pod-to-pod traffic between nodes goes through the host.
	if err := os.WriteFile("/proc/sys/net/ipv4/ip_forward", []byte("1"), 0o644); err != nil {
		return fmt.Errorf("localcluster: enabling ip_forward: %w", err)
	}
	return nil
}

// cleanupHost removes every host object of this cluster (by name), whether
// this process made it or an earlier run that was killed did.
func (c *Cluster) cleanupHost() error {
	var errs []error
	// Mounts under Dir, deepest first.
	b, _ := os.ReadFile("/proc/self/mountinfo")
	var mounts []string
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) > 4 && strings.HasPrefix(f[4], c.cfg.Dir+"/") {
			mounts = append(mounts, f[4])
		}
	}
	sort.Sort(sort.Reverse(sort.StringSlice(mounts)))
	for _, m := range mounts {
		if err := syscall.Unmount(m, syscall.MNT_DETACH); err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, syscall.ENOENT) {
			errs = append(errs, fmt.Errorf("unmount %s: %w", m, err))
		}
	}
	// Network namespaces (their veth ends and pod bridges go with them).
	nss, _ := filepath.Glob("/run/netns/shoal-" + c.cfg.ID + "-*")
	for _, ns := range nss {
		if err := run("ip", "netns", "delete", filepath.Base(ns)); err != nil {
			errs = append(errs, err)
		}
	}
	// Links named after us: host bridge, veths, host-mode pod bridges
	// (routes through them go away with them).
	links, _ := filepath.Glob("/sys/class/net/shl" + c.cfg.ID + "*")
	for _, l := range links {
		if _, err := os.Stat(l); err != nil {
			continue // went away with its peer
		}
		if err := run("ip", "link", "delete", filepath.Base(l)); err != nil {
			if _, serr := os.Stat(l); serr == nil {
				errs = append(errs, err)
			}
		}
	}
	// Routes to our pod CIDRs that outlived their device.
	if out, err := runOut("ip", "-4", "route", "show"); err == nil {
		for _, l := range strings.Split(out, "\n") {
			if f := strings.Fields(l); len(f) > 0 && strings.HasPrefix(f[0], c.cfg.PodCIDRPrefix+".") {
				_ = run("ip", "route", "del", f[0])
			}
		}
	}
	for _, n := range c.Nodes {
		_ = os.RemoveAll("/run/containerd/runc/" + n.ContainerdNamespace)
		cgs, _ := filepath.Glob("/sys/fs/cgroup/*/" + n.ContainerdNamespace)
		cg2, _ := filepath.Glob("/sys/fs/cgroup/" + n.ContainerdNamespace)
		for _, d := range append(cgs, cg2...) {
			removeCgroupTree(d)
		}
		res, _ := filepath.Glob("/var/lib/cni/results/shoal-" + n.Bridge + "-*")
		for _, r := range res {
			_ = os.Remove(r)
		}
	}
	return errors.Join(errs...)
}

// removeCgroupTree removes empty cgroup directories, children first (runc
// leaves the parents behind).
func removeCgroupTree(dir string) {
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if e.IsDir() {
			removeCgroupTree(filepath.Join(dir, e.Name()))
		}
	}
	_ = syscall.Rmdir(dir)
}

// purgeNamespace kills every task and deletes every container, image and
// lease of a containerd namespace, then the namespace.
func purgeNamespace(ctx context.Context, addr, ns string) error {
	cl, err := client.New(addr, client.WithTimeout(5*time.Second))
	if err != nil {
		return fmt.Errorf("localcluster: purging %s: %w", ns, err)
	}
	defer cl.Close()
	ctx = namespaces.WithNamespace(ctx, ns)
	var errs []error
	cs, err := cl.Containers(ctx)
	if err != nil {
		return fmt.Errorf("localcluster: listing containers of %s: %w", ns, err)
	}
	for _, ctr := range cs {
		if t, err := ctr.Task(ctx, nil); err == nil {
			if _, err := t.Delete(ctx, client.WithProcessKill); err != nil {
				errs = append(errs, fmt.Errorf("deleting task %s: %w", ctr.ID(), err))
			}
		}
		if err := ctr.Delete(ctx, client.WithSnapshotCleanup); err != nil {
			errs = append(errs, fmt.Errorf("deleting container %s: %w", ctr.ID(), err))
		}
	}
	imgs, _ := cl.ImageService().List(ctx)
	for _, i := range imgs {
		_ = cl.ImageService().Delete(ctx, i.Name)
	}
	if ls, err := cl.LeasesService().List(ctx); err == nil {
		for _, l := range ls {
			_ = cl.LeasesService().Delete(ctx, l)
		}
	}
	_ = cl.NamespaceService().Delete(ctx, ns)
	return errors.Join(errs...)
}

func pingContainerd(ctx context.Context, addr string) error {
	if _, err := os.Stat(addr); err != nil {
		return err
	}
	cl, err := client.New(addr, client.WithTimeout(2*time.Second))
	if err != nil {
		return err
	}
	defer cl.Close()
	_, err = cl.Version(ctx)
	return err
}
