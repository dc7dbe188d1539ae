package gatewaybench

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"sync/atomic"

	"github.com/shoalmesh/shoal/services/apigateway/gatewaytest"
	"github.com/shoalmesh/shoal/tools/bench/report"
)

// openLoopResults are the open-loop runs: raw etcd first as the baseline,
// then the gateway.
type openLoopResults struct {
	EtcdPut, Create openResult
}

// openLoops runs etcd Put and then CreatePod at cfg.Rate for cfg.Duration
// each. The etcd run shows how much of the gateway's tail is etcd's own
// (fsync stalls of the disk beneath it).
func (b *throughputBench) openLoops(ctx context.Context, cfg OpenLoopConfig, progress io.Writer) openLoopResults {
	var out openLoopResults
	out.EtcdPut = openLoop(ctx, cfg.Rate, cfg.Duration, b.etcdPut)
	printOpen(progress, opEtcdPut, cfg, out.EtcdPut)
	// Own names, in the namespace the closed-loop creates use.
	var n atomic.Int64
	out.Create = openLoop(ctx, cfg.Rate, cfg.Duration, func(ctx context.Context, _ int) error {
		name := "open-" + strconv.FormatInt(n.Add(1)-1, 10)
		_, err := b.pods.Create(ctx, gatewaytest.Pod(createNS, name, map[string]string{"app": "bench"}))
		return err
	})
	printOpen(progress, opCreate, cfg, out.Create)
	return out
}

func printOpen(w io.Writer, name string, cfg OpenLoopConfig, res openResult) {
	fmt.Fprintf(w, "  open loop %-18s %d/s: achieved %s p50 %s p99 %s errors %d\n",
		name, cfg.Rate, report.Rate(res.Rate()), report.Millis(res.Latency.P50), report.Millis(res.Latency.P99), res.Errors)
}

func (r openLoopResults) table(cfg OpenLoopConfig) *report.Table {
	t := &report.Table{
		Title:   "Latency at a fixed arrival rate (open loop)",
		Columns: []string{"op", "offered", "achieved", "requests", "p50", "p99", "max", "errors"},
	}
	for _, row := range []struct {
		name string
		res  openResult
	}{{opEtcdPut, r.EtcdPut}, {opCreate, r.Create}} {
		t.AddRow(row.name, report.Rate(row.res.Offered), report.Rate(row.res.Rate()), strconv.Itoa(row.res.Ops+row.res.Errors),
			report.Millis(row.res.Latency.P50), report.Millis(row.res.Latency.P99), report.Millis(row.res.Latency.Max), errorsCell(row.res.stepResult))
	}
	c := r.Create
	t.Notes = []string{
		fmt.Sprintf("%s of requests per op, issued on schedule whether or not earlier ones had returned; latency counts from the scheduled start.", cfg.Duration),
		"etcd Put (same value size, straight to etcd) is the baseline: the gateway cannot have a shorter tail than the etcd beneath it.",
		report.Verdict("CreatePod p99", report.Millis(c.Latency.P99), "< "+cfg.TargetP99.String(), c.Errors == 0 && c.Latency.P99 < cfg.TargetP99),
		fmt.Sprintf("The benchmark issued its requests at most %s behind schedule.", report.Millis(max(c.MaxDispatchLag, r.EtcdPut.MaxDispatchLag))),
	}
	return t
}
