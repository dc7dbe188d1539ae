//go:build interop

package interop

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/internal/binarytest"
	"github.com/shoalmesh/shoal/observability"
	"github.com/shoalmesh/shoal/sdk/go/client"
	"github.com/shoalmesh/shoal/services/apigateway/gatewaytest"
	"github.com/shoalmesh/shoal/services/nodeagent/podlogs"
)

// TestTelemetryReachesCollector runs the real apigateway and xds binaries
// with --fluentd-address pointing at the collector's Fluent forward
// receiver and OTEL_EXPORTER_OTLP_ENDPOINT at its OTLP receiver; a caller
// with telemetry of its own that calls the gateway inside a span and logs
// in it; and the node agent's container-log path (podlogs.Writer feeding
// podlogs.Fluent). It then reads what the collector wrote and checks tags,
// fields, trace/span ids and span names.
func TestTelemetryReachesCollector(t *testing.T) {
	bin := os.Getenv("OTELCOL_BIN")
	if bin == "" {
		t.Fatal("OTELCOL_BIN is not set: run `make interop`, which builds the collector (tools/interop/build-collector.sh) and sets it")
	}
	dir := t.TempDir()
	col := startCollector(t, bin, dir)
	bins := binarytest.Build(t, "../../services/apigateway", "../../services/xds")

	// The standard OpenTelemetry variables, as a deployment sets them; the
	// service processes inherit them.
	t.Setenv("OTEL_TRACES_EXPORTER", "otlp")
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://"+col.otlpAddr)
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "")
	t.Setenv("OTEL_BSP_SCHEDULE_DELAY", "100")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	port := func() string { return "127.0.0.1:" + strconv.Itoa(gatewaytest.FreePort(t)) }
	gwAddr := port()
	gw := binarytest.Start(t, exec.Command(bins[0],
		"--listen="+gwAddr,
		"--etcd-data-dir="+filepath.Join(dir, "etcd"),
		"--etcd-client-url=http://"+port(),
		"--etcd-peer-url=http://"+port(),
		"--metrics-addr=",
		"--fluentd-address="+col.fluentAddr,
		"--trace-sample-ratio=1",
	))

	// A caller with telemetry of its own: its span is the parent of the
	// gateway's server span, and its log line carries the span's ids.
	ccfg := observability.NewConfig("interop-client")
	ccfg.FluentdAddress = col.fluentAddr
	cobs, err := observability.Setup(ctx, ccfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cobs.Shutdown(context.Background()) })
	conn, err := client.Dial(ctx, gwAddr, client.WithDialOptions(cobs.DialOptions()...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	wctx, wcancel := context.WithTimeout(ctx, 2*time.Minute)
	gw.WaitServing(t, wctx, conn)
	wcancel()
	binarytest.Start(t, exec.Command(bins[1],
		"--gateway="+gwAddr,
		"--listen="+port(),
		"--admin-addr=",
		"--fluentd-address="+col.fluentAddr,
	))

	spanCtx, span := cobs.Tracer("interop").Start(ctx, "interop-request")
	if _, err := shoalv1.NewNamespaceServiceClient(conn).GetNamespace(spanCtx, &shoalv1.GetNamespaceRequest{Name: "default"}); err != nil {
		t.Fatalf("GetNamespace: %v", err)
	}
	cobs.Logger.InfoContext(spanCtx, "interop call done", "namespace", "default")
	span.End()
	traceID := span.SpanContext().TraceID().String()
	spanID := span.SpanContext().SpanID().String()

	// A container's output through the node agent's log path.
	fsink, err := observability.NewFluentSink(col.fluentAddr, 1024, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = fsink.Close() })
	meta := podlogs.Meta{Namespace: "default", Pod: "web-0", Container: "app", Node: "node-a"}
	w, err := podlogs.Open(filepath.Join(dir, "containers", "web-0_app.log"), 0, meta, podlogs.NewFluent(fsink))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(w.Stream("stdout"), "hello from a container")
	fmt.Fprintln(w.Stream("stderr"), "a warning from a container")
	_ = w.Close()

	// --- service logs -------------------------------------------------
	col.waitLogs(t, "gateway startup log", func(r logRecord) bool {
		return r.attr("fluent.tag") == "shoal.apigateway" && r.attr("msg") == "apigateway serving" &&
			r.attr("service") == "apigateway" && r.attr("level") == "INFO"
	})
	col.waitLogs(t, "xds startup log", func(r logRecord) bool {
		return r.attr("fluent.tag") == "shoal.xds" && r.attr("msg") == "xds serving" &&
			r.attr("service") == "xds" && r.attr("level") == "INFO"
	})
	col.waitLogs(t, "client log with trace context", func(r logRecord) bool {
		return r.attr("fluent.tag") == "shoal.interop-client" && r.attr("msg") == "interop call done" &&
			r.attr("service") == "interop-client" && r.attr("namespace") == "default" &&
			r.attr(observability.LogKeyTraceID) == traceID && r.attr(observability.LogKeySpanID) == spanID
	})
	// --- container logs -----------------------------------------------
	for stream, line := range map[string]string{"stdout": "hello from a container", "stderr": "a warning from a container"} {
		col.waitLogs(t, "container "+stream+" line", func(r logRecord) bool {
			return r.attr("fluent.tag") == "shoal.pod.default.web-0.app" &&
				r.attr("namespace") == "default" && r.attr("pod") == "web-0" && r.attr("container") == "app" &&
				r.attr("node") == "node-a" && r.attr("stream") == stream && r.text("log") == line
		})
	}
	// --- traces --------------------------------------------------------
	method := "shoal.v1.NamespaceService/GetNamespace"
	col.waitSpan(t, "client root span", func(s spanRecord) bool {
		return s.service == "interop-client" && s.name == "interop-request" && s.traceID == traceID && s.spanID == spanID
	})
	rpc := col.waitSpan(t, "client RPC span", func(s spanRecord) bool {
		return s.service == "interop-client" && s.name == method && s.kind == "SPAN_KIND_CLIENT" && s.traceID == traceID && s.parentID == spanID
	})
	col.waitSpan(t, "gateway server span in the caller's trace", func(s spanRecord) bool {
		return s.service == "apigateway" && s.name == method && s.kind == "SPAN_KIND_SERVER" &&
			s.traceID == traceID && s.parentID == rpc.spanID
	})
	// xds's informers list and watch through the gateway: a client span of
	// xds and the gateway's server span of that call share one trace.
	// (Calls made before the gateway listened have no server span.)
	col.waitSpans(t, "xds client span with the gateway's server span under it", func(spans []spanRecord) bool {
		for _, c := range spans {
			if c.service != "xds" || c.kind != "SPAN_KIND_CLIENT" || !strings.HasPrefix(c.name, "shoal.v1.") {
				continue
			}
			for _, s := range spans {
				if s.service == "apigateway" && s.kind == "SPAN_KIND_SERVER" && s.name == c.name &&
					s.traceID == c.traceID && s.parentID == c.spanID {
					return true
				}
			}
		}
		return false
	})
	logs, spans := col.logs(t), col.spans(t)
	tags, services := map[string]int{}, map[string]int{}
	for _, r := range logs {
		tags[r.attr("fluent.tag")]++
	}
	for _, s := range spans {
		services[s.service]++
	}
	t.Logf("collector received %d log records by tag %v and %d spans by service %v", len(logs), tags, len(spans), services)
}

