// Command schedulerbench runs the scheduler benchmark alone (tools/bench
// can wire the same package into the common runner):
//
//	go run ./tools/bench/schedulerbench/cmd/schedulerbench -markdown docs/benchmarks.md
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/shoalmesh/shoal/tools/bench/schedulerbench"
)

func main() {
	cfg := schedulerbench.NewConfig()
	sizes := flag.String("sizes", "1000x5000,5000x10000", "NODESxPODS points, comma-separated")
	markdown := flag.String("markdown", "", "write the results as the \"Scheduler\" section of this Markdown file")
	flag.IntVar(&cfg.CreateConcurrency, "create-concurrency", cfg.CreateConcurrency, "clients creating nodes and pods")
	flag.DurationVar(&cfg.EtcdTxnDuration, "etcd-duration", cfg.EtcdTxnDuration, "length of the raw etcd measurement")
	flag.BoolVar(&cfg.EtcdNoFsync, "etcd-no-fsync", cfg.EtcdNoFsync, "turn etcd's fsync off (the gateway's default keeps it)")
	flag.IntVar(&cfg.PercentageOfNodesToScore, "percentage-of-nodes-to-score", 0, "scheduler flag (0: its adaptive default)")
	flag.IntVar(&cfg.Parallelism, "parallelism", 0, "scheduler flag (0: its default)")
	flag.IntVar(&cfg.MaxInFlightBinds, "max-in-flight-binds", 0, "scheduler flag (0: its default)")
	flag.BoolVar(&cfg.SkipBacklog, "skip-backlog", false, "leave out the backlog phase")
	flag.StringVar(&cfg.CPUProfile, "cpuprofile", "", "write a CPU profile of the last size's first phase here")
	flag.Parse()
	var err error
	if cfg.Sizes, err = schedulerbench.ParseSizes(*sizes); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	cfg.Progress = os.Stderr
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Minute)
	defer cancel()
	res, err := schedulerbench.Run(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "schedulerbench:", err)
		os.Exit(1)
	}
	doc := res.Document()
	doc.Command = commandLine(os.Args)
	_ = doc.WriteText(os.Stdout)
	if *markdown != "" {
		if err := doc.WriteMarkdownFile(*markdown); err != nil {
			fmt.Fprintln(os.Stderr, "schedulerbench:", err)
			os.Exit(1)
		}
	}
}

// commandLine is argv as a reader can re-run it: `go run` builds into a
// temporary directory, which is replaced by the package path.
func commandLine(argv []string) []string {
	if strings.Contains(argv[0], "/go-build") {
		return append([]string{"go", "run", "./tools/bench/schedulerbench/cmd/schedulerbench"}, argv[1:]...)
	}
	return append([]string(nil), argv...)
}
