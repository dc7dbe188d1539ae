package nodeagentbench

import (
	"fmt"
	"os"
	"time"

	"github.com/shoalmesh/shoal/tools/bench/report"
)

// ID names the benchmark's section in docs/benchmarks.md.
const ID = "nodeagent"

// Document renders the result as a report section ("Node agent").
func (r *Result) Document() *report.Document {
	d := &report.Document{ID: ID, Title: "Node agent", Date: r.Started, Command: os.Args,
		Machine: report.ThisMachine(), Load: r.Load,
		Conditions: []string{fmt.Sprintf("containerd %s (Debian), runc, CNI bridge + host-local; image: busybox-static, command `sleep`", r.RuntimeVer),
			"Agent as its own process; gateway (embedded etcd) in the benchmark process; all on one machine"}}
	lat := &report.Table{
		Title:   "Pod startup latency: CreatePod to Running and Ready seen by a watch, N pods created at once on one node",
		Columns: []string{"pods at once", "samples", "shoal p50", "shoal p99", "shoal max", "raw containerd p50", "raw containerd p99", "p50 / raw p50"},
	}
	for _, b := range r.Batches {
		lat.AddRow(fmt.Sprint(b.Pods), fmt.Sprint(b.Samples), report.Millis(b.Shoal.P50), report.Millis(b.Shoal.P99),
			report.Millis(b.Shoal.Max), report.Millis(b.Raw.P50), report.Millis(b.Raw.P99), report.Ratio(b.P50Ratio))
	}
	lat.Notes = append(lat.Notes, "Raw containerd = container create (snapshot + spec) + task create + start of the same image and command through the containerd Go client, same batch size, same run: the floor. Shoal adds the API round trips, the pause sandbox (a second container), the network namespace and CNI, the log FIFOs and the status write.")
	for _, b := range r.Batches {
		if b.Pods == 1 {
			lat.Notes = append(lat.Notes,
				report.Verdict("single pod p99", report.Millis(b.Shoal.P99), "< 1 s", b.Shoal.P99 < time.Second),
				report.Verdict("single pod p50 / raw containerd p50", report.Ratio(b.P50Ratio), "<= 1.5x", b.P50Ratio <= 1.5))
		}
		lat.Notes = append(lat.Notes, report.Verdict(fmt.Sprintf("%d pods p99 (Kubernetes SLO)", b.Pods), report.Millis(b.Shoal.P99), "<= 5 s", b.Shoal.P99 <= 5*time.Second))
	}
	idle := &report.Table{
		Title:   fmt.Sprintf("Agent cost with %d idle pods", r.IdlePods),
		Columns: []string{"RSS before pods", "RSS with idle pods", "CPU with idle pods"},
	}
	idle.AddRow(report.MiB(r.AgentRSSStart), report.MiB(r.IdleRSS), fmt.Sprintf("%.2f%% of one core (%v CPU over %v)", 100*r.IdleCPU, r.IdleCPUTime, r.IdleWindow))
	idle.Notes = []string{"CPU is the agent process's user+system time (/proc, 10 ms ticks) over the window; the agent resyncs every pod every 10 s, which finds nothing to do and writes nothing."}
	d.Tables = []*report.Table{lat, idle}
	return d
}