// collector is the running otelcol-shoal.
type collector struct {
	fluentAddr, otlpAddr string
	logsFile, tracesFile string
}

// startCollector writes a config with loopback ports of its own (never the
// defaults, which other processes on a shared machine may hold), starts the
// collector and waits until both receivers accept connections. Only that
// process is stopped at the end, by its PID.
func startCollector(t *testing.T, bin, dir string) *collector {
	t.Helper()
	c := &collector{
		fluentAddr: "127.0.0.1:" + strconv.Itoa(gatewaytest.FreePort(t)),
		otlpAddr:   "127.0.0.1:" + strconv.Itoa(gatewaytest.FreePort(t)),
		logsFile:   filepath.Join(dir, "logs.jsonl"),
		tracesFile: filepath.Join(dir, "traces.jsonl"),
	}
	cfg := fmt.Sprintf(`receivers:
  fluent_forward:
    endpoint: %s
  otlp:
    protocols:
      grpc:
        endpoint: %s
exporters:
  file/logs:
    path: %s
    flush_interval: 100ms
  file/traces:
    path: %s
    flush_interval: 100ms
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    logs:
      receivers: [fluent_forward]
      exporters: [file/logs]
    traces:
      receivers: [otlp]
      exporters: [file/traces]
`, c.fluentAddr, c.otlpAddr, c.logsFile, c.tracesFile)
	cfgPath := filepath.Join(dir, "otelcol.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	col := binarytest.Start(t, exec.Command(bin, "--config=file:"+cfgPath))
	for _, addr := range []string{c.fluentAddr, c.otlpAddr} {
		col.WaitListening(t, addr, 60*time.Second)
	}
	return c
}

// logRecord is one log record as the file exporter wrote it: its
// attributes (each key of the Fluent record, plus fluent.tag) and body.
type logRecord struct {
	attrs map[string]any
	body  any
}

func (r logRecord) attr(k string) string {
	s, _ := r.attrs[k].(string)
	return s
}

// text is the field k, looked up in the attributes and, for the receiver's
// body field ("log" or "message"), in the body.
func (r logRecord) text(k string) string {
	if s := r.attr(k); s != "" {
		return s
	}
	s, _ := r.body.(string)
	return s
}

type spanRecord struct {
	service, name, kind       string
	traceID, spanID, parentID string
}

// waitLogs waits until a log record satisfying ok has been written.
func (c *collector) waitLogs(t *testing.T, what string, ok func(logRecord) bool) {
	t.Helper()
	var recs []logRecord
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		recs = c.logs(t)
		for _, r := range recs {
			if ok(r) {
				return
			}
		}
	}
	var dump []string
	for _, r := range recs {
		dump = append(dump, fmt.Sprintf("%v body=%v", r.attrs, r.body))
	}
	t.Fatalf("no %s reached the collector; it wrote %d records:\n%s", what, len(recs), strings.Join(dump, "\n"))
}

