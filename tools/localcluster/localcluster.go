// Package localcluster brings a whole Shoal cluster up on one machine, for
// `make run` and the end-to-end story test: a containerd of its own (under
// Config.Dir, one containerd namespace per node agent), then the apigateway
// (embedded etcd), scheduler, controller, xds and N node agents, each its
// own process with its own flags and log file (tools/localcluster/supervisor),
// each waited on until grpc.health.v1 says SERVING.
//
// One node (the default) runs its agent in the host's network namespace,
// every service on 127.0.0.1. With Nodes > 1 (or NetnsPerNode), each agent
// runs in a network namespace of its own, joined to a host bridge by a veth
// pair, with its own node IP and pod CIDR; the host routes each pod CIDR
// via its node's IP and each node's default route is the host, so pods on
// different nodes reach each other (and the host reaches every pod). The
// services then listen on the host bridge's address so agents can reach them.
//
// Up builds nothing: it takes a directory of binaries and one of OCI image
// archives (BuildBinaries and BuildImages make them). Down stops every
// process and removes what the cluster created: containers, tasks, images
// and namespaces in containerd, mounts under Dir, network namespaces,
// bridges, veths, routes, runc state and cgroups.
package localcluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/shoalmesh/shoal/internal/freeport"
	"github.com/shoalmesh/shoal/tools/localcluster/supervisor"
)

// Config describes a local cluster.
type Config struct {
	// Dir holds everything the cluster writes: logs, etcd data, containerd's
	// root/state/socket, the agents' state. Created if missing.
	Dir string
	// BinDir holds apigateway, scheduler, controller, xds and nodeagent.
	BinDir string
	// ImageDir holds the OCI archives every node agent imports (at least
	// the pause image).
	ImageDir string
	// Nodes is the number of node agents (default 1).
	Nodes int
	// NetnsPerNode runs each agent in a network namespace of its own; always
	// on when Nodes > 1.
	NetnsPerNode bool
	// ID tells this cluster's host objects apart from another's (default
	// "run"; at most 4 characters: it goes into 15-character link names).
	ID string
	// NodeSubnet is the host bridge's /24 in netns mode (default
	// 10.213.0.0/24: host .1, node i .10+i).
	NodeSubnet string
	// PodCIDRPrefix gives node i the pod CIDR <prefix>.<i>.0/24 (default
	// "10.214").
	PodCIDRPrefix string
	// PauseImage is the sandbox image (default shoal.local/pause:latest).
	PauseImage string
	// ExtraNodeArgs are appended to every node agent's flags.
	ExtraNodeArgs []string
	// Log receives progress (default: discarded).
	Log *slog.Logger
}

// Node is one node agent.
type Node struct {
	Name                string
	IP                  string
	PodCIDR             string
	Netns               string // empty in host mode
	Bridge              string // the agent's pod bridge
	ContainerdNamespace string
	StateDir            string
	LogDir              string
	ListenAddr          string
}

// Cluster is a running local cluster.
type Cluster struct {
	cfg Config
	// GatewayAddr is the apigateway's gRPC address (shoalctl --server).
	GatewayAddr string
	// XDSAddr is the xds ADS address (the xds bootstrap's server_uri).
	XDSAddr string
	// XDSAdminAddr serves /debug/config and /metrics of xds.
	XDSAdminAddr string
	// EtcdURL is the embedded etcd's client URL.
	EtcdURL string
	// ContainerdAddress is the containerd socket.
	ContainerdAddress string
	Nodes             []Node

	infra, svcs *supervisor.Supervisor
	hostBridge  string
	veths       []string
}

