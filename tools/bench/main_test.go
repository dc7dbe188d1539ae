package main

import (
	"flag"
	"slices"
	"strings"
	"testing"

	"github.com/shoalmesh/shoal/tools/bench/xdsbench"
)

func TestIntList(t *testing.T) {
	tests := []struct {
		in      string
		want    []int
		wantErr bool
	}{
		{in: "1,8,32,64", want: []int{1, 8, 32, 64}},
		{in: "1000, 10_000", want: []int{1000, 10000}},
		{in: "5", want: []int{5}},
		{in: "1,,2", wantErr: true},
		{in: "ten", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			var l intList
			err := l.Set(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if !tc.wantErr && !slices.Equal(l, tc.want) {
				t.Errorf("got %v, want %v", l, tc.want)
			}
		})
	}
}

func TestStringList(t *testing.T) {
	var l stringList
	if err := l.Set(" throughput, ,fanout"); err != nil {
		t.Fatal(err)
	}
	if want := []string{"throughput", "fanout"}; !slices.Equal(l, want) {
		t.Errorf("got %v, want %v", l, want)
	}
}

func TestCommandLine(t *testing.T) {
	tests := []struct {
		name string
		argv []string
		want []string
	}{
		{name: "built binary", argv: []string{"bin/bench", "--watchers", "1000"}, want: []string{"bin/bench", "--watchers", "1000"}},
		{name: "go run", argv: []string{"/tmp/go-build123/b001/exe/bench", "--markdown", "x.md"}, want: []string{"go", "run", "./tools/bench", "--markdown", "x.md"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := commandLine(tc.argv); !slices.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestPick(t *testing.T) {
	tests := []struct {
		args     []string
		want     string
		wantRest []string
		wantErr  bool
	}{
		{args: nil, want: "apigateway"},
		{args: []string{"--watchers", "1000"}, want: "apigateway", wantRest: []string{"--watchers", "1000"}},
		{args: []string{"apigateway", "--watchers", "1000"}, want: "apigateway", wantRest: []string{"--watchers", "1000"}},
		{args: []string{"controller", "--markdown", "x.md"}, want: "controller", wantRest: []string{"--markdown", "x.md"}},
		{args: []string{"scheduler"}, want: "scheduler"},
		{args: []string{"nodeagent", "-batches", "1"}, want: "nodeagent", wantRest: []string{"-batches", "1"}},
		{args: []string{"xds"}, want: "xds"},
		{args: []string{"etcd"}, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			b, rest, err := pick(tc.args)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if tc.wantErr {
				return
			}
			if b.name != tc.want || !slices.Equal(rest, tc.wantRest) {
				t.Errorf("got %s %q, want %s %q", b.name, rest, tc.want, tc.wantRest)
			}
		})
	}
}

// TestFlags parses every benchmark's flags, defaults and one of each kind.
func TestFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
	}{
		{[]string{"--watchers", "10,20", "--phases", "fanout", "--apigateway-arg=--enable-pprof"}},
		{[]string{"controller", "--replicas", "10", "--binder"}},
		{[]string{"scheduler", "--sizes", "10x20", "--skip-backlog"}},
		{[]string{"nodeagent", "-batches", "1,10", "-rounds", "2"}},
		{[]string{"xds", "--streams", "5", "--debounce", "10ms", "--client-procs", "2"}},
	} {
		b, rest, err := pick(tc.args)
		if err != nil {
			t.Fatal(err)
		}
		fs := flag.NewFlagSet(b.name, flag.ContinueOnError)
		if b.flags(fs) == nil {
			t.Errorf("%s: no run function", b.name)
		}
		if err := fs.Parse(rest); err != nil {
			t.Errorf("%s %q: %v", b.name, rest, err)
		}
	}
}

// TestClientsCommand: the xds benchmark's client-process invocation reaches
// xdsbench.ClientsMain (which rejects it for want of --ads) instead of
// being taken for a benchmark name.
func TestClientsCommand(t *testing.T) {
	err := run("bench", []string{xdsbench.ClientsCommand, "--side", "xds"})
	if err == nil || !strings.Contains(err.Error(), "--ads") {
		t.Errorf("run(%s) = %v, want xds-clients' missing --ads error", xdsbench.ClientsCommand, err)
	}
}
