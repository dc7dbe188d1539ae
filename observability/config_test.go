package observability

import (
	"context"
	"math"
	"strings"
	"testing"
)

func TestNewConfigDefaults(t *testing.T) {
	got := NewConfig("scheduler")
	want := Config{Service: "scheduler", LogLevel: "info", TraceSampleRatio: 1}
	if got != want {
		t.Fatalf("NewConfig = %+v, want %+v", got, want)
	}
	if err := got.Validate(); err != nil {
		t.Fatalf("defaults do not validate: %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(*Config)
		wantErr []string // substrings; nil means valid
	}{
		{name: "defaults"},
		{name: "debug level upper case", edit: func(c *Config) { c.LogLevel = "DEBUG" }},
		{name: "warn level", edit: func(c *Config) { c.LogLevel = "warn" }},
		{name: "ratio zero", edit: func(c *Config) { c.TraceSampleRatio = 0 }},
		{name: "missing service", edit: func(c *Config) { c.Service = "" }, wantErr: []string{"Service is required"}},
		{name: "bad level", edit: func(c *Config) { c.LogLevel = "loud" }, wantErr: []string{`LogLevel "loud"`}},
		{name: "empty level", edit: func(c *Config) { c.LogLevel = "" }, wantErr: []string{`LogLevel ""`}},
		{name: "ratio above one", edit: func(c *Config) { c.TraceSampleRatio = 1.5 }, wantErr: []string{"TraceSampleRatio 1.5"}},
		{name: "ratio negative", edit: func(c *Config) { c.TraceSampleRatio = -0.1 }, wantErr: []string{"TraceSampleRatio -0.1"}},
		{name: "ratio NaN", edit: func(c *Config) { c.TraceSampleRatio = math.NaN() }, wantErr: []string{"TraceSampleRatio NaN"}},
		{
			name:    "every problem reported",
			edit:    func(c *Config) { c.Service, c.LogLevel, c.TraceSampleRatio = "", "x", 2 },
			wantErr: []string{"Service", "LogLevel", "TraceSampleRatio"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := NewConfig("svc")
			if tc.edit != nil {
				tc.edit(&cfg)
			}
			err := cfg.Validate()
			if tc.wantErr == nil {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Validate: nil error, want one")
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			// Setup must refuse what Validate refuses.
			if o, err := Setup(context.Background(), cfg, nil); err == nil {
				_ = o.Shutdown(context.Background())
				t.Error("Setup accepted an invalid config")
			}
		})
	}
}