func (c *Config) defaults() error {
	if c.Dir == "" || c.BinDir == "" || c.ImageDir == "" {
		return errors.New("localcluster: Dir, BinDir and ImageDir are required")
	}
	if c.Nodes <= 0 {
		c.Nodes = 1
	}
	if c.Nodes > 1 {
		c.NetnsPerNode = true
	}
	if c.Nodes > 200 {
		return errors.New("localcluster: at most 200 nodes")
	}
	if c.ID == "" {
		c.ID = "run"
	}
	if len(c.ID) > 4 {
		return fmt.Errorf("localcluster: ID %q: at most 4 characters", c.ID)
	}
	if c.NodeSubnet == "" {
		c.NodeSubnet = "10.213.0.0/24"
	}
	if c.PodCIDRPrefix == "" {
		c.PodCIDRPrefix = "10.214"
	}
	if c.PauseImage == "" {
		c.PauseImage = "shoal.local/pause:latest"
	}
	if c.Log == nil {
		c.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	var err error
	if c.Dir, err = filepath.Abs(c.Dir); err != nil {
		return err
	}
	if c.BinDir, err = filepath.Abs(c.BinDir); err != nil {
		return err
	}
	c.ImageDir, err = filepath.Abs(c.ImageDir)
	return err
}

// hostIP is the host's address on the node bridge (netns mode).
func (c *Config) subnetIP(last int) string {
	ip, _, _ := net.ParseCIDR(c.NodeSubnet)
	v4 := ip.To4()
	return net.IPv4(v4[0], v4[1], v4[2], byte(last)).String()
}

// Up starts the cluster and waits until every process is healthy. On error
// what was started is torn down again.
func Up(ctx context.Context, cfg Config) (*Cluster, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	if err := Prerequisites(); err != nil {
		return nil, err
	}
	c := &Cluster{cfg: cfg}
	if err := c.up(ctx); err != nil {
		if derr := c.Down(); derr != nil {
			err = fmt.Errorf("%w (and tearing down: %v)", err, derr)
		}
		return nil, err
	}
	return c, nil
}

func (c *Cluster) logDir() string { return filepath.Join(c.cfg.Dir, "logs") }

// LogPath is the log file of a process: containerd, apigateway, scheduler,
// controller, xds, nodeagent-<node name>.
func (c *Cluster) LogPath(process string) string {
	return filepath.Join(c.logDir(), process+".log")
}

func (c *Cluster) bin(name string) string { return filepath.Join(c.cfg.BinDir, name) }

func (c *Cluster) up(ctx context.Context) error {
	cfg := c.cfg
	log := cfg.Log
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return err
	}
	var err error
	if c.infra, err = supervisor.New(c.logDir(), log); err != nil {
		return err
	}
	if c.svcs, err = supervisor.New(c.logDir(), log); err != nil {
		return err
	}
	// A previous run that was killed may have left its objects behind.
	c.planNodes()
	c.cleanupHost()

	// Addresses: loopback with free ports; in netns mode the services listen
	// on the host bridge so that agents in their namespaces reach them.
	svcHost := "127.0.0.1"
	if cfg.NetnsPerNode {
		if err := c.setupNodeNetwork(); err != nil {
			return err
		}
		svcHost = cfg.subnetIP(1)
	}
	ports, err := freeport.Ports(10)
	if err != nil {
		return err
	}
	c.GatewayAddr = net.JoinHostPort(svcHost, strconv.Itoa(ports[0]))
	c.XDSAddr = net.JoinHostPort(svcHost, strconv.Itoa(ports[1]))
	c.XDSAdminAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[2]))
	c.EtcdURL = fmt.Sprintf("http://127.0.0.1:%d", ports[3])
	etcdPeer := fmt.Sprintf("http://127.0.0.1:%d", ports[4])
	loop := func(i int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[i])) }

	// containerd, shared by the agents (a containerd namespace each).
	cdDir := filepath.Join(cfg.Dir, "containerd")
	if err := os.MkdirAll(cdDir, 0o700); err != nil {
		return err
	}
	cdConf := filepath.Join(cdDir, "config.toml")
	if err := os.WriteFile(cdConf, []byte(containerdConfig), 0o600); err != nil {
		return err
	}
	c.ContainerdAddress = filepath.Join(cdDir, "containerd.sock")
	if err := c.infra.Start(ctx, supervisor.Process{
		Name: "containerd", Path: "containerd",
		Args: []string{"--config", cdConf, "--root", filepath.Join(cdDir, "root"),
			"--state", filepath.Join(cdDir, "state"), "--address", c.ContainerdAddress, "--log-level", "warn"},
		Ready:     func(ctx context.Context) error { return pingContainerd(ctx, c.ContainerdAddress) },
		StopGrace: 10 * time.Second,
	}); err != nil {
		return err
	}

	start := func(name, bin, health string, args ...string) error {
		return c.svcs.Start(ctx, supervisor.Process{Name: name, Path: c.bin(bin), Args: args, HealthAddr: health})
	}
	if err := start("apigateway", "apigateway", c.GatewayAddr,
		"--listen", c.GatewayAddr,
		"--etcd-data-dir", filepath.Join(cfg.Dir, "etcd"),
		"--etcd-client-url", c.EtcdURL, "--etcd-peer-url", etcdPeer,
		"--metrics-addr", loop(5)); err != nil {
		return err
	}
	schedHealth, ctrlHealth := loop(6), loop(7)
	if err := start("scheduler", "scheduler", schedHealth,
		"--gateway", c.GatewayAddr, "--etcd-endpoints", c.EtcdURL,
		"--listen", schedHealth, "--metrics-addr", loop(8)); err != nil {
		return err
	}
	if err := start("controller", "controller", ctrlHealth,
		"--gateway", c.GatewayAddr, "--etcd-endpoints", c.EtcdURL,
		"--listen", ctrlHealth, "--metrics-addr", loop(9)); err != nil {
		return err
	}
	if err := start("xds", "xds", c.XDSAddr,
		"--gateway", c.GatewayAddr, "--listen", c.XDSAddr, "--admin-addr", c.XDSAdminAddr); err != nil {
		return err
	}
	for _, n := range c.Nodes {
		metrics := "127.0.0.1:9446" // the node's own loopback in netns mode
		if n.Netns == "" {
			p, err := freeport.Ports(1)
			if err != nil {
				return err
			}
			metrics = net.JoinHostPort("127.0.0.1", strconv.Itoa(p[0]))
		}
		args := []string{
			"--gateway", c.GatewayAddr,
			"--node-name", n.Name, "--node-ip", n.IP,
			"--containerd-address", c.ContainerdAddress,
			"--containerd-namespace", n.ContainerdNamespace,
			"--image-dir", cfg.ImageDir, "--pause-image", cfg.PauseImage,
			"--state-dir", n.StateDir, "--log-dir", n.LogDir,
			"--pod-cidr", n.PodCIDR, "--bridge-name", n.Bridge,
			"--listen", n.ListenAddr, "--metrics-addr", metrics,
			"--lease-renew-interval", "2s",
			"--restart-backoff", "1s", "--restart-backoff-max", "20s",
			"--delete-bridge-on-exit",
			// Mesh pods get an xDS bootstrap naming this address.
			"--xds-address", c.XDSAddr,
		}
		if err := c.svcs.Start(ctx, supervisor.Process{
			Name: "nodeagent-" + n.Name, Path: c.bin("nodeagent"), Netns: n.Netns,
			Args: append(args, cfg.ExtraNodeArgs...), HealthAddr: n.ListenAddr,
			StopGrace: 20 * time.Second,
		}); err != nil {
			return err
		}
	}
	log.Info("cluster up", "gateway", c.GatewayAddr, "xds", c.XDSAddr, "nodes", len(c.Nodes))
	return nil
}

