package observability

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"testing/slogtest"

	"go.opentelemetry.io/otel/trace"
)

func TestLoggerRecords(t *testing.T) {
	tests := []struct {
		name      string
		unsampled bool // sample ratio 0: ids must still be logged
		inSpan    bool
		logger    func(*slog.Logger) *slog.Logger
		wantAttrs map[string]any // top-level fields besides time/level/msg/service
	}{
		{
			name:      "no span",
			wantAttrs: map[string]any{"k": "v"},
		},
		{
			name:      "inside span",
			inSpan:    true,
			wantAttrs: map[string]any{"k": "v"},
		},
		{
			name:      "inside unsampled span",
			unsampled: true,
			inSpan:    true,
			wantAttrs: map[string]any{"k": "v"},
		},
		{
			name:      "logger with attrs",
			inSpan:    true,
			logger:    func(l *slog.Logger) *slog.Logger { return l.With("component", "binder") },
			wantAttrs: map[string]any{"component": "binder", "k": "v"},
		},
		{
			name:   "grouped logger keeps ids at top level",
			inSpan: true,
			logger: func(l *slog.Logger) *slog.Logger {
				return l.With("component", "binder").WithGroup("pod").With("ns", "default")
			},
			wantAttrs: map[string]any{
				"component": "binder",
				"pod":       map[string]any{"ns": "default", "k": "v"},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := NewConfig("apigateway")
			if tc.unsampled {
				cfg.TraceSampleRatio = 0
			}
			o, buf := setupTest(t, cfg)

			ctx := context.Background()
			var sc trace.SpanContext
			if tc.inSpan {
				var span trace.Span
				ctx, span = o.Tracer("test").Start(ctx, "op")
				defer span.End()
				sc = span.SpanContext()
				if !sc.IsValid() {
					t.Fatal("span has no valid ids")
				}
				if sc.IsSampled() == tc.unsampled {
					t.Fatalf("span sampled = %v, want %v", sc.IsSampled(), !tc.unsampled)
				}
			}
			l := o.Logger
			if tc.logger != nil {
				l = tc.logger(l)
			}
			l.InfoContext(ctx, "hello", "k", "v")

			recs := buf.find(t, "hello")
			if len(recs) != 1 {
				t.Fatalf("got %d records, want 1", len(recs))
			}
			rec := recs[0]
			if rec["service"] != "apigateway" {
				t.Errorf("service = %v, want apigateway", rec["service"])
			}
			if rec["level"] != "INFO" {
				t.Errorf("level = %v, want INFO", rec["level"])
			}
			want := map[string]any{}
			for k, v := range tc.wantAttrs {
				want[k] = v
			}
			if tc.inSpan {
				want[LogKeyTraceID] = sc.TraceID().String()
				want[LogKeySpanID] = sc.SpanID().String()
			}
			got := map[string]any{}
			for k, v := range rec {
				switch k {
				case "time", "level", "msg", "service":
				default:
					got[k] = v
				}
			}
			if !jsonEqual(got, want) {
				t.Errorf("fields = %v\nwant     %v", got, want)
			}
		})
	}
}

func jsonEqual(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}

func TestLoggerLevel(t *testing.T) {
	tests := []struct {
		level     string
		wantDebug bool
		wantWarn  bool
	}{
		{level: "debug", wantDebug: true, wantWarn: true},
		{level: "info", wantWarn: true},
		{level: "error"},
	}
	for _, tc := range tests {
		t.Run(tc.level, func(t *testing.T) {
			cfg := NewConfig("svc")
			cfg.LogLevel = tc.level
			o, buf := setupTest(t, cfg)
			o.Logger.Debug("d")
			o.Logger.Warn("w")
			if got := len(buf.find(t, "d")) == 1; got != tc.wantDebug {
				t.Errorf("debug logged = %v, want %v", got, tc.wantDebug)
			}
			if got := len(buf.find(t, "w")) == 1; got != tc.wantWarn {
				t.Errorf("warn logged = %v, want %v", got, tc.wantWarn)
			}
		})
	}
}

// TestTraceHandlerConformance runs the standard library's handler checks,
// inside a span so that the grouped replay path is exercised too.
func TestTraceHandlerConformance(t *testing.T) {
	for _, inSpan := range []bool{false, true} {
		name := "no span"
		if inSpan {
			name = "inside span"
		}
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			var sc trace.SpanContext
			if inSpan {
				sc = trace.NewSpanContext(trace.SpanContextConfig{
					TraceID:    trace.TraceID{1, 2, 3},
					SpanID:     trace.SpanID{4, 5, 6},
					TraceFlags: trace.FlagsSampled,
				})
			}
			ctx := trace.ContextWithSpanContext(context.Background(), sc)
			slogtest.Run(t, func(t *testing.T) slog.Handler {
				buf.Reset()
				return ctxHandler{newLogger(&buf, "svc", slog.LevelInfo).Handler(), ctx}
			}, func(t *testing.T) map[string]any {
				line := strings.TrimSpace(buf.String())
				var m map[string]any
				if err := json.Unmarshal([]byte(line), &m); err != nil {
					t.Fatalf("not one JSON line: %v: %q", err, line)
				}
				if m["service"] != "svc" {
					t.Errorf("service = %v", m["service"])
				}
				if inSpan && (m[LogKeyTraceID] != sc.TraceID().String() || m[LogKeySpanID] != sc.SpanID().String()) {
					t.Errorf("ids = %v/%v, want %s/%s", m[LogKeyTraceID], m[LogKeySpanID], sc.TraceID(), sc.SpanID())
				}
				// slogtest expects only the fields it logged.
				delete(m, "service")
				delete(m, LogKeyTraceID)
				delete(m, LogKeySpanID)
				return m
			})
		})
	}
}

// ctxHandler hands every record to h with ctx, because slogtest logs
// without a context of its own.
type ctxHandler struct {
	h   slog.Handler
	ctx context.Context
}

func (c ctxHandler) Enabled(_ context.Context, l slog.Level) bool  { return c.h.Enabled(c.ctx, l) }
func (c ctxHandler) Handle(_ context.Context, r slog.Record) error { return c.h.Handle(c.ctx, r) }
func (c ctxHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return ctxHandler{c.h.WithAttrs(as), c.ctx}
}
func (c ctxHandler) WithGroup(name string) slog.Handler {
	return ctxHandler{c.h.WithGroup(name), c.ctx}
}
