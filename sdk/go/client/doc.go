// Package client is the Go SDK's generic, typed client for every Shoal kind.
//
// One implementation serves all kinds: requests are built by reflection from
// the contract (the kind table in sdk/go/kinds), so a new kind needs no new
// client code. Services use it with a connection from Dial:
//
//	conn, err := client.Dial(ctx, "127.0.0.1:6443", client.WithToken(tok))
//	pods := client.For[*shoalv1.Pod](conn)
//	p, err := pods.Get(ctx, "default", "web-0")
//	res, err := pods.List(ctx, client.ListOptions{Namespace: "default", LabelSelector: "app=web"})
//	w, err := pods.Watch(ctx, client.WatchOptions{ResourceVersion: res.ResourceVersion})
//
// Errors are gRPC status errors as the gateway sent them; use status.Code or
// the helpers IsNotFound, IsConflict, IsAlreadyExists, IsGone.
package client