// planNodes fills c.Nodes from the configuration (names, addresses, dirs).
func (c *Cluster) planNodes() {
	cfg := c.cfg
	c.Nodes = nil
	c.hostBridge = ""
	c.veths = nil
	if cfg.NetnsPerNode {
		c.hostBridge = "shl" + cfg.ID + "br"
	}
	for i := 1; i <= cfg.Nodes; i++ {
		n := Node{
			Name:                fmt.Sprintf("node-%d", i),
			PodCIDR:             fmt.Sprintf("%s.%d.0/24", cfg.PodCIDRPrefix, i),
			Bridge:              fmt.Sprintf("shl%sp%d", cfg.ID, i),
			ContainerdNamespace: fmt.Sprintf("shoal-%s-node-%d", cfg.ID, i),
			StateDir:            filepath.Join(cfg.Dir, "nodes", fmt.Sprintf("node-%d", i), "state"),
			LogDir:              filepath.Join(cfg.Dir, "nodes", fmt.Sprintf("node-%d", i), "pods"),
		}
		if cfg.NetnsPerNode {
			n.Netns = fmt.Sprintf("shoal-%s-node-%d", cfg.ID, i)
			n.IP = cfg.subnetIP(10 + i)
			n.ListenAddr = net.JoinHostPort(n.IP, "10250")
			c.veths = append(c.veths, fmt.Sprintf("shl%sv%d", cfg.ID, i))
		} else {
			n.IP = "127.0.0.1"
			p, _ := freeport.Ports(1)
			if len(p) == 1 {
				n.ListenAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(p[0]))
			}
		}
		c.Nodes = append(c.Nodes, n)
	}
}

