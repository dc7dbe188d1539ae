package flagenv

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"strings"
	"testing"
	"time"
)

func TestEnvName(t *testing.T) {
	tests := []struct {
		prefix, flag, want string
	}{
		{"SHOAL_APIGATEWAY", "etcd-endpoints", "SHOAL_APIGATEWAY_ETCD_ENDPOINTS"},
		{"shoal_scheduler", "listen", "SHOAL_SCHEDULER_LISTEN"},
		{"shoal-nodeagent", "cni.bin-dir", "SHOAL_NODEAGENT_CNI_BIN_DIR"},
		{"SHOAL_XDS_", "port", "SHOAL_XDS_PORT"},
		{"", "log-level", "LOG_LEVEL"},
		{"P", "already_UNDER", "P_ALREADY_UNDER"},
	}
	for _, tc := range tests {
		t.Run(tc.prefix+"/"+tc.flag, func(t *testing.T) {
			if got := EnvName(tc.prefix, tc.flag); got != tc.want {
				t.Errorf("EnvName(%q, %q) = %q, want %q", tc.prefix, tc.flag, got, tc.want)
			}
		})
	}
}

// testFlags is a flag set like a service's, with the values it parsed into.
type testFlags struct {
	fs      *flag.FlagSet
	listen  *string
	etcd    *string
	port    *int
	verbose *bool
	timeout *time.Duration
}

func newTestFlags() testFlags {
	fs := flag.NewFlagSet("apigateway", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return testFlags{
		fs:      fs,
		listen:  fs.String("listen", ":7443", "gRPC listen `address`"),
		etcd:    fs.String("etcd-endpoints", "", "etcd client URLs, comma-separated"),
		port:    fs.Int("metrics.port", 9090, "metrics port"),
		verbose: fs.Bool("verbose", false, "log more"),
		timeout: fs.Duration("timeout", 5*time.Second, "request timeout"),
	}
}

type values struct {
	listen  string
	etcd    string
	port    int
	verbose bool
	timeout time.Duration
}

func (f testFlags) values() values {
	return values{*f.listen, *f.etcd, *f.port, *f.verbose, *f.timeout}
}

var defaults = values{listen: ":7443", port: 9090, timeout: 5 * time.Second}

const prefix = "SHOAL_APIGATEWAY"

func mapLookup(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}
}

func TestParsePrecedence(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		env      map[string]string
		want     values
		wantArgs []string
	}{
		{name: "defaults", want: defaults},
		{
			name: "env fills unset flags",
			env: map[string]string{
				"SHOAL_APIGATEWAY_LISTEN":         ":1",
				"SHOAL_APIGATEWAY_ETCD_ENDPOINTS": "http://e1:2379,http://e2:2379",
				"SHOAL_APIGATEWAY_METRICS_PORT":   "9191",
				"SHOAL_APIGATEWAY_VERBOSE":        "true",
				"SHOAL_APIGATEWAY_TIMEOUT":        "1m",
			},
			want: values{listen: ":1", etcd: "http://e1:2379,http://e2:2379", port: 9191, verbose: true, timeout: time.Minute},
		},
		{
			name: "command line beats env",
			args: []string{"-listen", ":2", "--metrics.port=1"},
			env:  map[string]string{"SHOAL_APIGATEWAY_LISTEN": ":1", "SHOAL_APIGATEWAY_METRICS_PORT": "9191"},
			want: values{listen: ":2", port: 1, timeout: 5 * time.Second},
		},
		{
			name: "command line equal to the default still beats env",
			args: []string{"-listen=:7443", "-verbose=false"},
			env:  map[string]string{"SHOAL_APIGATEWAY_LISTEN": ":1", "SHOAL_APIGATEWAY_VERBOSE": "true"},
			want: defaults,
		},
		{
			name: "empty variable counts as unset",
			env:  map[string]string{"SHOAL_APIGATEWAY_LISTEN": "", "SHOAL_APIGATEWAY_METRICS_PORT": ""},
			want: defaults,
		},
		{
			name: "other prefixes are ignored",
			env:  map[string]string{"SHOAL_SCHEDULER_LISTEN": ":3", "LISTEN": ":4", "SHOAL_APIGATEWAY_listen": ":5"},
			want: defaults,
		},
		{
			name:     "positional arguments are kept",
			args:     []string{"-verbose", "apply", "-f", "x.yaml"},
			env:      map[string]string{"SHOAL_APIGATEWAY_TIMEOUT": "2s"},
			want:     values{listen: ":7443", port: 9090, verbose: true, timeout: 2 * time.Second},
			wantArgs: []string{"apply", "-f", "x.yaml"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newTestFlags()
			if err := ParseWithLookup(f.fs, prefix, tc.args, mapLookup(tc.env)); err != nil {
				t.Fatalf("ParseWithLookup: %v", err)
			}
			if got := f.values(); got != tc.want {
				t.Errorf("values = %+v\nwant     %+v", got, tc.want)
			}
			if got := f.fs.Args(); strings.Join(got, " ") != strings.Join(tc.wantArgs, " ") {
				t.Errorf("Args() = %q, want %q", got, tc.wantArgs)
			}
		})
	}
}

