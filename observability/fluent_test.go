package observability

import (
	"bufio"
	"context"
	"io"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/tinylib/msgp/msgp"
)

// forwardReceiver is a minimal Fluent forward-protocol server: it decodes
// each message ([tag, time, record, option?]) and hands it to the test.
type forwardMsg struct {
	tag    string
	record map[string]any
}

func startReceiver(t *testing.T) (string, <-chan forwardMsg) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return lis.Addr().String(), receive(t, lis)
}

// startUnixReceiver is startReceiver on a unix socket; the address is
// "unix:///path".
func startUnixReceiver(t *testing.T) (string, <-chan forwardMsg) {
	t.Helper()
	lis, err := net.Listen("unix", filepath.Join(t.TempDir(), "fluentd.sock"))
	if err != nil {
		t.Fatal(err)
	}
	return "unix://" + lis.Addr().String(), receive(t, lis)
}

// receive decodes the forward messages of every connection to lis.
func receive(t *testing.T, lis net.Listener) <-chan forwardMsg {
	t.Cleanup(func() { lis.Close() })
	out := make(chan forwardMsg, 100)
	go func() {
		for {
			conn, err := lis.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				r := msgp.NewReader(bufio.NewReader(conn))
				for {
					v, err := r.ReadIntf()
					if err != nil {
						return
					}
					arr, ok := v.([]any)
					if !ok || len(arr) < 3 {
						continue
					}
					tag, _ := arr[0].(string)
					rec, _ := arr[2].(map[string]any)
					out <- forwardMsg{tag: tag, record: rec}
				}
			}()
		}
	}()
	return out
}

// TestLogsReachFluentd decodes what the logger sends on the wire: one record
// per log line, tagged shoal.<service>, with the same fields as the JSON
// log, trace ids included.
func TestLogsReachFluentd(t *testing.T) {
	for _, tc := range []struct {
		name  string
		start func(*testing.T) (string, <-chan forwardMsg)
	}{
		{name: "tcp", start: startReceiver},
		{name: "unix socket", start: startUnixReceiver},
	} {
		t.Run(tc.name, func(t *testing.T) { testLogsReachFluentd(t, tc.start) })
	}
}

func testLogsReachFluentd(t *testing.T, start func(*testing.T) (string, <-chan forwardMsg)) {
	addr, msgs := start(t)
	cfg := NewConfig("apigateway")
	cfg.FluentdAddress = addr
	o, err := Setup(context.Background(), cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Shutdown(context.Background())
	ctx, span := o.Tracer("test").Start(context.Background(), "op")
	o.Logger.InfoContext(ctx, "pod bound", "pod", "default/web-0", "node", "node-a")
	span.End()
	select {
	case m := <-msgs:
		if m.tag != "shoal.apigateway" {
			t.Fatalf("tag %q", m.tag)
		}
		want := map[string]string{
			"msg": "pod bound", "pod": "default/web-0", "node": "node-a", "service": "apigateway", "level": "INFO",
			LogKeyTraceID: span.SpanContext().TraceID().String(), LogKeySpanID: span.SpanContext().SpanID().String(),
		}
		for k, v := range want {
			if got, _ := m.record[k].(string); got != v {
				t.Errorf("field %s = %v, want %q (record %v)", k, m.record[k], v, m.record)
			}
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no record reached the receiver")
	}
}

// TestFluentdOutageNeverBlocks: with nothing listening, logging stays fast
// and lost records are counted.
func TestFluentdOutageNeverBlocks(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	lis.Close() // a port with no receiver
	cfg := NewConfig("controller")
	cfg.FluentdAddress = addr
	o, err := Setup(context.Background(), cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		for i := 0; i < FluentBufferLimit+500; i++ {
			o.Logger.Info("line", "i", i)
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("logging blocked while Fluentd was down")
	}
	mfs, err := o.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	dropped := 0.0
	for _, mf := range mfs {
		if mf.GetName() != "shoal_fluentd_records_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "result" && l.GetValue() == "dropped" {
					dropped = m.GetCounter().GetValue()
				}
			}
		}
	}
	if dropped < 1 {
		t.Fatalf("no dropped records counted after overflowing the buffer")
	}
	shut := make(chan error, 1)
	go func() { shut <- o.Shutdown(context.Background()) }()
	select {
	case <-shut:
	case <-time.After(30 * time.Second):
		t.Fatal("Shutdown blocked on an unreachable Fluentd")
	}
}
