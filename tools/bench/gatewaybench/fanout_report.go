package gatewaybench

import (
	"fmt"
	"runtime"
	"strconv"
	"time"

	"github.com/shoalmesh/shoal/tools/bench/report"
)

// fanoutTables renders the fan-out runs: delivery delays, then the
// gateway's resources, each with its target verdicts.
func fanoutTables(cfg FanoutConfig, runs []*fanoutResult) []*report.Table {
	delays := &report.Table{
		Title: "Watch fan-out: write-to-delivery delay",
		Columns: []string{"watchers", "client", "connections", "events", "CreatePod p50", "max", "all watchers have it p50", "p99", "max",
			"per delivery p50", "p99", "missing", "stream errors"},
	}
	resources := &report.Table{
		Title: "Watch fan-out: gateway resources",
		Columns: []string{"watchers", "stream setup", "RSS idle", "RSS watching", "gateway CPU", "CPU per delivery",
			"bench CPU", "other CPU", "window"},
	}
	var verdicts []string
	for _, r := range runs {
		delays.AddRow(strconv.Itoa(r.Watchers), r.Client, strconv.Itoa(r.Conns), strconv.Itoa(r.Events),
			report.Millis(r.Create.P50), report.Millis(r.Create.Max),
			report.Millis(r.EventAll.P50), report.Millis(r.EventAll.P99), report.Millis(r.EventAll.Max),
			report.Millis(r.Delivery.P50), report.Millis(r.Delivery.P99),
			strconv.Itoa(r.Missing), streamErrorsCell(r))
		deliveries := r.Watchers * r.Events
		resources.AddRow(strconv.Itoa(r.Watchers), r.Setup.Round(time.Millisecond).String(),
			report.MiB(r.RSSIdle), report.MiB(r.RSSWatching),
			seconds(r.GatewayCPU), perDelivery(r.GatewayCPU, deliveries),
			seconds(r.BenchCPU), seconds(r.OtherCPU), r.Window.Round(time.Millisecond).String())
		verdicts = append(verdicts,
			report.Verdict(fmt.Sprintf("%d watchers: per-delivery p99", r.Watchers), report.Millis(r.Delivery.P99),
				"< "+cfg.TargetP99.String(), r.Missing == 0 && r.Delivery.P99 < cfg.TargetP99),
			report.Verdict(fmt.Sprintf("%d watchers: gateway RSS", r.Watchers), report.MiB(r.RSSWatching),
				"< "+report.MiB(cfg.TargetRSS), r.RSSWatching < cfg.TargetRSS))
	}
	delays.Notes = append([]string{
		fmt.Sprintf("Each run: a fresh gateway; every watcher watches pods in one namespace from the current resource version; "+
			"%d pods are then created %s apart, each stamped with its write time. Delays run from the write (before CreatePod) "+
			"to the watcher's Recv, so they include the create itself.", runEvents(runs), cfg.Interval),
		"\"all watchers have it\" is, per event, the delay until the last watcher received it; \"per delivery\" is over every (watcher, event) pair.",
		"The watchers run in the benchmark process on the same cores as the gateway, so their CPU competes with it. " +
			"Client h2: one goroutine per HTTP/2 connection reads the frames of all its streams and splits out the gRPC messages (the gateway serves the same streams, frames and flow control as to grpc-go); " +
			"client grpc: a grpc-go stream and goroutine per watcher. Either way a watcher reads only the event's type, pod name and write stamp, in place.",
	}, verdicts...)
	resources.Notes = []string{
		"RSS is VmRSS of the gateway process (which embeds etcd) before any watcher, and the highest value seen with every watcher open.",
		fmt.Sprintf("CPU is utime+stime of the gateway, of the benchmark process (which runs every watcher) and of every other process on the machine, "+
			"over the window from the first write to the last delivery; with %d CPUs the machine has %d CPU-s per second of window.", runtime.NumCPU(), runtime.NumCPU()),
	}
	return []*report.Table{delays, resources}
}

func runEvents(runs []*fanoutResult) int {
	if len(runs) == 0 {
		return 0
	}
	return runs[0].Events
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }

// perDelivery is the gateway CPU spent per delivered event.
func perDelivery(cpu time.Duration, deliveries int) string {
	if deliveries == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1f µs", float64(cpu.Microseconds())/float64(deliveries))
}

func streamErrorsCell(r *fanoutResult) string {
	if r.WatchErrors == 0 {
		return "0"
	}
	return errorsCell(stepResult{Errors: r.WatchErrors, FirstErr: r.FirstErr})
}
