package schedulerbench

import (
	"bytes"
	"fmt"

	"github.com/shoalmesh/shoal/tools/bench/report"
)

// DocumentID is the section id of these results in a Markdown file.
const DocumentID = "scheduler"

// kubeSchedulerFloor is kube-scheduler's CI threshold for SchedulingBasic
// 5000 nodes / 10000 pods (scheduler_perf), in pods per second.
const kubeSchedulerFloor = 270

// Tables are the results as report tables.
func (r *Result) Tables() []*report.Table {
	t := &report.Table{
		Title:   "Pods bound per second, end to end",
		Columns: []string{"nodes", "pods", "nodes checked per pod", "pods/s (create to bind seen)", "create rate", "latency p50", "latency p99", "latency max", "raw etcd txn/s", "etcd ceiling (txn/s / 2)", "backlog pods/s (scheduler alone)", "attempts: scheduled / unschedulable / error"},
	}
	for _, run := range r.Runs {
		backlog := "-"
		if run.BacklogPodsPerSec > 0 {
			backlog = report.Rate(run.BacklogPodsPerSec)
		}
		t.AddRow(
			fmt.Sprint(run.Nodes), fmt.Sprint(run.Pods), fmt.Sprint(run.FeasibleNodes),
			report.Rate(run.PodsPerSec), report.Rate(run.CreatePerSec),
			report.Millis(run.Latency.P50), report.Millis(run.Latency.P99), report.Millis(run.Latency.Max),
			report.Rate(run.EtcdTxnPerSec), report.Rate(run.EtcdTxnPerSec/2), backlog,
			fmt.Sprintf("%.0f / %.0f / %.0f", run.Attempts["scheduled"], run.Attempts["unschedulable"], run.Attempts["error"]),
		)
	}
	for _, run := range r.Runs {
		target := fmt.Sprintf(">= %.0f pods/s", r.Config.TargetPodsPerSecond)
		t.Notes = append(t.Notes, report.Verdict(fmt.Sprintf("%d nodes / %d pods", run.Nodes, run.Pods),
			report.Rate(run.PodsPerSec), target, run.PodsPerSec >= r.Config.TargetPodsPerSecond))
	}
	t.Notes = append(t.Notes,
		fmt.Sprintf("anchor: kube-scheduler's CI floor for 5000 nodes / 10000 pods is %d pods/s", kubeSchedulerFloor),
		"pods/s: pods / (last bind seen by a watch - first CreatePod started), pods created while the scheduler runs; latency: from the start of a pod's CreatePod call to its bind seen by the watch",
		"backlog: as many more pods created while no scheduler runs, then a scheduler started cold (list, election, seed) binds them: pods / (scheduler start to last bind seen)",
		"nodes checked per pod: percentageOfNodesToScore (adaptive default); etcd: closed loop of compare-and-put transactions of a pod-sized value at 64 clients, the bind concurrency, on the same etcd before the run",
	)
	return []*report.Table{t}
}

func (r *Result) conditions() []string {
	fsync := "etcd fsync on (gateway default)"
	if r.Config.EtcdNoFsync {
		fsync = "etcd fsync OFF"
	}
	return []string{
		fmt.Sprintf("In-process apigateway (embedded etcd, %s) and scheduler (default flags, leader election on), on the same cores as the %d creating clients", fsync, r.Config.CreateConcurrency),
		"Nodes: 4 CPU, 32 GiB, 110 pods, objects only; pods: 100m cpu, 500 MiB, one ReplicaSet owner per 100 pods",
	}
}

// Document is the run as a report section with id DocumentID, for
// report.Document.WriteMarkdownFile.
func (r *Result) Document() *report.Document {
	return &report.Document{
		ID:         DocumentID,
		Title:      "Scheduler",
		Date:       r.Start,
		Machine:    r.Machine,
		Load:       r.Load,
		Conditions: r.conditions(),
		Tables:     r.Tables(),
	}
}

// Markdown renders the "Scheduler" section alone (no markers).
func (r *Result) Markdown() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "## Scheduler\n\n")
	fmt.Fprintf(&b, "- Date: %s\n", r.Start.UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(&b, "- Machine: %s\n", r.Machine)
	fmt.Fprintf(&b, "- Load average at start (1, 5, 15 min): %s\n", r.Load)
	for _, c := range r.conditions() {
		fmt.Fprintf(&b, "- %s\n", c)
	}
	b.WriteString("\n")
	for _, t := range r.Tables() {
		_ = t.WriteMarkdown(&b)
	}
	return b.Bytes()
}
