package gateway_test

import (
	"context"
	"fmt"
	"testing"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/sdk/go/client"
	"github.com/shoalmesh/shoal/services/apigateway/gatewaytest"
)

// BenchmarkCreatePod is one CreatePod through a real gateway over loopback
// gRPC, client and server in this process. Its allocations per op are a
// noise-free guide when tuning the create path; throughput against raw etcd
// is measured by tools/bench.
func BenchmarkCreatePod(b *testing.B) {
	env := gatewaytest.Start(b)
	ctx := context.Background()
	if _, err := client.For[*shoalv1.Namespace](env.Conn).Create(ctx, gatewaytest.Namespace("bench")); err != nil {
		b.Fatal(err)
	}
	pods := client.For[*shoalv1.Pod](env.Conn)
	labels := map[string]string{"app": "bench"}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := pods.Create(ctx, gatewaytest.Pod("bench", fmt.Sprintf("pod-%d", i), labels)); err != nil {
			b.Fatal(err)
		}
	}
}
