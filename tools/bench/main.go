// Command bench runs Shoal's benchmarks on this machine, one per
// subcommand (see docs/benchmarks.md and docs/benchmarks-xds.md):
//
//	make build && go run ./tools/bench [apigateway] [flags]   # gatewaybench: the gateway against raw etcd, watch fan-out
//	go build -o bin/ ./services/apigateway ./services/controller && go run ./tools/bench controller [flags]
//	go run ./tools/bench scheduler [flags]
//	sudo go run ./tools/bench nodeagent [flags]
//	go run ./tools/bench xds [flags]
//
// apigateway is the default, so `go run ./tools/bench --watchers 1000`
// still runs it. Every subcommand prints its results, writes them with
// --markdown FILE as its own section of that file (replacing the previous
// run's), takes each flag from the environment too (SHOAL_BENCH_* for
// apigateway, SHOAL_<NAME>BENCH_* for the others; see --help), and stops
// on SIGINT or SIGTERM. This file is flags only: the work is in the bench
// packages.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/shoalmesh/shoal/sdk/go/flagenv"
	"github.com/shoalmesh/shoal/sdk/go/lifecycle"
	"github.com/shoalmesh/shoal/tools/bench/controllerbench"
	"github.com/shoalmesh/shoal/tools/bench/gatewaybench"
	"github.com/shoalmesh/shoal/tools/bench/nodeagentbench"
	"github.com/shoalmesh/shoal/tools/bench/report"
	"github.com/shoalmesh/shoal/tools/bench/schedulerbench"
	"github.com/shoalmesh/shoal/tools/bench/xdsbench"
)

func main() {
	lifecycle.Main("bench", func(args []string) error { return run(os.Args[0], args) })
}

// benchmark is one subcommand.
type benchmark struct {
	name string
	// env is the prefix of the flags' environment variables.
	env string
	// timeout, when set, bounds the whole run.
	timeout time.Duration
	// flags registers the benchmark's flags on fs and returns what runs it
	// with their values, reporting progress to progress.
	flags func(fs *flag.FlagSet) func(ctx context.Context, progress io.Writer) (result, error)
}

// result is what a run prints and writes into a Markdown file: a
// report.Document, or a section the benchmark renders itself.
type result interface {
	WriteText(w io.Writer) error
	WriteMarkdownFile(path string) error
}

// benchmarks are the subcommands; the first is the default.
var benchmarks = []benchmark{
	{name: "apigateway", env: "SHOAL_BENCH", flags: apigatewayFlags},
	{name: "controller", env: "SHOAL_CONTROLLERBENCH", flags: controllerFlags},
	{name: "scheduler", env: "SHOAL_SCHEDULERBENCH", timeout: 30 * time.Minute, flags: schedulerFlags},
	{name: "nodeagent", env: "SHOAL_NODEAGENTBENCH", timeout: 30 * time.Minute, flags: nodeagentFlags},
	{name: "xds", env: "SHOAL_XDSBENCH", flags: xdsFlags},
}

// pick returns the benchmark args[0] names, and the args after it; the
// default benchmark when args do not start with a name.
func pick(args []string) (benchmark, []string, error) {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return benchmarks[0], args, nil
	}
	for _, b := range benchmarks {
		if b.name == args[0] {
			return b, args[1:], nil
		}
	}
	return benchmark{}, nil, fmt.Errorf("no benchmark %q (have %s)", args[0], strings.Join(names(), ", "))
}

func names() []string {
	out := make([]string, len(benchmarks))
	for i, b := range benchmarks {
		out[i] = b.name
	}
	return out
}

