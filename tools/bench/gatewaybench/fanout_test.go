package gatewaybench

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/shoalmesh/shoal/services/apigateway/gatewaytest"
)

// TestWatchersAgainstGateway runs both watcher clients against a real
// gateway: every watcher must record every event, with a delay no shorter
// than zero and no stream failing.
func TestWatchersAgainstGateway(t *testing.T) {
	for _, client := range []string{ClientH2, ClientGRPC} {
		t.Run(client, func(t *testing.T) {
			env := gatewaytest.Start(t)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			// 25 watchers over 3 connections: the last holds fewer.
			cfg := FanoutConfig{Client: client, StreamsPerConn: 10, Events: 3}
			f := newFanout(cfg, 25, env.Conn)
			rv, err := f.prepare(ctx, env.Conn)
			if err != nil {
				t.Fatal(err)
			}
			watchCtx, stop := context.WithCancel(ctx)
			var recvs sync.WaitGroup
			defer func() {
				stop()
				recvs.Wait()
			}()
			open := f.openH2Watches
			if client == ClientGRPC {
				open = f.openGRPCWatches
			}
			closeConns, err := open(watchCtx, env.Gateway.Addr(), rv, &recvs)
			defer closeConns()
			if err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(30 * time.Second)
			if err := f.writeAndWait(ctx, 0, syncPod, deadline); err != nil {
				t.Fatalf("sync pod: %v", err)
			}
			for e := 1; e <= cfg.Events; e++ {
				if err := f.writeAndWait(ctx, e, eventPrefix+strconv.Itoa(e), deadline); err != nil {
					t.Fatalf("event %d: %v", e, err)
				}
			}
			stop()
			recvs.Wait()
			if f.watchErrs != 0 {
				t.Fatalf("%d streams failed, first: %v", f.watchErrs, f.firstErr)
			}
			for e := range cfg.Events + 1 {
				for w, d := range f.delays[e] {
					if d <= 0 {
						t.Errorf("event %d at watcher %d: delay %d ns", e, w, d)
					}
				}
			}
		})
	}
}
