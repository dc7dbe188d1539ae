package podlogs

import (
	"time"

	"github.com/shoalmesh/shoal/observability"
)

// Fluent ships container log lines through the process's one Fluentd sink
// (observability.FluentSink): a bounded buffer, lines dropped and counted
// when it is full, never a blocked container.
type Fluent struct {
	sink *observability.FluentSink
}

var _ Sink = (*Fluent)(nil)

// NewFluent ships through sink.
func NewFluent(sink *observability.FluentSink) *Fluent { return &Fluent{sink: sink} }

// Tag is the Fluentd tag of a container's lines.
func Tag(m Meta) string {
	return "shoal.pod." + m.Namespace + "." + m.Pod + "." + m.Container
}

// Ship posts one line; a full buffer drops it.
func (f *Fluent) Ship(m Meta, stream string, t time.Time, line []byte) {
	f.sink.Post(Tag(m), t, map[string]any{
		"namespace": m.Namespace, "pod": m.Pod, "container": m.Container,
		"node": m.Node, "stream": stream, "log": string(line),
	})
}

// Dropped counts records the sink dropped (container lines and others).
func (f *Fluent) Dropped() int64 { return f.sink.Dropped() }
