// Package network gives pod sandboxes their network: a pinned network
// namespace per pod and CNI (bridge + host-local + loopback, through go-cni)
// with a pod CIDR per node. The bridge plugin never deletes its bridge:
// Close(true) does.
package network

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/containerd/containerd/v2/pkg/netns"
	gocni "github.com/containerd/go-cni"
)

// Config describes the node's pod network.
type Config struct {
	// PodCIDR is the range pod IPs come from, e.g. 10.88.0.0/24.
	PodCIDR string
	// BridgeName is the Linux bridge pods attach to.
	BridgeName string
	// NetworkName names the CNI network (and host-local's allocation dir).
	NetworkName string
	// BinDirs hold the CNI plugins (default /usr/lib/cni, /opt/cni/bin).
	BinDirs []string
	// ConfFile, when set, is a .conflist used instead of the generated one.
	ConfFile string
	// StateDir holds pinned network namespaces and host-local allocations.
	StateDir string
}

// Network sets pods up and tears them down.
type Network struct {
	cfg Config
	cni gocni.CNI
}

// ErrConfig is returned for a bad network configuration.
var ErrConfig = errors.New("network: bad configuration")

// New loads the CNI configuration.
func New(cfg Config) (*Network, error) {
	if len(cfg.BinDirs) == 0 {
		cfg.BinDirs = []string{"/usr/lib/cni", "/opt/cni/bin"}
	}
	if cfg.NetworkName == "" {
		cfg.NetworkName = "shoal"
	}
	if cfg.BridgeName == "" {
		cfg.BridgeName = "shoal0"
	}
	if cfg.StateDir == "" {
		return nil, fmt.Errorf("%w: state dir required", ErrConfig)
	}
	var conf []byte
	if cfg.ConfFile != "" {
		b, err := os.ReadFile(cfg.ConfFile)
		if err != nil {
			return nil, fmt.Errorf("network: %w", err)
		}
		conf = b
	} else {
		if _, _, err := net.ParseCIDR(cfg.PodCIDR); err != nil {
			return nil, fmt.Errorf("%w: pod CIDR %q: %v", ErrConfig, cfg.PodCIDR, err)
		}
		var err error
		if conf, err = bridgeConfList(cfg); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll("/var/lib/cni/results", 0o755); err != nil {
		return nil, fmt.Errorf("network: %w", err)
	}
	for _, d := range []string{netnsDir(cfg), ipamDir(cfg)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("network: %w", err)
		}
	}
	c, err := gocni.New(gocni.WithMinNetworkCount(2), gocni.WithPluginDir(cfg.BinDirs), gocni.WithInterfacePrefix("eth"))
	if err != nil {
		return nil, fmt.Errorf("network: %w", err)
	}
	if err := c.Load(gocni.WithConfListBytes(conf), gocni.WithLoNetwork); err != nil {
		return nil, fmt.Errorf("network: loading CNI config: %w", err)
	}
	return &Network{cfg: cfg, cni: c}, nil
}

func netnsDir(cfg Config) string { return filepath.Join(cfg.StateDir, "netns") }
func ipamDir(cfg Config) string  { return filepath.Join(cfg.StateDir, "ipam") }

// IPAMDir is where host-local records allocated IPs (one file per IP).
func (n *Network) IPAMDir() string { return filepath.Join(ipamDir(n.cfg), n.cfg.NetworkName) }

// NetNSDir is where network namespaces are pinned.
func (n *Network) NetNSDir() string { return netnsDir(n.cfg) }

func bridgeConfList(cfg Config) ([]byte, error) {
	conf := map[string]any{
		"cniVersion": "1.0.0",
		"name":       cfg.NetworkName,
		"plugins": []any{map[string]any{
			"type":        "bridge",
			"bridge":      cfg.BridgeName,
			"isGateway":   true,
			"ipMasq":      false,
			"hairpinMode": true,
			"ipam": map[string]any{
				"type":    "host-local",
				"ranges":  [][]map[string]string{{{"subnet": cfg.PodCIDR}}},
				"routes":  []map[string]string{{"dst": "0.0.0.0/0"}},
				"dataDir": ipamDir(cfg),
			},
		}},
	}
	return json.Marshal(conf)
}

// Sandbox is a pod's network: the pinned namespace and its IP.
type Sandbox struct {
	NetNSPath string
	IP        string
}

// Setup creates a network namespace for the pod id and attaches it.
func (n *Network) Setup(ctx context.Context, id string) (Sandbox, error) {
	path, err := n.NewNamespace()
	if err != nil {
		return Sandbox{}, err
	}
	ip, err := n.Attach(ctx, id, path)
	if err != nil {
		return Sandbox{}, err
	}
	return Sandbox{NetNSPath: path, IP: ip}, nil
}

// NewNamespace creates and pins a network namespace.
func (n *Network) NewNamespace() (string, error) {
	ns, err := netns.NewNetNS(netnsDir(n.cfg))
	if err != nil {
		return "", fmt.Errorf("network: creating netns: %w", err)
	}
	return ns.GetPath(), nil
}

// Attach runs CNI ADD for the pod id in the namespace and returns its
// IPv4 address; on failure the namespace is detached and removed.
func (n *Network) Attach(ctx context.Context, id, netnsPath string) (string, error) {
	res, err := n.cni.Setup(ctx, id, netnsPath)
	if err != nil {
		_ = n.Teardown(ctx, id, netnsPath)
		return "", fmt.Errorf("network: CNI setup of %s: %w", id, err)
	}
	ip := ""
	if iface := res.Interfaces["eth0"]; iface != nil {
		for _, ipc := range iface.IPConfigs {
			if ipc.IP.To4() != nil {
				ip = ipc.IP.String()
				break
			}
		}
	}
	if ip == "" {
		_ = n.Teardown(ctx, id, netnsPath)
		return "", fmt.Errorf("network: CNI gave pod %s no IPv4 address on eth0", id)
	}
	return ip, nil
}

// Teardown detaches the pod (releasing its IP and veth) and removes its
// network namespace. Safe to repeat.
func (n *Network) Teardown(ctx context.Context, id, netnsPath string) error {
	var errs []error
	if netnsPath != "" {
		if _, err := os.Stat(netnsPath); err == nil {
			if err := n.cni.Remove(ctx, id, netnsPath); err != nil {
				errs = append(errs, fmt.Errorf("network: CNI teardown of %s: %w", id, err))
			}
		} else {
			// Without the namespace, still release the IP.
			if err := n.cni.Remove(ctx, id, ""); err != nil {
				errs = append(errs, fmt.Errorf("network: CNI teardown of %s: %w", id, err))
			}
		}
		if err := netns.LoadNetNS(netnsPath).Remove(); err != nil {
			errs = append(errs, fmt.Errorf("network: removing netns: %w", err))
		}
	}
	return errors.Join(errs...)
}

// DeleteBridge removes the node's bridge (the bridge plugin never does).
func (n *Network) DeleteBridge() error {
	if _, err := net.InterfaceByName(n.cfg.BridgeName); err != nil {
		return nil
	}
	if out, err := exec.Command("ip", "link", "delete", n.cfg.BridgeName).CombinedOutput(); err != nil {
		return fmt.Errorf("network: deleting bridge %s: %v: %s", n.cfg.BridgeName, err, out)
	}
	return nil
}