func TestParseDoesNotLookUpCommandLineFlags(t *testing.T) {
	f := newTestFlags()
	var asked []string
	lookup := func(k string) (string, bool) {
		asked = append(asked, k)
		return "", false
	}
	if err := ParseWithLookup(f.fs, prefix, []string{"-listen=:1", "-verbose"}, lookup); err != nil {
		t.Fatal(err)
	}
	want := []string{"SHOAL_APIGATEWAY_ETCD_ENDPOINTS", "SHOAL_APIGATEWAY_METRICS_PORT", "SHOAL_APIGATEWAY_TIMEOUT"}
	if strings.Join(asked, ",") != strings.Join(want, ",") {
		t.Errorf("looked up %q, want %q", asked, want)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name        string
		args        []string
		env         map[string]string
		wantIn      []string // substrings of the error
		wantNotIn   []string
		wantErrHelp bool
	}{
		{
			name:      "bad int in env",
			env:       map[string]string{"SHOAL_APIGATEWAY_METRICS_PORT": "ninety"},
			wantIn:    []string{"SHOAL_APIGATEWAY_METRICS_PORT", "-metrics.port"},
			wantNotIn: []string{"ninety"}, // values may be secrets
		},
		{
			name:   "bad bool and bad duration both reported",
			env:    map[string]string{"SHOAL_APIGATEWAY_VERBOSE": "yes please", "SHOAL_APIGATEWAY_TIMEOUT": "soon"},
			wantIn: []string{"SHOAL_APIGATEWAY_VERBOSE", "SHOAL_APIGATEWAY_TIMEOUT"},
		},
		{
			name:   "bad command line flag",
			args:   []string{"-port=1"},
			wantIn: []string{"flag provided but not defined: -port"},
		},
		{
			name:   "bad command line value",
			args:   []string{"-metrics.port=x"},
			wantIn: []string{`invalid value "x" for flag -metrics.port`},
		},
		{
			name:        "help",
			args:        []string{"--help"},
			wantErrHelp: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newTestFlags()
			err := ParseWithLookup(f.fs, prefix, tc.args, mapLookup(tc.env))
			if err == nil {
				t.Fatal("ParseWithLookup succeeded, want an error")
			}
			if got := errors.Is(err, flag.ErrHelp); got != tc.wantErrHelp {
				t.Errorf("errors.Is(err, flag.ErrHelp) = %v, want %v (err %v)", got, tc.wantErrHelp, err)
			}
			for _, s := range tc.wantIn {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
			for _, s := range tc.wantNotIn {
				if strings.Contains(err.Error(), s) {
					t.Errorf("error %q contains %q", err, s)
				}
			}
		})
	}
}

func TestParsePanicOnError(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.PanicOnError)
	fs.SetOutput(io.Discard)
	fs.Int("n", 0, "")
	defer func() {
		r := recover()
		err, _ := r.(error)
		if err == nil || !strings.Contains(err.Error(), "P_N") {
			t.Errorf("recovered %v, want an error naming P_N", r)
		}
	}()
	_ = ParseWithLookup(fs, "P", nil, mapLookup(map[string]string{"P_N": "x"}))
	t.Error("no panic")
}

func TestParseRejectsSharedVariable(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	fs.String("cni-dir", "", "")
	fs.String("cni.dir", "", "")
	err := ParseWithLookup(fs, "P", nil, mapLookup(nil))
	if err == nil || !strings.Contains(err.Error(), "P_CNI_DIR") {
		t.Fatalf("err = %v, want one naming P_CNI_DIR", err)
	}
}

func TestUsage(t *testing.T) {
	f := newTestFlags()
	var out bytes.Buffer
	f.fs.SetOutput(&out)
	if err := ParseWithLookup(f.fs, prefix, []string{"-h"}, mapLookup(nil)); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("err = %v, want flag.ErrHelp", err)
	}
	want := `Usage of apigateway:
  -etcd-endpoints string
    	etcd client URLs, comma-separated (default "")
    	env SHOAL_APIGATEWAY_ETCD_ENDPOINTS
  -listen address
    	gRPC listen address (default ":7443")
    	env SHOAL_APIGATEWAY_LISTEN
  -metrics.port int
    	metrics port (default 9090)
    	env SHOAL_APIGATEWAY_METRICS_PORT
  -timeout duration
    	request timeout (default 5s)
    	env SHOAL_APIGATEWAY_TIMEOUT
  -verbose
    	log more (default false)
    	env SHOAL_APIGATEWAY_VERBOSE
Flags not given on the command line are read from their environment variable.
`
	if got := out.String(); got != want {
		t.Errorf("usage:\n%s\nwant:\n%s", got, want)
	}

	// The same text is printed by fs.Usage, e.g. when a caller rejects a
	// flag combination after parsing.
	out.Reset()
	f.fs.Usage()
	if out.String() != want {
		t.Errorf("fs.Usage printed something else:\n%s", out.String())
	}
}
