// Package registry is the apigateway's one generic path for every kind:
// defaulting, validation, server-set metadata, optimistic concurrency,
// status split from spec, graceful deletion and finalizers, selectors and
// pagination, on top of package storage. What differs between kinds lives in
// one table of strategies (strategy.go); there is no per-kind CRUD.
package registry