// waitSpans waits until the spans written so far, together, satisfy ok.
func (c *collector) waitSpans(t *testing.T, what string, ok func([]spanRecord) bool) {
	t.Helper()
	var spans []spanRecord
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if spans = c.spans(t); ok(spans) {
			return
		}
	}
	t.Fatalf("no %s reached the collector; it wrote %d spans: %+v", what, len(spans), spans)
}

// waitSpan waits until a span satisfying ok has been written and returns it.
func (c *collector) waitSpan(t *testing.T, what string, ok func(spanRecord) bool) spanRecord {
	t.Helper()
	var spans []spanRecord
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		spans = c.spans(t)
		for _, s := range spans {
			if ok(s) {
				return s
			}
		}
	}
	t.Fatalf("no %s reached the collector; it wrote %d spans: %+v", what, len(spans), spans)
	return spanRecord{}
}

// OTLP/JSON, as the file exporter writes it: one export request per line.
type otlpValue struct {
	StringValue *string          `json:"stringValue"`
	IntValue    *json.RawMessage `json:"intValue"`
	DoubleValue *float64         `json:"doubleValue"`
	BoolValue   *bool            `json:"boolValue"`
	ArrayValue  *struct {
		Values []otlpValue `json:"values"`
	} `json:"arrayValue"`
}

