// Package freeport finds loopback TCP ports for processes that must be told
// their address before they listen (an embedded etcd's URLs, a child
// process's flags). Tests, benchmarks and the local cluster share it.
package freeport

import "net"

// Ports returns n distinct TCP ports on 127.0.0.1 that were free when
// asked. The listeners are held until all n are chosen, so the n differ;
// the kernel does not hand a just-closed port out again right away.
func Ports(n int) ([]int, error) {
	ports := make([]int, 0, n)
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
