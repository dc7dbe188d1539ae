package agent

import (
	"errors"
	"fmt"
	"net"
	"time"
)

// Config is everything the agent needs. NewConfig fills the defaults;
// Validate has no side effects.
type Config struct {
	// API
	Gateway string
	Token   string

	// Node identity
	NodeName string
	NodeIP   string
	// CPUMillis, MemoryBytes and MaxPods override what the host reports.
	CPUMillis, MemoryBytes, MaxPods int64
	LeaseRenewInterval              time.Duration
	LeaseDuration                   time.Duration

	// containerd
	ContainerdAddress   string
	ContainerdNamespace string
	Snapshotter         string
	ImageDir            string
	PauseImage          string
	// ImagePullTimeout bounds one registry pull, as kubelet's
	// --runtime-request-timeout bounds its PullImage call.
	ImagePullTimeout time.Duration

	// Network
	PodCIDR     string
	CNIBinDir   string
	CNIConfFile string
	BridgeName  string

	// State and logs
	StateDir   string
	LogDir     string
	LogMaxSize int64

	// ListenAddr serves NodeAgentService and grpc health.
	ListenAddr string

	// Mesh: XDSAddress is the xds server as pods reach it (host:port),
	// written into the xDS bootstrap of pods with spec.mesh.enabled;
	// EnvoyImage, when set, adds an Envoy sidecar to those pods.
	XDSAddress string
	EnvoyImage string

	// Restart back-off.
	BackoffBase, BackoffMax time.Duration
	Workers                 int
	ResyncPeriod            time.Duration
	// DeleteBridgeOnClose removes the bridge when the agent stops (tests).
	DeleteBridgeOnClose bool
	ShutdownTimeout     time.Duration
}

// NewConfig returns the defaults.
func NewConfig() Config {
	return Config{
		Gateway:             "127.0.0.1:8443",
		LeaseRenewInterval:  10 * time.Second,
		LeaseDuration:       40 * time.Second,
		ContainerdAddress:   "/run/containerd/containerd.sock",
		ContainerdNamespace: "shoal",
		Snapshotter:         "overlayfs",
		PauseImage:          "shoal.local/pause:latest",
		ImagePullTimeout:    2 * time.Minute,
		PodCIDR:             "10.88.0.0/24",
		CNIBinDir:           "/usr/lib/cni",
		BridgeName:          "shoal0",
		StateDir:            "/var/lib/shoal/nodeagent",
		LogDir:              "/var/log/shoal/pods",
		LogMaxSize:          10 << 20,
		ListenAddr:          ":10250",
		BackoffBase:         10 * time.Second,
		BackoffMax:          5 * time.Minute,
		Workers:             16,
		ResyncPeriod:        10 * time.Second,
		ShutdownTimeout:     5 * time.Second,
	}
}

// ErrConfig wraps every configuration error.
var ErrConfig = errors.New("nodeagent: invalid configuration")

// Validate checks the configuration.
func (c Config) Validate() error {
	var errs []error
	req := func(v, name string) {
		if v == "" {
			errs = append(errs, fmt.Errorf("%w: %s required", ErrConfig, name))
		}
	}
	req(c.Gateway, "gateway")
	req(c.NodeName, "node name")
	req(c.ContainerdAddress, "containerd address")
	req(c.ContainerdNamespace, "containerd namespace")
	req(c.StateDir, "state dir")
	req(c.LogDir, "log dir")
	req(c.PauseImage, "pause image")
	if c.CNIConfFile == "" {
		if _, _, err := net.ParseCIDR(c.PodCIDR); err != nil {
			errs = append(errs, fmt.Errorf("%w: pod CIDR %q: %v", ErrConfig, c.PodCIDR, err))
		}
	}
	if c.NodeIP != "" && net.ParseIP(c.NodeIP) == nil {
		errs = append(errs, fmt.Errorf("%w: node IP %q", ErrConfig, c.NodeIP))
	}
	if c.XDSAddress != "" {
		if _, port, err := net.SplitHostPort(c.XDSAddress); err != nil || port == "" {
			errs = append(errs, fmt.Errorf("%w: xds address %q: want host:port", ErrConfig, c.XDSAddress))
		}
	}
	if c.EnvoyImage != "" && c.XDSAddress == "" {
		errs = append(errs, fmt.Errorf("%w: envoy image needs an xds address", ErrConfig))
	}
	if c.LeaseRenewInterval <= 0 {
		errs = append(errs, fmt.Errorf("%w: lease renew interval must be > 0", ErrConfig))
	}
	if c.ImagePullTimeout <= 0 {
		errs = append(errs, fmt.Errorf("%w: image pull timeout must be > 0", ErrConfig))
	}
	if c.LogMaxSize <= 0 {
		errs = append(errs, fmt.Errorf("%w: log max size must be > 0", ErrConfig))
	}
	return errors.Join(errs...)
}
