package gatewaybench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"syscall"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/shoalmesh/shoal/sdk/go/client"
	"github.com/shoalmesh/shoal/tools/bench/report"
)

// Run runs the phases cfg selects and returns their results; progress gets
// a line per step as it finishes. The caller fills in the command line.
func Run(ctx context.Context, cfg Config, progress io.Writer) (*report.Document, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("gatewaybench: %w", err)
	}
	if err := raiseNoFileLimit(); err != nil {
		return nil, err
	}
	doc := &report.Document{ID: "apigateway", Title: "apigateway benchmark", Date: time.Now(), Machine: report.ThisMachine(), Load: report.LoadAverage()}
	startCPU, err := takeCPUSnapshot()
	if err != nil {
		return nil, err
	}
	if cfg.runs(PhaseThroughput) || cfg.runs(PhaseOpenLoop) {
		tables, err := runRequests(ctx, cfg, progress)
		if err != nil {
			return nil, err
		}
		doc.Tables = append(doc.Tables, tables...)
	}
	if cfg.runs(PhaseFanout) {
		tables, err := runFanouts(ctx, cfg, progress)
		if err != nil {
			return nil, err
		}
		doc.Tables = append(doc.Tables, tables...)
	}
	endCPU, err := takeCPUSnapshot()
	if err != nil {
		return nil, err
	}
	doc.Conditions = append(doc.Conditions, "During the run, "+otherLoad(startCPU, endCPU)+".")
	return doc, nil
}

// runRequests runs the closed- and open-loop phases on one gateway.
func runRequests(ctx context.Context, cfg Config, progress io.Writer) (tables []*report.Table, err error) {
	fmt.Fprintln(progress, "starting apigateway for the request phases")
	p, err := startGateway(ctx, cfg.GatewayBin, cfg.GatewayArgs, cfg.StartTimeout)
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, p.stop()) }()

	etcd, err := clientv3.New(clientv3.Config{
		Endpoints:   []string{p.etcdURL},
		DialTimeout: 5 * time.Second,
		Context:     ctx,
		Logger:      zap.NewNop(),
	})
	if err != nil {
		return nil, fmt.Errorf("gatewaybench: etcd client: %w", err)
	}
	defer etcd.Close()
	conn, err := client.Dial(ctx, p.addr)
	if err != nil {
		return nil, err
	}
	defer conn.Close()

	b, err := newThroughputBench(ctx, cfg.Throughput, etcd, conn)
	if err != nil {
		return nil, err
	}
	if cfg.runs(PhaseThroughput) {
		fmt.Fprintln(progress, "closed loop")
		res, err := b.run(ctx, p.pid(), progress)
		if err != nil {
			return nil, err
		}
		tables = append(tables, res.tables(cfg.Throughput, len(b.value))...)
	}
	if cfg.runs(PhaseOpenLoop) {
		fmt.Fprintln(progress, "open loop")
		res := b.openLoops(ctx, cfg.OpenLoop, progress)
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		tables = append(tables, res.table(cfg.OpenLoop))
	}
	return tables, nil
}

// runFanouts runs one fan-out per watcher count, each on a fresh gateway so
// that memory and CPU figures belong to that count alone.
func runFanouts(ctx context.Context, cfg Config, progress io.Writer) ([]*report.Table, error) {
	var runs []*fanoutResult
	for _, n := range cfg.Fanout.Watchers {
		fmt.Fprintf(progress, "starting apigateway for %d watchers\n", n)
		res, err := runFanoutOnce(ctx, cfg, n, progress)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(progress, "  delivery p50 %s p99 %s, all-watchers max %s, RSS %s, gateway CPU %s\n",
			report.Millis(res.Delivery.P50), report.Millis(res.Delivery.P99), report.Millis(res.EventAll.Max),
			report.MiB(res.RSSWatching), seconds(res.GatewayCPU))
		runs = append(runs, res)
	}
	return fanoutTables(cfg.Fanout, runs), nil
}

func runFanoutOnce(ctx context.Context, cfg Config, n int, progress io.Writer) (res *fanoutResult, err error) {
	p, err := startGateway(ctx, cfg.GatewayBin, cfg.GatewayArgs, cfg.StartTimeout)
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, p.stop()) }()
	return runFanout(ctx, cfg.Fanout, p, n, progress)
}

// raiseNoFileLimit lifts the soft open-file limit to the hard one. Go does
// this for its own process at start-up but restores the old limit in the
// children it starts; an explicit Setrlimit (even to the value already
// set) turns that restoring off, so the gateway subprocess inherits the
// raised limit too. Thousands of watchers may mean thousands of
// connections.
func raiseNoFileLimit() error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return fmt.Errorf("gatewaybench: reading RLIMIT_NOFILE: %w", err)
	}
	lim.Cur = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return fmt.Errorf("gatewaybench: raising RLIMIT_NOFILE: %w", err)
	}
	return nil
}
