// Package storage keeps Shoal objects in etcd: one generic Store per kind
// (protobuf values under /shoal/registry/<resource>/[<namespace>/]<name>,
// writes as transactions compared on mod revision) and, in front of it, a
// watch cache: one etcd watch per kind feeding an in-memory ordered store and
// a bounded ring of events. List and Watch are served from the cache, so any
// number of watchers costs etcd nothing extra; a watcher that resumes from a
// revision older than the ring is replayed from etcd's own history until it
// catches up.
//
// The package knows nothing of gRPC: it returns the sentinel errors in
// errors.go and the gateway's edge translates them.
package storage
