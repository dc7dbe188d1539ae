// Package e2e holds the node agent's end-to-end tests: as root, against a
// containerd the tests start themselves, a real apigateway (gatewaytest)
// and the agent (in-process, or as its binary for the kill -9 test).
package e2e
