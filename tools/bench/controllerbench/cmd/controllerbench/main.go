// Command controllerbench runs the controller benchmark alone (see package
// controllerbench); tools/bench runs it with the others.
//
//	go build -o bin/ ./services/apigateway ./services/controller
//	go run ./tools/bench/controllerbench/cmd/controllerbench --markdown docs/benchmarks.md
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"

	"github.com/shoalmesh/shoal/sdk/go/flagenv"
	"github.com/shoalmesh/shoal/tools/bench/controllerbench"
)

func main() {
	if err := run(os.Args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "controllerbench:", err)
		os.Exit(1)
	}
}

func run(argv []string) error {
	cfg := controllerbench.NewConfig()
	var markdown string
	fs := flag.NewFlagSet("controllerbench", flag.ContinueOnError)
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
	fs.StringVar(&markdown, "markdown", "", "also write the results as a section into this Markdown file (replacing the previous run's)")
	if err := flagenv.Parse(fs, "SHOAL_CONTROLLERBENCH", argv[1:]); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	res, err := controllerbench.Run(ctx, cfg, os.Stderr)
	if err != nil {
		return err
	}
	doc := res.Document()
	doc.Command = slices.Clone(argv)
	if strings.Contains(argv[0], "/go-build") {
		doc.Command = append([]string{"go", "run", "./tools/bench/controllerbench/cmd/controllerbench"}, argv[1:]...)
	}
	if err := doc.WriteText(os.Stdout); err != nil {
		return err
	}
	if markdown == "" {
		return nil
	}
	return doc.WriteMarkdownFile(markdown)
}
