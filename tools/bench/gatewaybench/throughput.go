package gatewaybench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"sync/atomic"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/sdk/go/client"
	"github.com/shoalmesh/shoal/services/apigateway/gatewaytest"
	"github.com/shoalmesh/shoal/tools/bench/procstat"
	"github.com/shoalmesh/shoal/tools/bench/report"
	"github.com/shoalmesh/shoal/tools/bench/stats"
)

const (
	// rawPrefix is outside /shoal/registry/, so raw writes reach no watch
	// cache and cost the gateway nothing.
	rawPrefix    = "/bench/raw/"
	createNS     = "bench-create"
	listNS       = "bench-list"
	warmupOps    = 20
	setupWorkers = 8
)

// Op names, as reported.
const (
	opEtcdPut  = "etcd Put"
	opEtcdGet  = "etcd Get"
	opCreate   = "gateway CreatePod"
	opGet      = "gateway GetPod"
	opListPods = "gateway ListPods"
)

// throughputBench holds the clients and what the steps have written so far.
type throughputBench struct {
	cfg   ThroughputConfig
	etcd  *clientv3.Client
	pods  *client.Resource[*shoalv1.Pod]
	value []byte // as large as a stored pod

	putKeys atomic.Int64 // raw keys written: rawKey(0..n-1)
	created atomic.Int64 // pods attempted in createNS: podName(0..n-1)
}

