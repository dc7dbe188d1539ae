package server_test

import corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"

type corev3Node struct{ id string }

func (n *corev3Node) pb() *corev3.Node { return &corev3.Node{Id: n.id} }
