package agent

import (
	"errors"
	"testing"
)

func TestValidate(t *testing.T) {
	ok := NewConfig()
	ok.NodeName = "n"
	tests := []struct {
		name    string
		edit    func(*Config)
		wantErr bool
	}{
		{"defaults with a node name", func(*Config) {}, false},
		{"no node name", func(c *Config) { c.NodeName = "" }, true},
		{"bad pod CIDR", func(c *Config) { c.PodCIDR = "10.0.0.0/99" }, true},
		{"bad CIDR ignored with a CNI config file", func(c *Config) { c.PodCIDR = ""; c.CNIConfFile = "/x.conflist" }, false},
		{"bad node IP", func(c *Config) { c.NodeIP = "nope" }, true},
		{"xds address", func(c *Config) { c.XDSAddress = "10.88.0.1:15010" }, false},
		{"xds address without port", func(c *Config) { c.XDSAddress = "10.88.0.1" }, true},
		{"envoy image without xds address", func(c *Config) { c.EnvoyImage = "envoyproxy/envoy:v1.31" }, true},
		{"zero lease interval", func(c *Config) { c.LeaseRenewInterval = 0 }, true},
		{"zero image pull timeout", func(c *Config) { c.ImagePullTimeout = 0 }, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := ok
			tc.edit(&c)
			err := c.Validate()
			if (err != nil) != tc.wantErr || (err != nil && !errors.Is(err, ErrConfig)) {
				t.Errorf("Validate() = %v, want error %v", err, tc.wantErr)
			}
		})
	}
}