func (v otlpValue) value() any {
	switch {
	case v.StringValue != nil:
		return *v.StringValue
	case v.IntValue != nil:
		return strings.Trim(string(*v.IntValue), `"`)
	case v.DoubleValue != nil:
		return *v.DoubleValue
	case v.BoolValue != nil:
		return *v.BoolValue
	case v.ArrayValue != nil:
		out := make([]any, len(v.ArrayValue.Values))
		for i, e := range v.ArrayValue.Values {
			out[i] = e.value()
		}
		return out
	}
	return nil
}

type otlpKV struct {
	Key   string    `json:"key"`
	Value otlpValue `json:"value"`
}

func kvMap(kvs []otlpKV) map[string]any {
	m := make(map[string]any, len(kvs))
	for _, kv := range kvs {
		m[kv.Key] = kv.Value.value()
	}
	return m
}

func (c *collector) logs(t *testing.T) []logRecord {
	t.Helper()
	var out []logRecord
	eachLine(t, c.logsFile, func(line []byte) {
		var req struct {
			ResourceLogs []struct {
				ScopeLogs []struct {
					LogRecords []struct {
						Body       otlpValue `json:"body"`
						Attributes []otlpKV  `json:"attributes"`
					} `json:"logRecords"`
				} `json:"scopeLogs"`
			} `json:"resourceLogs"`
		}
		if err := json.Unmarshal(line, &req); err != nil {
			t.Fatalf("logs file line is not OTLP JSON: %v\n%s", err, line)
		}
		for _, rl := range req.ResourceLogs {
			for _, sl := range rl.ScopeLogs {
				for _, lr := range sl.LogRecords {
					out = append(out, logRecord{attrs: kvMap(lr.Attributes), body: lr.Body.value()})
				}
			}
		}
	})
	return out
}

func (c *collector) spans(t *testing.T) []spanRecord {
	t.Helper()
	var out []spanRecord
	eachLine(t, c.tracesFile, func(line []byte) {
		var req struct {
			ResourceSpans []struct {
				Resource struct {
					Attributes []otlpKV `json:"attributes"`
				} `json:"resource"`
				ScopeSpans []struct {
					Spans []struct {
						TraceID      string `json:"traceId"`
						SpanID       string `json:"spanId"`
						ParentSpanID string `json:"parentSpanId"`
						Name         string `json:"name"`
						Kind         any    `json:"kind"`
					} `json:"spans"`
				} `json:"scopeSpans"`
			} `json:"resourceSpans"`
		}
		if err := json.Unmarshal(line, &req); err != nil {
			t.Fatalf("traces file line is not OTLP JSON: %v\n%s", err, line)
		}
		for _, rs := range req.ResourceSpans {
			service, _ := kvMap(rs.Resource.Attributes)["service.name"].(string)
			for _, ss := range rs.ScopeSpans {
				for _, s := range ss.Spans {
					out = append(out, spanRecord{
						service: service, name: s.Name, kind: spanKind(s.Kind),
						traceID: strings.ToLower(s.TraceID), spanID: strings.ToLower(s.SpanID), parentID: strings.ToLower(s.ParentSpanID),
					})
				}
			}
		}
	})
	return out
}

// spanKind accepts both encodings of the enum in OTLP JSON: its number or
// its name.
func spanKind(v any) string {
	names := map[float64]string{1: "SPAN_KIND_INTERNAL", 2: "SPAN_KIND_SERVER", 3: "SPAN_KIND_CLIENT", 4: "SPAN_KIND_PRODUCER", 5: "SPAN_KIND_CONSUMER"}
	switch k := v.(type) {
	case float64:
		return names[k]
	case string:
		return k
	}
	return ""
}

// eachLine calls f with every complete line of path (none if it does not
// exist yet).
func eachLine(t *testing.T, path string, f func([]byte)) {
	t.Helper()
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
		b = b[:i+1]
	} else {
		return // a line still being written
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) > 0 {
			f(sc.Bytes())
		}
	}
}
