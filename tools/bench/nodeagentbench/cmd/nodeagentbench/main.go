// Command nodeagentbench runs the node agent benchmark alone (tools/bench
// wires the same package into the common runner).
//
//	sudo go run ./tools/bench/nodeagentbench/cmd/nodeagentbench -markdown docs/benchmarks.md
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/shoalmesh/shoal/tools/bench/nodeagentbench"
)

func main() {
	cfg := nodeagentbench.NewConfig()
	markdown := flag.String("markdown", "", "write the results as the \"Node agent\" section of this Markdown file")
	idle := flag.Duration("idle-window", cfg.IdleWindow, "how long idle CPU is sampled")
	idlePods := flag.Int("idle-pods", cfg.IdlePods, "pods kept running while idle cost is sampled (0 skips)")
	workDir := flag.String("work-dir", "", "keep containerd, images, agent state and agent.log here (default: a temporary directory, removed)")
	batches := flag.String("batches", "1,10,50", "pods created at once, comma-separated")
	rounds := flag.Int("rounds", 0, "rounds per batch size (0: 20 for 1 pod, 3 for 10, 2 for 50)")
	flag.Parse()
	cfg.IdleWindow, cfg.IdlePods, cfg.WorkDir = *idle, *idlePods, *workDir
	cfg.Batches = nil
	for _, b := range strings.Split(*batches, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(b))
		if err != nil || n <= 0 {
			fmt.Fprintln(os.Stderr, "nodeagentbench: bad -batches")
			os.Exit(2)
		}
		cfg.Batches = append(cfg.Batches, n)
		if *rounds > 0 {
			cfg.Rounds[n] = *rounds
		}
	}
	cfg.Progress = os.Stderr
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Minute)
	defer cancel()
	res, err := nodeagentbench.Run(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "nodeagentbench:", err)
		os.Exit(1)
	}
	doc := res.Document()
	_ = doc.WriteText(os.Stdout)
	if *markdown != "" {
		if err := doc.WriteMarkdownFile(*markdown); err != nil {
			fmt.Fprintln(os.Stderr, "nodeagentbench:", err)
			os.Exit(1)
		}
	}
}