// run runs the benchmark args name with the rest of args as its flags;
// argv0 is the command's name, for the command line the report records.
func run(argv0 string, args []string) error {
	if len(args) > 0 && args[0] == xdsbench.ClientsCommand {
		// Not a benchmark: the xds benchmark re-executes this binary as
		// its client processes.
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
		defer stop()
		return xdsbench.ClientsMain(ctx, args[1:], os.Stdin, os.Stdout)
	}
	b, flags, err := pick(args)
	if err != nil {
		return err
	}
	fs := flag.NewFlagSet(fmt.Sprintf("bench %s (benchmarks: %s; the first is the default)", b.name, strings.Join(names(), ", ")), flag.ContinueOnError)
	var markdown, selfProfile string
	fs.StringVar(&markdown, "markdown", "", "also write the results as a Markdown section into this file (replacing the previous run's section)")
	fs.StringVar(&selfProfile, "bench-cpuprofile", "", "write a CPU profile of the benchmark process itself (its clients) here")
	start := b.flags(fs)
	if err := flagenv.Parse(fs, b.env, flags); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if b.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, b.timeout)
		defer cancel()
	}
	if selfProfile != "" {
		f, err := os.Create(selfProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	res, err := start(ctx, os.Stderr)
	if err != nil {
		return err
	}
	if doc, ok := res.(*report.Document); ok {
		doc.Command = commandLine(append([]string{argv0}, args...))
	}
	if err := res.WriteText(os.Stdout); err != nil {
		return err
	}
	if markdown != "" {
		return res.WriteMarkdownFile(markdown)
	}
	return nil
}

func apigatewayFlags(fs *flag.FlagSet) func(context.Context, io.Writer) (result, error) {
	cfg := gatewaybench.NewConfig()
	phases := stringList(cfg.Phases)
	conc := intList(cfg.Throughput.Concurrency)
	watchers := intList(cfg.Fanout.Watchers)
	fs.StringVar(&cfg.GatewayBin, "apigateway-bin", cfg.GatewayBin, "apigateway binary to start as a subprocess (make build)")
	fs.Func("apigateway-arg", "extra apigateway flag, repeatable, appended last (e.g. --apigateway-arg=--metrics-addr=127.0.0.1:9443 --apigateway-arg=--enable-pprof to profile it)", func(v string) error {
		cfg.GatewayArgs = append(cfg.GatewayArgs, v)
		return nil
	})
	fs.Var(&phases, "phases", "comma-separated phases to run: throughput, openloop, fanout")
	fs.DurationVar(&cfg.StartTimeout, "start-timeout", cfg.StartTimeout, "how long the gateway may take to serve")
	fs.Var(&conc, "concurrency", "comma-separated closed-loop concurrency levels")
	fs.DurationVar(&cfg.Throughput.StepDuration, "step-duration", cfg.Throughput.StepDuration, "length of each closed-loop step (one op at one concurrency)")
	fs.IntVar(&cfg.Throughput.StepOps, "step-ops", cfg.Throughput.StepOps, "if positive, end each closed-loop step after this many ops")
	fs.IntVar(&cfg.Throughput.ListPods, "list-pods", cfg.Throughput.ListPods, "pods in the namespace ListPods reads")
	fs.IntVar(&cfg.OpenLoop.Rate, "open-rate", cfg.OpenLoop.Rate, "open-loop CreatePod rate per second")
	fs.DurationVar(&cfg.OpenLoop.Duration, "open-duration", cfg.OpenLoop.Duration, "open-loop length")
	fs.Var(&watchers, "watchers", "comma-separated watcher counts; each fan-out runs on a fresh gateway")
	fs.IntVar(&cfg.Fanout.StreamsPerConn, "streams-per-conn", cfg.Fanout.StreamsPerConn, "watch streams per gRPC connection")
	fs.StringVar(&cfg.Fanout.Client, "fanout-client", cfg.Fanout.Client, "the watchers' client: h2 (one reader per HTTP/2 connection, the lightest on the shared cores) or grpc (a grpc-go stream and goroutine per watcher)")
	fs.IntVar(&cfg.Fanout.Events, "watch-events", cfg.Fanout.Events, "pods written while the watchers listen")
	fs.DurationVar(&cfg.Fanout.Interval, "watch-interval", cfg.Fanout.Interval, "time between those writes")
	fs.DurationVar(&cfg.Fanout.Timeout, "watch-timeout", cfg.Fanout.Timeout, "how long to wait for deliveries after the last write")
	return func(ctx context.Context, progress io.Writer) (result, error) {
		cfg.Phases, cfg.Throughput.Concurrency, cfg.Fanout.Watchers = phases, conc, watchers
		return gatewaybench.Run(ctx, cfg, progress)
	}
}

func controllerFlags(fs *flag.FlagSet) func(context.Context, io.Writer) (result, error) {
	cfg := controllerbench.NewConfig()
	fs.StringVar(&cfg.GatewayBin, "apigateway-bin", cfg.GatewayBin, "apigateway binary")
	fs.StringVar(&cfg.ControllerBin, "controller-bin", cfg.ControllerBin, "controller binary")
	fs.IntVar(&cfg.Replicas, "replicas", cfg.Replicas, "replicas of the Deployment")
	fs.IntVar(&cfg.Nodes, "nodes", cfg.Nodes, "fake nodes")
	fs.IntVar(&cfg.PodsPerNode, "pods-per-node", cfg.PodsPerNode, "pod capacity of each node")
	fs.StringVar(&cfg.MaxSurge, "max-surge", cfg.MaxSurge, "rolling update max surge")
	fs.StringVar(&cfg.MaxUnavailable, "max-unavailable", cfg.MaxUnavailable, "rolling update max unavailable")
	fs.IntVar(&cfg.ControllerWorkers, "controller-workers", cfg.ControllerWorkers, "the controller's --workers")
	fs.IntVar(&cfg.AgentWorkers, "agent-workers", cfg.AgentWorkers, "fake node agent status workers")
	fs.BoolVar(&cfg.Binder, "binder", cfg.Binder, "bind with fakeagent's Binder instead of the real scheduler")
	fs.DurationVar(&cfg.PhaseTimeout, "phase-timeout", cfg.PhaseTimeout, "bound of each phase")
	return func(ctx context.Context, progress io.Writer) (result, error) {
		return document(controllerbench.Run(ctx, cfg, progress))
	}
}

func schedulerFlags(fs *flag.FlagSet) func(context.Context, io.Writer) (result, error) {
	cfg := schedulerbench.NewConfig()
	fs.Func("sizes", "NODESxPODS points, comma-separated (default 1000x5000,5000x10000)", func(v string) (err error) {
		cfg.Sizes, err = schedulerbench.ParseSizes(v)
		return err
	})
	fs.IntVar(&cfg.CreateConcurrency, "create-concurrency", cfg.CreateConcurrency, "clients creating nodes and pods")
	fs.DurationVar(&cfg.EtcdTxnDuration, "etcd-duration", cfg.EtcdTxnDuration, "length of the raw etcd measurement")
	fs.BoolVar(&cfg.EtcdNoFsync, "etcd-no-fsync", cfg.EtcdNoFsync, "turn etcd's fsync off (the gateway's default keeps it)")
	fs.IntVar(&cfg.PercentageOfNodesToScore, "percentage-of-nodes-to-score", cfg.PercentageOfNodesToScore, "scheduler flag (0: its adaptive default)")
	fs.IntVar(&cfg.Parallelism, "parallelism", cfg.Parallelism, "scheduler flag (0: its default)")
	fs.IntVar(&cfg.MaxInFlightBinds, "max-in-flight-binds", cfg.MaxInFlightBinds, "scheduler flag (0: its default)")
	fs.BoolVar(&cfg.SkipBacklog, "skip-backlog", cfg.SkipBacklog, "leave out the backlog phase")
	fs.StringVar(&cfg.CPUProfile, "cpuprofile", cfg.CPUProfile, "write a CPU profile of the last size's first phase here")
	return func(ctx context.Context, progress io.Writer) (result, error) {
		cfg.Progress = progress
		return document(schedulerbench.Run(ctx, cfg))
	}
}

func nodeagentFlags(fs *flag.FlagSet) func(context.Context, io.Writer) (result, error) {
	cfg := nodeagentbench.NewConfig()
	batches := intList(cfg.Batches)
	var rounds int
	fs.DurationVar(&cfg.IdleWindow, "idle-window", cfg.IdleWindow, "how long idle CPU is sampled")
	fs.IntVar(&cfg.IdlePods, "idle-pods", cfg.IdlePods, "pods kept running while idle cost is sampled (0 skips)")
	fs.StringVar(&cfg.WorkDir, "work-dir", cfg.WorkDir, "keep containerd, images, agent state and agent.log here (default: a temporary directory, removed)")
	fs.Var(&batches, "batches", "pods created at once, comma-separated")
	fs.IntVar(&rounds, "rounds", 0, "rounds per batch size (0: 20 for 1 pod, 3 for 10, 2 for 50)")
	return func(ctx context.Context, progress io.Writer) (result, error) {
		cfg.Batches = nil
		for _, n := range batches {
			if n <= 0 {
				return nil, fmt.Errorf("--batches: %d is not a positive pod count", n)
			}
			cfg.Batches = append(cfg.Batches, n)
			if rounds > 0 {
				cfg.Rounds[n] = rounds
			}
		}
		cfg.Progress = progress
		return document(nodeagentbench.Run(ctx, cfg))
	}
}

func xdsFlags(fs *flag.FlagSet) func(context.Context, io.Writer) (result, error) {
	cfg := xdsbench.NewConfig()
	fs.IntVar(&cfg.Streams, "streams", cfg.Streams, "proxyless gRPC clients, one ADS stream each")
	fs.IntVar(&cfg.Changes, "changes", cfg.Changes, "endpoint flips measured per server")
	fs.DurationVar(&cfg.Debounce, "debounce", cfg.Debounce, "the xds service's --debounce")
	fs.StringVar(&cfg.XDSBin, "xds-bin", cfg.XDSBin, "xds binary (empty: go build it)")
	fs.StringVar(&cfg.BareBin, "bare-bin", cfg.BareBin, "bare go-control-plane server binary, tools/bench/xdsbench/barexds (empty: go build it)")
	fs.DurationVar(&cfg.Timeout, "timeout", cfg.Timeout, "bound of each wait (clients ready, one change converging)")
	fs.IntVar(&cfg.ClientProcs, "client-procs", cfg.ClientProcs, "processes each server's clients are split into (this binary, re-executed as `bench "+xdsbench.ClientsCommand+"`), the same for both servers")
	fs.IntVar(&cfg.ClientMaxProcs, "client-gomaxprocs", cfg.ClientMaxProcs, "GOMAXPROCS of each client process, as in a pod with that CPU limit (0: Go's default, every core)")
	fs.StringVar(&cfg.ProfileDir, "profile", cfg.ProfileDir, "directory for CPU and allocation profiles of both servers, and CPU and allocation profiles of every client process (clients-bare-J, clients-xds-J) and of this process (bench: backends, gateway), over the change phase")
	return func(ctx context.Context, progress io.Writer) (result, error) {
		res, err := xdsbench.Run(ctx, cfg, progress)
		if err != nil {
			return nil, err
		}
		return section{id: "xds", markdown: res.Markdown()}, nil
	}
}

// document is the result of a bench package's Run: its report.Document.
func document[R interface{ Document() *report.Document }](res R, err error) (result, error) {
	if err != nil {
		return nil, err
	}
	return res.Document(), nil
}

// section is the result of a benchmark that renders its Markdown itself
// (xdsbench): printed as it is, and kept between its markers in a file.
type section struct {
	id       string
	markdown []byte
}

func (s section) WriteText(w io.Writer) error {
	_, err := w.Write(s.markdown)
	return err
}

func (s section) WriteMarkdownFile(path string) error {
	begin, end := report.Markers(s.id)
	return report.SpliceFile(path, s.id, []byte(begin+"\n"+string(s.markdown)+end+"\n"))
}

// commandLine is argv as a reader can re-run it: `go run` puts the binary
// in a temporary build directory, which is replaced by the package path.
func commandLine(argv []string) []string {
	if strings.Contains(argv[0], "/go-build") {
		return append([]string{"go", "run", "./tools/bench"}, argv[1:]...)
	}
	return slices.Clone(argv)
}

// intList is a comma-separated list of integers flag.
type intList []int

func (l *intList) String() string {
	s := make([]string, len(*l))
	for i, v := range *l {
		s[i] = strconv.Itoa(v)
	}
	return strings.Join(s, ",")
}

func (l *intList) Set(v string) error {
	var out []int
	for f := range strings.SplitSeq(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(strings.ReplaceAll(f, "_", "")))
		if err != nil {
			return fmt.Errorf("%q is not an integer", f)
		}
		out = append(out, n)
	}
	*l = out
	return nil
}

// stringList is a comma-separated list of words flag.
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ",") }

func (l *stringList) Set(v string) error {
	var out []string
	for f := range strings.SplitSeq(v, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	*l = out
	return nil
}
