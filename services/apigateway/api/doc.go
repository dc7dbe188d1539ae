// Package api is the apigateway's gRPC edge. It registers every kind's
// service from the contract's descriptors with one set of generic handlers
// (no generated per-kind server code), turns requests into registry calls,
// and translates registry errors into gRPC statuses with BadRequest details
// in exactly one place (errors.go).
package api
