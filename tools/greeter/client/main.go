// Command client calls the greeter through the mesh and reports how the
// calls spread over its replicas, as JSON on stdout:
//
//	GRPC_XDS_BOOTSTRAP=/etc/shoal/xds-bootstrap.json \
//	  client --target xds:///greeter.default.svc.cluster.local:50051 --calls 300
//	{"calls":300,"errors":0,"backends":{"greeter-7c9d-a":100,"greeter-7c9d-b":100,"greeter-7c9d-c":100}}
//
// It is a plain grpc-go program: importing google.golang.org/grpc/xds is
// all it takes to join the mesh. It exits 1 if any call failed. With
// --report-every it also prints the running totals as it goes (one JSON
// line each time; the last line is the final report).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	_ "google.golang.org/grpc/xds" // the xds:/// resolver and balancers

	"github.com/shoalmesh/shoal/sdk/go/flagenv"
	"github.com/shoalmesh/shoal/tools/greeter/greeter"
)

// Report is the client's output.
type Report struct {
	Calls    int            `json:"calls"`
	Errors   int            `json:"errors"`
	Backends map[string]int `json:"backends"`
	LastErr  string         `json:"last_error,omitempty"`
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "client:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("client", flag.ContinueOnError)
	target := fs.String("target", "xds:///greeter.default.svc.cluster.local:50051", "what to dial")
	calls := fs.Int("calls", 100, "calls to make (0: until SIGTERM)")
	interval := fs.Duration("interval", 10*time.Millisecond, "pause between calls")
	timeout := fs.Duration("timeout", 5*time.Second, "per-call deadline")
	header := fs.String("header", "", "metadata key sent with every call (RING_HASH)")
	value := fs.String("value", "", "its value")
	every := fs.Duration("report-every", 0, "also print the running totals (one JSON line) this often; 0: only at the end")
	if err := flagenv.Parse(fs, "GREETER_CLIENT", args); err != nil {
		if err == flag.ErrHelp {
			return nil
		}
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	conn, err := grpc.NewClient(*target, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn.Close()
	rep := Report{Backends: map[string]int{}}
	enc := json.NewEncoder(os.Stdout)
	lastReport := time.Now()
	for i := 0; (*calls == 0 || i < *calls) && ctx.Err() == nil; i++ {
		cctx, cancel := context.WithTimeout(ctx, *timeout)
		name, err := greeter.Call(cctx, conn, *header, *value)
		cancel()
		if err != nil && ctx.Err() != nil {
			// Cut short by our own SIGTERM: not a failure of the service.
			break
		}
		rep.Calls++
		if err != nil {
			rep.Errors++
			rep.LastErr = err.Error()
		} else {
			rep.Backends[name]++
		}
		if *every > 0 && time.Since(lastReport) >= *every {
			if err := enc.Encode(rep); err != nil {
				return err
			}
			lastReport = time.Now()
		}
		time.Sleep(*interval)
	}
	if err := enc.Encode(rep); err != nil {
		return err
	}
	if rep.Errors > 0 {
		return fmt.Errorf("%d of %d calls failed: %s", rep.Errors, rep.Calls, rep.LastErr)
	}
	return nil
}
