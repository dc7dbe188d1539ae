// Package config resolves shoalctl's connection settings: flags win over
// the environment (SHOAL_SERVER, SHOAL_TOKEN, SHOAL_NAMESPACE), which wins
// over the config file (~/.shoal/config, or SHOAL_CONFIG), which wins over
// the defaults (127.0.0.1:6443, namespace "default").
//
// The file is YAML:
//
//	server: 10.0.0.1:6443
//	token: 0123abcd
//	namespace: shop
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"sigs.k8s.io/yaml"
)

// Defaults.
const (
	DefaultServer    = "127.0.0.1:6443"
	DefaultNamespace = "default"
)

// Config is where and as whom shoalctl talks to the API.
type Config struct {
	Server    string `json:"server,omitempty"`
	Token     string `json:"token,omitempty"`
	Namespace string `json:"namespace,omitempty"`
}

// Overrides are the values given on the command line; empty means unset.
type Overrides struct {
	ConfigFile string
	Server     string
	Token      string
	Namespace  string
}

// Env reads environment variables; os.Getenv in production.
type Env func(string) string

// DefaultPath is ~/.shoal/config ("" when there is no home directory).
func DefaultPath() string {
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".shoal", "config")
}

// Load resolves the configuration. A missing default file is fine; a
// missing file that was asked for (flag or SHOAL_CONFIG) is an error.
func Load(o Overrides, env Env) (Config, error) {
	path, explicit := o.ConfigFile, o.ConfigFile != ""
	if !explicit {
		if p := env("SHOAL_CONFIG"); p != "" {
			path, explicit = p, true
		} else {
			path = DefaultPath()
		}
	}
	var cfg Config
	if path != "" {
		data, err := os.ReadFile(path)
		switch {
		case err == nil:
			if err := yaml.UnmarshalStrict(data, &cfg); err != nil {
				return Config{}, fmt.Errorf("config file %s: %w", path, err)
			}
		case errors.Is(err, fs.ErrNotExist) && !explicit:
		default:
			return Config{}, fmt.Errorf("config file: %w", err)
		}
	}
	pick := func(flag, envName, file, def string) string {
		for _, v := range []string{flag, env(envName), file} {
			if v != "" {
				return v
			}
		}
		return def
	}
	return Config{
		Server:    pick(o.Server, "SHOAL_SERVER", cfg.Server, DefaultServer),
		Token:     pick(o.Token, "SHOAL_TOKEN", cfg.Token, ""),
		Namespace: pick(o.Namespace, "SHOAL_NAMESPACE", cfg.Namespace, DefaultNamespace),
	}, nil
}
