package podlogs

import (
	"fmt"
	"net"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/fluent/fluent-logger-golang/fluent"
)

// Fluent ships log lines to a Fluentd (forward protocol) asynchronously:
// a bounded buffer, lines dropped (and counted) when it is full, never a
// blocked container.
type Fluent struct {
	logger  *fluent.Fluent
	dropped atomic.Int64
}

var _ Sink = (*Fluent)(nil)

// NewFluent connects lazily to address (host:port, or unix:///path);
// bufferLimit bounds the records waiting to be sent.
func NewFluent(address string, bufferLimit int) (*Fluent, error) {
	cfg := fluent.Config{Async: true, BufferLimit: bufferLimit, SubSecondPrecision: true,
		WriteTimeout: 5 * time.Second, MaxRetry: 5, ForceStopAsyncSend: true}
	if len(address) > 7 && address[:7] == "unix://" {
		cfg.FluentNetwork, cfg.FluentSocketPath = "unix", address[7:]
	} else {
		host, port, err := net.SplitHostPort(address)
		if err != nil {
			return nil, fmt.Errorf("podlogs: fluentd address %q: %w", address, err)
		}
		p, err := strconv.Atoi(port)
		if err != nil {
			return nil, fmt.Errorf("podlogs: fluentd port %q: %w", port, err)
		}
		cfg.FluentHost, cfg.FluentPort = host, p
	}
	l, err := fluent.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("podlogs: fluentd: %w", err)
	}
	return &Fluent{logger: l}, nil
}

// Tag is the Fluentd tag of a container's lines.
func Tag(m Meta) string {
	return "shoal.pod." + m.Namespace + "." + m.Pod + "." + m.Container
}

// Ship posts one line; a full buffer drops it.
func (f *Fluent) Ship(m Meta, stream string, t time.Time, line []byte) {
	rec := map[string]string{
		"namespace": m.Namespace, "pod": m.Pod, "container": m.Container,
		"node": m.Node, "stream": stream, "log": string(line),
	}
	if err := f.logger.PostWithTime(Tag(m), t, rec); err != nil {
		f.dropped.Add(1)
	}
}

// Dropped counts lines not shipped.
func (f *Fluent) Dropped() int64 { return f.dropped.Load() }

// Close flushes what it can and closes the connection.
func (f *Fluent) Close() error { return f.logger.Close() }
