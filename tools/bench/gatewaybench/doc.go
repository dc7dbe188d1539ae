// Package gatewaybench measures the apigateway against the etcd beneath it,
// on one machine in one run:
//
//   - raw etcd Put/Get of pod-sized values next to gateway CreatePod,
//     GetPod and ListPods, closed loop at several concurrencies;
//   - CreatePod open loop at a fixed rate, for latency under steady load;
//   - watch fan-out: thousands of pod watchers on one gateway, the delay
//     until each write reaches every one of them, and the gateway's memory
//     and CPU while it fans out.
//
// The gateway runs as a subprocess built by `make build` (the binary users
// run, with its real flags and embedded etcd), on a fresh data directory
// and free loopback ports. The benchmark talks to the embedded etcd
// directly for the baseline, and to the gateway through the Go SDK.
//
// Usage (tools/bench/main.go is this, plus flags):
//
//	cfg := gatewaybench.NewConfig()
//	cfg.Watchers = []int{1000, 10000}
//	doc, err := gatewaybench.Run(ctx, cfg, os.Stderr)
//	doc.WriteText(os.Stdout)
package gatewaybench
