// Package integration holds the controller's integration tests: a real
// apigateway with embedded etcd, real controller managers over gRPC, fake
// nodes (fakeagent) and a stand-in binder for the scheduler, all started
// in-process by controllertest. It has no code outside its tests.
package integration
