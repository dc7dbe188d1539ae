// Package auth holds the gateway's authentication (bearer tokens from a
// static token file, in the format of Kubernetes' --token-auth-file) and
// authorization (group rules over verb, kind, namespace and name). Both run
// as interceptors inside the one interceptor chain every RPC passes through.
package auth
