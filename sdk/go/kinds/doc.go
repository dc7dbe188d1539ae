// Package kinds is the one table of Shoal's object kinds: their names,
// plurals, scope, gRPC service and method names, and generic accessors for the
// metadata/spec/status that every object has. The apigateway builds its
// generic storage path from it and the SDK's generic client builds requests
// from it, so a kind is described exactly once.
package kinds
