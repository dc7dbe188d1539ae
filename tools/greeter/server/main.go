// Command server is the greeter: a gRPC server answering with its name
// (--name, $POD_NAME or the host name), for mesh demos and tests.
//
//	server --port 50051
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/shoalmesh/shoal/sdk/go/flagenv"
	"github.com/shoalmesh/shoal/tools/greeter/greeter"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "greeter:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	name := os.Getenv("POD_NAME")
	if name == "" {
		name, _ = os.Hostname()
	}
	fs := flag.NewFlagSet("greeter", flag.ContinueOnError)
	addr := fs.String("listen", ":50051", "address to serve on")
	fs.StringVar(&name, "name", name, "name returned to callers")
	if err := flagenv.Parse(fs, "GREETER", args); err != nil {
		if err == flag.ErrHelp {
			return nil
		}
		return err
	}
	lis, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv, _ := greeter.NewServer(name)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	go func() {
		<-ctx.Done()
		srv.GracefulStop()
	}()
	fmt.Fprintf(os.Stderr, "greeter %s serving on %s\n", name, lis.Addr())
	return srv.Serve(lis)
}