// newThroughputBench prepares the namespaces, the listed pods and a value
// the size of an encoded pod.
func newThroughputBench(ctx context.Context, cfg ThroughputConfig, etcd *clientv3.Client, conn grpc.ClientConnInterface) (*throughputBench, error) {
	b := &throughputBench{cfg: cfg, etcd: etcd, pods: client.For[*shoalv1.Pod](conn)}
	nss := client.For[*shoalv1.Namespace](conn)
	for _, ns := range []string{createNS, listNS} {
		if _, err := nss.Create(ctx, gatewaytest.Namespace(ns)); err != nil {
			return nil, fmt.Errorf("gatewaybench: creating namespace %s: %w", ns, err)
		}
	}
	// The raw value is the pod exactly as the gateway stores it (with its
	// uid, timestamps and defaults; without resource_version, which is
	// never stored), so both sides move the same bytes.
	probe, err := b.pods.Create(ctx, gatewaytest.Pod(listNS, "probe", map[string]string{"app": "bench"}))
	if err != nil {
		return nil, fmt.Errorf("gatewaybench: creating a pod: %w", err)
	}
	probe.Metadata.ResourceVersion = ""
	if b.value, err = proto.Marshal(probe); err != nil {
		return nil, err
	}
	err = parallel(ctx, cfg.ListPods-1, setupWorkers, func(ctx context.Context, i int) error {
		_, err := b.pods.Create(ctx, gatewaytest.Pod(listNS, fmt.Sprintf("listed-%04d", i), map[string]string{"app": "bench"}))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("gatewaybench: filling %s: %w", listNS, err)
	}
	return b, nil
}

func rawKey(i int64) string  { return rawPrefix + strconv.FormatInt(i, 10) }
func podName(i int64) string { return "pod-" + strconv.FormatInt(i, 10) }

// namedOp is an op with the name it is reported under.
type namedOp struct {
	name string
	do   op
}

// ops are the measured operations, in the order they run. Reads come after
// the writes of the same store, so that they find keys to read.
func (b *throughputBench) ops() []namedOp {
	return []namedOp{
		{opEtcdPut, b.etcdPut},
		{opEtcdGet, b.etcdGet},
		{opCreate, b.createPod},
		{opGet, b.getPod},
		{opListPods, b.listPods},
	}
}

func (b *throughputBench) etcdPut(ctx context.Context, _ int) error {
	_, err := b.etcd.Put(ctx, rawKey(b.putKeys.Add(1)-1), string(b.value))
	return err
}

// etcdGet is a linearizable read, as the gateway's GetPod does.
func (b *throughputBench) etcdGet(ctx context.Context, _ int) error {
	resp, err := b.etcd.Get(ctx, rawKey(rand.Int64N(max(b.putKeys.Load(), 1))))
	if err == nil && len(resp.Kvs) == 0 {
		err = errors.New("gatewaybench: raw key missing")
	}
	return err
}

func (b *throughputBench) createPod(ctx context.Context, _ int) error {
	_, err := b.pods.Create(ctx, gatewaytest.Pod(createNS, podName(b.created.Add(1)-1), map[string]string{"app": "bench"}))
	return err
}

func (b *throughputBench) getPod(ctx context.Context, _ int) error {
	_, err := b.pods.Get(ctx, createNS, podName(rand.Int64N(max(b.created.Load(), 1))))
	return err
}

// listPods reads the whole listed namespace with the client's default
// consistency (resource_version ""): the answer is as fresh as etcd.
func (b *throughputBench) listPods(ctx context.Context, _ int) error {
	res, err := b.pods.List(ctx, client.ListOptions{Namespace: listNS})
	if err == nil && len(res.Items) != b.cfg.ListPods {
		err = fmt.Errorf("gatewaybench: listed %d pods, want %d", len(res.Items), b.cfg.ListPods)
	}
	return err
}

// throughputResults are the step results by op name and concurrency.
type throughputResults map[string]map[int]stepResult

// run measures every op at every concurrency level.
func (b *throughputBench) run(ctx context.Context, pid int, progress io.Writer) (throughputResults, error) {
	out := throughputResults{}
	for _, o := range b.ops() {
		// Warm up connections and caches; not measured.
		for i := range warmupOps {
			if err := o.do(ctx, i); err != nil {
				return nil, fmt.Errorf("gatewaybench: %s warm-up: %w", o.name, err)
			}
		}
		out[o.name] = map[int]stepResult{}
		for _, c := range b.cfg.Concurrency {
			cpu0, cpuErr := procstat.CPU(pid)
			res := closedLoop(ctx, c, b.cfg.StepDuration, b.cfg.StepOps, o.do)
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			if cpu1, err := procstat.CPU(pid); err == nil && cpuErr == nil {
				res.ServerCPU = cpu1 - cpu0
			}
			out[o.name][c] = res
			fmt.Fprintf(progress, "  %-18s c=%-3d %9s  p50 %-9s p99 %-9s server CPU/op %-8s errors %d\n",
				o.name, c, report.Rate(res.Rate()), report.Millis(res.Latency.P50), report.Millis(res.Latency.P99), report.Micros(res.CPUPerOp()), res.Errors)
		}
	}
	return out, nil
}

// tables renders the results: every step, then the gateway/etcd ratios.
func (r throughputResults) tables(cfg ThroughputConfig, valueSize int) []*report.Table {
	steps := &report.Table{
		Title:   "Throughput and latency, closed loop (etcd vs gateway)",
		Columns: []string{"op", "concurrency", "ops/s", "p50", "p99", "server CPU/op", "errors"},
		Notes: []string{
			fmt.Sprintf("Each step runs %s%s; etcd values are %d bytes, the size of a stored pod.", cfg.StepDuration, stepOpsNote(cfg.StepOps), valueSize),
			"etcd ops go straight to the embedded etcd's client URL; gateway ops go through sdk/go/client over one gRPC connection.",
			"server CPU/op is the gateway process's CPU time (its embedded etcd included) over the step, per successful op: the cost of an op, which other load on the machine barely changes.",
			fmt.Sprintf("ListPods reads a namespace of %d pods with resource_version \"\" (as fresh as etcd).", cfg.ListPods),
		},
	}
	ratios := &report.Table{
		Title:   "Gateway cost over raw etcd (throughput ratio)",
		Columns: []string{"concurrency", "etcd Put/s", "CreatePod/s", "CreatePod / Put", "etcd Get/s", "GetPod/s", "GetPod / Get"},
	}
	for _, name := range []string{opEtcdPut, opEtcdGet, opCreate, opGet, opListPods} {
		for _, c := range cfg.Concurrency {
			res, ok := r[name][c]
			if !ok {
				continue
			}
			steps.AddRow(name, strconv.Itoa(c), report.Rate(res.Rate()), report.Millis(res.Latency.P50), report.Millis(res.Latency.P99), report.Micros(res.CPUPerOp()), errorsCell(res))
		}
	}
	for _, c := range cfg.Concurrency {
		put, create := r[opEtcdPut][c].Rate(), r[opCreate][c].Rate()
		get, gwGet := r[opEtcdGet][c].Rate(), r[opGet][c].Rate()
		ratios.AddRow(strconv.Itoa(c),
			report.Rate(put), report.Rate(create), report.Ratio(stats.Ratio(create, put)),
			report.Rate(get), report.Rate(gwGet), report.Ratio(stats.Ratio(gwGet, get)))
	}
	return []*report.Table{steps, ratios}
}

func stepOpsNote(n int) string {
	if n > 0 {
		return fmt.Sprintf(" or %d ops, whichever ends first", n)
	}
	return ""
}

// errorsCell is the error count, with the first error when there was one.
func errorsCell(r stepResult) string {
	if r.Errors == 0 {
		return "0"
	}
	msg := r.FirstErr.Error()
	if len(msg) > 80 {
		msg = msg[:80] + "..."
	}
	return fmt.Sprintf("%d (%s)", r.Errors, msg)
}
