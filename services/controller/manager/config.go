package manager

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/shoalmesh/shoal/services/controller/deployment"
	"github.com/shoalmesh/shoal/services/controller/endpoints"
	"github.com/shoalmesh/shoal/services/controller/gc"
	"github.com/shoalmesh/shoal/services/controller/namespace"
	"github.com/shoalmesh/shoal/services/controller/nodelifecycle"
	"github.com/shoalmesh/shoal/services/controller/quota"
	"github.com/shoalmesh/shoal/services/controller/replicaset"
)

// AllControllers names every control loop, in the order they start.
var AllControllers = []string{
	replicaset.Name,
	deployment.Name,
	endpoints.Name,
	nodelifecycle.Name,
	namespace.Name,
	gc.Name,
	quota.Name,
}

// Config is everything a controller manager needs.
type Config struct {
	// Gateway is the apigateway's gRPC address; Token its bearer token
	// (empty when the gateway runs without authentication).
	Gateway string
	Token   string

	// Election: LeaderElect campaigns for ElectionPrefix in the etcd at
	// EtcdEndpoints (used for nothing else); only the leader runs the
	// control loops. LeaseTTL is how long a dead leader blocks a standby.
	LeaderElect    bool
	EtcdEndpoints  []string
	LeaseTTL       time.Duration
	ElectionPrefix string
	// Identity names this replica in the election (default host_pid).
	Identity string

	// ListenAddr serves grpc.health.v1 ("" serves nothing). The empty
	// service is SERVING while the process runs; LeaderHealthService is
	// SERVING while it leads.
	ListenAddr string
	// Workers per controller.
	Workers int
	// Controllers to run; nil means AllControllers.
	Controllers []string

	NodeLifecycle nodelifecycle.Config
	// QuotaResync is how often every quota is recounted.
	QuotaResync time.Duration
	// ShutdownTimeout bounds Close's graceful stop of the health server.
	ShutdownTimeout time.Duration
}

// NewConfig returns the defaults.
func NewConfig() Config {
	return Config{
		Gateway:         "127.0.0.1:6443",
		LeaderElect:     true,
		EtcdEndpoints:   []string{"http://127.0.0.1:2379"},
		LeaseTTL:        15 * time.Second,
		ElectionPrefix:  "/shoal/leader/controller",
		ListenAddr:      "127.0.0.1:10257",
		Workers:         5,
		NodeLifecycle:   nodelifecycle.NewConfig(),
		QuotaResync:     quota.DefaultResync,
		ShutdownTimeout: 10 * time.Second,
	}
}

// Validate checks the configuration without side effects.
func (c Config) Validate() error {
	var errs []error
	if c.Gateway == "" {
		errs = append(errs, errors.New("the gateway address is required"))
	}
	if c.LeaderElect {
		if len(c.EtcdEndpoints) == 0 {
			errs = append(errs, errors.New("leader election needs etcd endpoints"))
		}
		if c.LeaseTTL < time.Second {
			errs = append(errs, errors.New("the lease TTL must be at least 1s"))
		}
		if c.ElectionPrefix == "" {
			errs = append(errs, errors.New("the election prefix is required"))
		}
	}
	if c.Workers < 1 {
		errs = append(errs, errors.New("workers must be at least 1"))
	}
	for _, name := range c.Controllers {
		if !slices.Contains(AllControllers, name) {
			errs = append(errs, fmt.Errorf("unknown controller %q (known: %v)", name, AllControllers))
		}
	}
	if err := c.NodeLifecycle.Validate(); err != nil {
		errs = append(errs, err)
	}
	if c.QuotaResync < 0 {
		errs = append(errs, errors.New("the quota resync period must not be negative"))
	}
	return errors.Join(errs...)
}

func (c Config) runs(name string) bool {
	return c.Controllers == nil || slices.Contains(c.Controllers, name)
}
