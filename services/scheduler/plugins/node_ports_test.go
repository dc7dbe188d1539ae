package plugins_test

import (
	"testing"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/services/scheduler/framework"
	"github.com/shoalmesh/shoal/services/scheduler/plugins"
)

func hostPort(port int32, proto shoalv1.Protocol, ip string) podOpt {
	return func(p *shoalv1.Pod) {
		c := p.Spec.Containers[0]
		c.Ports = append(c.Ports, &shoalv1.ContainerPort{ContainerPort: 8080, HostPort: port, Protocol: proto, HostIp: ip})
	}
}

func TestNodePorts(t *testing.T) {
	tcp, udp := shoalv1.Protocol_PROTOCOL_TCP, shoalv1.Protocol_PROTOCOL_UDP
	n := makeNode("n")
	u := framework.Unschedulable
	runFilter(t, &plugins.NodePorts{}, []filterCase{
		{name: "no host ports (skipped)", pod: makePod("p"), node: nodeInfo(n, makePod("a", hostPort(80, tcp, "")))},
		{name: "free port", pod: makePod("p", hostPort(81, tcp, "")), node: nodeInfo(n, makePod("a", hostPort(80, tcp, "")))},
		{name: "port taken", pod: makePod("p", hostPort(80, tcp, "")), node: nodeInfo(n, makePod("a", hostPort(80, tcp, ""))),
			wantCode: u, wantReasons: []string{"host port 80/TCP in use"}},
		{name: "unspecified protocol is TCP", pod: makePod("p", hostPort(80, shoalv1.Protocol_PROTOCOL_UNSPECIFIED, "")), node: nodeInfo(n, makePod("a", hostPort(80, tcp, ""))),
			wantCode: u, wantReasons: []string{"host port 80/TCP in use"}},
		{name: "other protocol", pod: makePod("p", hostPort(53, udp, "")), node: nodeInfo(n, makePod("a", hostPort(53, tcp, "")))},
		{name: "different IPs", pod: makePod("p", hostPort(80, tcp, "10.0.0.2")), node: nodeInfo(n, makePod("a", hostPort(80, tcp, "10.0.0.1")))},
		{name: "wildcard IP conflicts with a specific one", pod: makePod("p", hostPort(80, tcp, "")), node: nodeInfo(n, makePod("a", hostPort(80, tcp, "10.0.0.1"))),
			wantCode: u, wantReasons: []string{"host port 80/TCP in use"}},
		{name: "specific IP conflicts with the wildcard", pod: makePod("p", hostPort(80, tcp, "10.0.0.1")), node: nodeInfo(n, makePod("a", hostPort(80, tcp, ""))),
			wantCode: u, wantReasons: []string{"host port 10.0.0.1:80/TCP in use"}},
		{name: "freed when the pod goes", pod: makePod("p", hostPort(80, tcp, "")), node: func() *framework.NodeInfo {
			ni, _ := nodeInfo(n, makePod("a", hostPort(80, tcp, ""))).WithoutPod("uid-a")
			return ni
		}()},
	})
}
