// Package agent is the node agent as a library: Start registers the Node,
// keeps its Lease fresh, runs the pod reconciler against containerd and
// serves NodeAgentService (PodLogs) and grpc health; Close stops it all
// while the pods keep running (a new agent re-adopts them).
//
//	cfg := agent.NewConfig()
//	cfg.Gateway, cfg.NodeName = "127.0.0.1:8443", "node-a"
//	a, err := agent.Start(ctx, cfg, obs)
//	...
//	defer a.Close()
package agent
