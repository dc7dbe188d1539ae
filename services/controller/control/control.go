// Package control is the contract between the controller manager and the
// control loops it runs: what a loop gets (Context: the shared informers, a
// connection to the gateway, an event recorder, queues with metrics) and
// what it offers (Controller: a name and a Run).
package control

import (
	"context"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
	"google.golang.org/grpc"
	kworkqueue "k8s.io/client-go/util/workqueue"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/observability"
	"github.com/shoalmesh/shoal/sdk/go/kinds"
	"github.com/shoalmesh/shoal/sdk/go/workqueue"
	"github.com/shoalmesh/shoal/services/controller/informers"
)

// Controller is one control loop.
type Controller interface {
	// Name is the loop's name: its queue's metric label and log field.
	Name() string
	// Run works until ctx is done, with the given number of workers, and
	// returns once every goroutine it started has stopped. The informers
	// have synced before Run is called.
	Run(ctx context.Context, workers int)
}

// Recorder records Events about objects (sdk/go/record.Recorder is one).
type Recorder interface {
	Event(obj kinds.Object, typ shoalv1.EventType, reason, message string)
}

// Queue is a rate-limited work queue of object keys.
type Queue = kworkqueue.TypedRateLimitingInterface[string]

// Context is what every controller is built from.
type Context struct {
	Informers *informers.Set
	Conn      grpc.ClientConnInterface
	Recorder  Recorder
	Log       *slog.Logger
	// Metrics, when set, receives every queue's metrics.
	Metrics kworkqueue.MetricsProvider
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Tracer records the spans of controller syncs; nil records nothing.
	Tracer trace.Tracer
}

// NewQueue returns a rate-limited queue named name, reporting to Metrics.
func (c *Context) NewQueue(name string) Queue {
	var opts []workqueue.Option
	if c.Metrics != nil {
		opts = append(opts, workqueue.WithMetricsProvider(c.Metrics))
	}
	return workqueue.New[string](name, opts...)
}

// TracerOrNoop returns Tracer, or a tracer that records nothing when it is
// nil, so that controllers need no nil checks around their spans.
func (c *Context) TracerOrNoop() trace.Tracer {
	if c.Tracer != nil {
		return c.Tracer
	}
	return noop.NewTracerProvider().Tracer("")
}

// StartSync starts the span of one sync of obj, named span (e.g.
// "replicaset.Sync"): a child of the trace recorded on obj, so the user's
// action that last changed it shows this sync and the writes it makes. end
// records the sync's error, if any, and ends the span.
func StartSync(ctx context.Context, tracer trace.Tracer, span string, obj kinds.Object) (context.Context, func(error)) {
	m := obj.GetMetadata()
	ctx, s := tracer.Start(observability.ObjectContext(ctx, m.GetAnnotations()), span,
		trace.WithAttributes(attribute.String("shoal.object", m.GetNamespace()+"/"+m.GetName())))
	return ctx, func(err error) {
		if err != nil {
			s.RecordError(err)
			s.SetStatus(codes.Error, err.Error())
		}
		s.End()
	}
}

// Clock returns Now, or time.Now when it is nil.
func (c *Context) Clock() func() time.Time {
	if c.Now != nil {
		return c.Now
	}
	return time.Now
}

// Logger returns Log with the controller's name, or a discarding logger.
func (c *Context) Logger(name string) *slog.Logger {
	if c.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Log.With("controller", name)
}

// Event types, shorter.
const (
	Normal  = shoalv1.EventType_EVENT_TYPE_NORMAL
	Warning = shoalv1.EventType_EVENT_TYPE_WARNING
)

// NopRecorder drops every event.
type NopRecorder struct{}

// Event does nothing.
func (NopRecorder) Event(kinds.Object, shoalv1.EventType, string, string) {}
