// Command shoalctl is the Shoal CLI, with kubectl's verbs and habits:
//
//	shoalctl apply -f app.yaml
//	shoalctl get pods -o wide
//	shoalctl rollout status deployment/web
//
// See docs/shoalctl.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/shoalmesh/shoal/tools/shoalctl/cmd"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cmd.Execute(ctx, os.Args[1:], cmd.Options{})
	stop()
	os.Exit(code)
}
