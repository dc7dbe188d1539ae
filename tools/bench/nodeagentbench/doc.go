// Package nodeagentbench measures the node agent on a real containerd: pod
// startup latency (CreatePod to Running-and-Ready seen by a watch) for
// batches of pods created at once on one node, beside the raw containerd
// create+start of the same image in the same run (the floor), and the
// agent's RSS and CPU with idle pods. It needs root, containerd, runc, the
// CNI plugins and busybox-static, like the agent's e2e tests.
//
//	res, err := nodeagentbench.Run(ctx, nodeagentbench.NewConfig())
//	os.Stdout.Write(res.Document().Markdown())
package nodeagentbench
