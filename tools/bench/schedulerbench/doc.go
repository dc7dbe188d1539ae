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
//     default flags) and waits until it leads with every node cached;
//  4. opens a pod watch, then creates the pods through the gateway from
//     CreateConcurrency clients, and waits until the watch has seen every
//     pod bound.
//
// Throughput is pods / (last bind seen - first create started); a pod's
// latency is from the start of its CreatePod call to its bind seen by the
// watch. Creating the pods is part of the measured span, as in
// kube-scheduler's scheduler_perf, so the figure is the whole write path.
// A bound pod costs at least two etcd transactions (the create and the
// bind; a Scheduled Event is a third when the recorder keeps up), so the
// ceiling in pods/s is at most half the etcd rate.
//
// Command: the lead wires Run into tools/bench; until then, or alone:
//
//	res, err := schedulerbench.Run(ctx, schedulerbench.NewConfig())
//	res.WriteText(os.Stdout)
//	doc := res.Document() // report.Document with ID "scheduler": doc.WriteMarkdownFile("docs/benchmarks.md")
//
// which tools/bench would expose as, e.g.,
// `go run ./tools/bench --phases scheduler --scheduler-sizes 1000x5000,5000x10000 --markdown docs/benchmarks.md`.
package schedulerbench
