package manager

import (
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	cases := []struct {
		name string
		edit func(*Config)
		want string // substring of the error; "" for valid
	}{
		{name: "defaults", edit: func(*Config) {}},
		{name: "no election needs no etcd", edit: func(c *Config) { c.LeaderElect = false; c.EtcdEndpoints = nil }},
		{name: "gateway", edit: func(c *Config) { c.Gateway = "" }, want: "gateway"},
		{name: "election without etcd", edit: func(c *Config) { c.EtcdEndpoints = nil }, want: "etcd endpoints"},
		{name: "short ttl", edit: func(c *Config) { c.LeaseTTL = 100 * time.Millisecond }, want: "TTL"},
		{name: "workers", edit: func(c *Config) { c.Workers = 0 }, want: "workers"},
		{name: "unknown controller", edit: func(c *Config) { c.Controllers = []string{"replicaset", "cronjob"} }, want: `"cronjob"`},
		{name: "grace", edit: func(c *Config) { c.NodeLifecycle.GracePeriod = 0 }, want: "grace period"},
		{name: "eviction rate", edit: func(c *Config) { c.NodeLifecycle.EvictionRate = -1 }, want: "eviction rates"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := NewConfig()
			tc.edit(&cfg)
			err := cfg.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one mentioning %q", err, tc.want)
			}
		})
	}
	cfg := NewConfig()
	cfg.Controllers = []string{"endpoints"}
	if !cfg.runs("endpoints") || cfg.runs("replicaset") {
		t.Fatal("Controllers selects the loops")
	}
}
