// Package podlogs keeps container logs: a Writer turns a container's stdout
// and stderr into one file in the Kubernetes CRI log format
// ("<RFC3339Nano> <stream> <F|P> <content>") rotated by size, and ships
// every line to a Sink (Fluentd) without ever blocking the container; Read
// serves the file back with tail, since and follow.
package podlogs
