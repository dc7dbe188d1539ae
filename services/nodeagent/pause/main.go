// Command pause is the process of every pod sandbox: it holds the pod's
// network, IPC and UTS namespaces, reaps zombies (it is PID 1 of the
// sandbox) and exits on SIGTERM or SIGINT. Build it static:
//
//	CGO_ENABLED=0 go build -ldflags="-s -w" -o bin/pause ./services/nodeagent/pause
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGCHLD)
	for s := range sigs {
		switch s {
		case syscall.SIGCHLD:
			for {
				var ws syscall.WaitStatus
				pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
				if pid <= 0 || err != nil {
					break
				}
			}
		default:
			os.Exit(0)
		}
	}
}