// Exited lists processes that stopped on their own (a healthy cluster has
// none).
func (c *Cluster) Exited() []string {
	return append(c.infra.Exited(), c.svcs.Exited()...)
}

// Down stops every process (node agents first, containerd last) and
// removes everything the cluster created on the host. It is safe to call
// on a half-started cluster and more than once.
func (c *Cluster) Down() error {
	var errs []error
	if c.svcs != nil {
		if err := c.svcs.Stop(); err != nil {
			errs = append(errs, err)
		}
	}
	// The agents leave pods running when they stop (by design, to re-adopt
	// them): purge what is left in containerd while it still runs.
	if c.ContainerdAddress != "" {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		for _, n := range c.Nodes {
			if err := purgeNamespace(ctx, c.ContainerdAddress, n.ContainerdNamespace); err != nil {
				errs = append(errs, err)
			}
		}
		cancel()
	}
	if c.infra != nil {
		if err := c.infra.Stop(); err != nil {
			errs = append(errs, err)
		}
	}
	if err := c.cleanupHost(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Leftovers counts what the cluster may leave on the host; after Down
// every count is zero.
func (c *Cluster) Leftovers() map[string]int {
	out := map[string]int{}
	// Mounts under Dir: netns pins, tmpfs volumes, overlay rootfs.
	b, _ := os.ReadFile("/proc/self/mountinfo")
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) > 4 && strings.HasPrefix(f[4], c.cfg.Dir+"/") {
			out["mounts"]++
		}
	}
	// Links: bridges, veths, pod veths on our bridges.
	links, _ := filepath.Glob("/sys/class/net/shl" + c.cfg.ID + "*")
	out["links"] = len(links)
	// Named network namespaces.
	nss, _ := filepath.Glob("/run/netns/shoal-" + c.cfg.ID + "-*")
	out["netns"] = len(nss)
	for _, n := range c.Nodes {
		// runc state (a container runc still knows about) and cgroups.
		if ents, err := os.ReadDir("/run/containerd/runc/" + n.ContainerdNamespace); err == nil {
			out["runc_containers"] += len(ents)
		}
		cgs, _ := filepath.Glob("/sys/fs/cgroup/*/" + n.ContainerdNamespace)
		cg2, _ := filepath.Glob("/sys/fs/cgroup/" + n.ContainerdNamespace)
		out["cgroups"] += len(cgs) + len(cg2)
		res, _ := filepath.Glob("/var/lib/cni/results/shoal-" + n.Bridge + "-*")
		out["cni_results"] += len(res)
	}
	// Routes to our pod CIDRs on the host.
	if out2, err := runOut("ip", "-4", "route", "show"); err == nil {
		for _, l := range strings.Split(out2, "\n") {
			if strings.HasPrefix(l, c.cfg.PodCIDRPrefix+".") {
				out["routes"]++
			}
		}
	}
	// Processes: anything whose command line names our Dir (containerd, its
	// shims, the agents) or our binaries.
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	self := strconv.Itoa(os.Getpid())
	for _, p := range procs {
		if strings.Split(p, "/")[2] == self {
			continue
		}
		cl, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		s := string(cl)
		ours := strings.Contains(s, c.cfg.Dir+"/") || strings.Contains(s, c.cfg.Dir+"\x00")
		for _, svc := range []string{"apigateway", "scheduler", "controller", "xds", "nodeagent"} {
			ours = ours || strings.HasPrefix(s, c.bin(svc)+"\x00")
		}
		if ours {
			out["processes"]++
		}
	}
	return out
}
