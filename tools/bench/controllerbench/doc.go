// Package controllerbench measures the controller service at scale: how
// long a 1,000-replica Deployment takes to have every pod scheduled and
// ready, how long a rolling update of it takes to finish, and the
// controller's CPU and memory meanwhile.
//
// The apigateway (with its embedded etcd) and the controller run as
// subprocesses from their binaries, so that the controller's CPU and RSS
// are its own; the scheduler (services/scheduler, or fakeagent's Binder)
// and the node side (fakeagent: fake nodes whose pods become Running and
// Ready as soon as they are bound) run in the benchmark's process.
//
// Usage (`go run ./tools/bench controller` is this, plus flags):
//
//	cfg := controllerbench.NewConfig()
//	res, err := controllerbench.Run(ctx, cfg, os.Stderr)
//	doc := res.Document() // section id DocumentID ("controller")
//	doc.Command = os.Args
//	doc.WriteText(os.Stdout)
//	doc.WriteMarkdownFile("docs/benchmarks.md")
package controllerbench
