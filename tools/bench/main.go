// Command bench measures the apigateway against raw etcd and its watch
// fan-out, on this machine, in one run (see package gatewaybench and
// docs/benchmarks.md). Flags only; the work is in gatewaybench.
//
//	make build && go run ./tools/bench --markdown docs/benchmarks.md
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/shoalmesh/shoal/sdk/go/flagenv"
	"github.com/shoalmesh/shoal/tools/bench/gatewaybench"
)

func main() {
	if err := run(os.Args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(argv []string) error {
	cfg := gatewaybench.NewConfig()
	var markdown string
	phases := stringList(cfg.Phases)
	conc := intList(cfg.Throughput.Concurrency)
	watchers := intList(cfg.Fanout.Watchers)
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
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
	fs.IntVar(&cfg.Fanout.Events, "watch-events", cfg.Fanout.Events, "pods written while the watchers listen")
	fs.DurationVar(&cfg.Fanout.Interval, "watch-interval", cfg.Fanout.Interval, "time between those writes")
	fs.DurationVar(&cfg.Fanout.Timeout, "watch-timeout", cfg.Fanout.Timeout, "how long to wait for deliveries after the last write")
	fs.StringVar(&markdown, "markdown", "", "also write the results as a Markdown section into this file (replacing the previous run's section)")
	if err := flagenv.Parse(fs, "SHOAL_BENCH", argv[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	cfg.Phases, cfg.Throughput.Concurrency, cfg.Fanout.Watchers = phases, conc, watchers

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	doc, err := gatewaybench.Run(ctx, cfg, os.Stderr)
	if err != nil {
		return err
	}
	doc.Command = commandLine(argv)
	if err := doc.WriteText(os.Stdout); err != nil {
		return err
	}
	if markdown != "" {
		return doc.WriteMarkdownFile(markdown)
	}
	return nil
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
