// Package schedulerbench measures the scheduler end to end on this machine:
// how many pods per second go from CreatePod to bound, as a client sees it,
// with the raw etcd transaction rate of the same run printed beside it as
// the ceiling.
//
// For each size (nodes, pods) one run starts a fresh apigateway in-process
// (embedded etcd on a temporary directory, fsync on unless asked otherwise,
// the gateway's default configuration otherwise) and then:
//
//  1. measures etcd: a closed loop of transactions (compare + put of a
//     pod-sized value, as every gateway write is) at the concurrency of the
//     scheduler's binds, straight to the embedded etcd;
//  2. creates the nodes (objects only, no node agents) through the gateway;
//  3. starts a real scheduler in-process (leader election on the same etcd,
//     default flags) and waits until it leads;
//  4. opens a watch of bound pods (field selector spec.node_name!=), then
//     creates the pods through the gateway from CreateConcurrency clients,
//     and waits until the watch has seen every pod bound;
//  5. backlog: stops the scheduler, creates as many pods again, starts a
//     new scheduler (cold: list, election, seed) and times it until the
//     watch has seen them all bound — the rate of the scheduler and
//     BindPod alone, with creation out of the measured span.
//
// Throughput is pods / (last bind seen - first create started); a pod's
// latency is from the start of its CreatePod call to its bind seen by the
// watch. Creating the pods is part of the measured span, as in
// kube-scheduler's scheduler_perf, so the figure is the whole write path.
// A bound pod costs at least two etcd transactions (the create and the
// bind; a Scheduled Event is a third when the recorder keeps up), so the
// ceiling in pods/s is at most half the etcd rate.
//
// Command: `go run ./tools/bench scheduler` runs it and writes the
// "Scheduler" section (report id "scheduler") of docs/benchmarks.md:
//
//	go run ./tools/bench scheduler -markdown docs/benchmarks.md
//
// which is these calls, plus flags:
//
//	res, err := schedulerbench.Run(ctx, schedulerbench.NewConfig())
//	res.WriteText(os.Stdout)
//	doc := res.Document() // report.Document, ID "scheduler"
//	doc.WriteMarkdownFile("docs/benchmarks.md")
package schedulerbench
