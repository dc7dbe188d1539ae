package informer

import (
	"log/slog"
	"time"
)

// Option tunes New.
type Option func(*options)

type options struct {
	namespace     string
	labelSelector string
	fieldSelector string
	resync        time.Duration
	pageSize      int32
	log           *slog.Logger
	indexes       []namedIndex
	minBackoff    time.Duration
	maxBackoff    time.Duration
}

type namedIndex struct {
	name string
	fn   any // func(T) []string, checked by New
}

func defaultOptions() options {
	return options{
		minBackoff: 100 * time.Millisecond,
		maxBackoff: 30 * time.Second,
	}
}

// WithNamespace limits the informer to one namespace ("" = all).
func WithNamespace(ns string) Option { return func(o *options) { o.namespace = ns } }

// WithLabelSelector limits the informer to objects matching a label
// selector in Kubernetes syntax ("app=web,tier!=db").
func WithLabelSelector(sel string) Option { return func(o *options) { o.labelSelector = sel } }

// WithFieldSelector limits the informer to objects matching a field
// selector ("spec.node_name=n1").
func WithFieldSelector(sel string) Option { return func(o *options) { o.fieldSelector = sel } }

// WithResyncPeriod makes the informer call OnUpdate(obj, obj) for every
// cached object each period, so handlers get a periodic chance to
// re-reconcile. 0 (the default) disables resync.
func WithResyncPeriod(d time.Duration) Option { return func(o *options) { o.resync = d } }

// WithPageSize lists in pages of n objects; 0 (the default) asks for
// everything in one answer. Every page is read at the first page's revision.
func WithPageSize(n int32) Option { return func(o *options) { o.pageSize = n } }

// WithLogger sets the logger for list/watch failures and relists; without
// it nothing is logged.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithBackoff sets the bounds of the jittered exponential backoff between
// failed lists and watches (default 100ms doubling up to 30s).
func WithBackoff(minDelay, maxDelay time.Duration) Option {
	return func(o *options) { o.minBackoff, o.maxBackoff = minDelay, maxDelay }
}

// WithIndex adds a named index: fn returns the values an object is indexed
// under, and ByIndex(name, value) finds the objects. fn must be
// deterministic (the informer recomputes it on the old object to unindex
// it) and must not keep or modify the object. T must be the informer's
// object type, and name must be unique and not NamespaceIndex: New panics
// otherwise.
func WithIndex[T any](name string, fn func(obj T) []string) Option {
	return func(o *options) { o.indexes = append(o.indexes, namedIndex{name: name, fn: fn}) }
}
