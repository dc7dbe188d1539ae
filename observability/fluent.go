package observability

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/fluent/fluent-logger-golang/fluent"
	"github.com/prometheus/client_golang/prometheus"
)

// FluentSink ships records to a Fluentd (or any Fluent forward receiver)
// without ever blocking the caller: records queue in a bounded buffer that a
// background sender drains, and a record that finds the buffer full is
// dropped and counted. It is the one way Shoal sends anything to Fluentd:
// service logs and the node agent's container logs alike.
type FluentSink struct {
	f       *fluent.Fluent
	records *prometheus.CounterVec
	dropped atomic.Int64
}

// FluentBufferLimit is how many records wait for Fluentd before new ones are
// dropped.
const FluentBufferLimit = 8192

// NewFluentSink connects lazily to address, "host:port" or
// "unix:///path/to/socket"; counters
// shoal_fluentd_records_total{result=queued|dropped|failed} go to reg.
func NewFluentSink(address string, bufferLimit int, reg prometheus.Registerer) (*FluentSink, error) {
	if bufferLimit <= 0 {
		bufferLimit = FluentBufferLimit
	}
	ep, err := fluentEndpoint(address)
	if err != nil {
		return nil, err
	}
	records := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "shoal_fluentd_records_total",
		Help: "Records handed to the Fluentd sink, by result: queued, dropped (buffer full) or failed (not delivered).",
	}, []string{"result"})
	if reg != nil {
		if err := reg.Register(records); err != nil {
			var are prometheus.AlreadyRegisteredError
			if !asAlreadyRegistered(err, &are) {
				return nil, err
			}
			records = are.ExistingCollector.(*prometheus.CounterVec)
		}
	}
	cfg := fluent.Config{
		FluentNetwork:      ep.FluentNetwork,
		FluentHost:         ep.FluentHost,
		FluentPort:         ep.FluentPort,
		FluentSocketPath:   ep.FluentSocketPath,
		Async:              true,
		BufferLimit:        bufferLimit,
		SubSecondPrecision: true,
		// A dead Fluentd must not pin the sender for minutes: give up on a
		// record after a few quick retries, count it, move on.
		MaxRetry:     3,
		MaxRetryWait: 1000,
		WriteTimeout: 3 * time.Second,
		Timeout:      3 * time.Second,
		// Close must not wait for an unreachable Fluentd.
		ForceStopAsyncSend: true,
		AsyncResultCallback: func(_ []byte, err error) {
			if err != nil {
				records.WithLabelValues("failed").Inc()
			}
		},
	}
	f, err := fluent.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("observability: fluentd: %w", err)
	}
	return &FluentSink{f: f, records: records}, nil
}

// fluentEndpoint parses "host:port" or "unix:///path" into the network
// fields of a fluent.Config.
func fluentEndpoint(address string) (fluent.Config, error) {
	if path, ok := strings.CutPrefix(address, "unix://"); ok {
		if path == "" {
			return fluent.Config{}, fmt.Errorf("observability: fluentd address %q: no socket path", address)
		}
		return fluent.Config{FluentNetwork: "unix", FluentSocketPath: path}, nil
	}
	host, portStr, err := net.SplitHostPort(address)
	if err != nil {
		return fluent.Config{}, fmt.Errorf("observability: fluentd address %q: %w", address, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return fluent.Config{}, fmt.Errorf("observability: fluentd port %q: %w", portStr, err)
	}
	return fluent.Config{FluentNetwork: "tcp", FluentHost: host, FluentPort: port}, nil
}

func asAlreadyRegistered(err error, target *prometheus.AlreadyRegisteredError) bool {
	are, ok := err.(prometheus.AlreadyRegisteredError)
	if ok {
		*target = are
	}
	return ok
}

// Post queues one record; it reports false when the record was dropped.
func (s *FluentSink) Post(tag string, tm time.Time, record map[string]any) bool {
	if err := s.f.PostWithTime(tag, tm, record); err != nil {
		s.records.WithLabelValues("dropped").Inc()
		s.dropped.Add(1)
		return false
	}
	s.records.WithLabelValues("queued").Inc()
	return true
}

// Dropped counts records lost to a full buffer.
func (s *FluentSink) Dropped() int64 { return s.dropped.Load() }

// Close stops the sender; queued records that could not be sent are lost.
func (s *FluentSink) Close() error { return s.f.Close() }

// fluentLogWriter receives the JSON lines of a service's logger (one Write
// per record, as slog's JSON handler does) and posts each as a record, so
// Fluentd gets exactly the fields the local log has, trace ids included.
type fluentLogWriter struct {
	sink *FluentSink
	tag  string
}

func (w fluentLogWriter) Write(p []byte) (int, error) {
	dec := json.NewDecoder(bytes.NewReader(p))
	dec.UseNumber()
	var rec map[string]any
	if err := dec.Decode(&rec); err != nil {
		rec = map[string]any{"msg": string(bytes.TrimSpace(p))}
	}
	tm := time.Now()
	if s, ok := rec["time"].(string); ok {
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			tm = t
		}
	}
	w.sink.Post(w.tag, tm, rec)
	return len(p), nil
}
