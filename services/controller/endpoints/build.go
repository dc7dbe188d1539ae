package endpoints

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/services/controller/podstate"
)

// ZoneLabel is the node label an address's zone comes from.
const ZoneLabel = "topology.kubernetes.io/zone"

// Built is the endpoints of one Service, and the pods left out of them
// because their ports resolve differently from the others'.
type Built struct {
	Spec *shoalv1.EndpointsSpec
	// Mismatched names pods whose named target ports resolve to other
	// numbers than the published ones.
	Mismatched []string
}

// Build computes a Service's endpoints from the pods its selector matches
// (the caller has matched them) and the nodes they run on (for zones).
//
// Pods without an IP, finished pods and pods being deleted are left out;
// the others are listed with ready set from their Ready condition. Target
// ports resolve by number, or by name against each pod's container ports;
// a pod on which a named port does not exist is left out. Endpoints have
// one port list for all addresses, so when pods resolve a name to
// different numbers (a rollout that renumbers a port) the resolution most
// pods share wins (ready pods count first, then the lowest port numbers)
// and the others are reported in Mismatched.
func Build(svc *shoalv1.Service, pods []*shoalv1.Pod, zoneOf func(node string) string) Built {
	ports := svc.GetSpec().GetPorts()
	type group struct {
		key   string
		ports []int32
		addrs []*shoalv1.EndpointAddress
		ready int
	}
	groups := map[string]*group{}
	for _, p := range pods {
		if p.GetStatus().GetPodIp() == "" || podstate.IsTerminal(p) || p.GetMetadata().GetDeletionTimestamp() != nil {
			continue
		}
		resolved, ok := resolvePorts(ports, p)
		if !ok {
			continue
		}
		key := fmt.Sprint(resolved)
		g := groups[key]
		if g == nil {
			g = &group{key: key, ports: resolved}
			groups[key] = g
		}
		m := p.GetMetadata()
		addr := &shoalv1.EndpointAddress{
			Ip:       p.GetStatus().GetPodIp(),
			NodeName: p.GetSpec().GetNodeName(),
			TargetRef: &shoalv1.ObjectReference{
				Kind: "Pod", Namespace: m.GetNamespace(), Name: m.GetName(), Uid: m.GetUid(),
			},
			Ready: podstate.IsReady(p),
		}
		if zoneOf != nil && addr.NodeName != "" {
			addr.Zone = zoneOf(addr.NodeName)
		}
		if addr.Ready {
			g.ready++
		}
		g.addrs = append(g.addrs, addr)
	}

	spec := &shoalv1.EndpointsSpec{}
	var chosen *group
	for _, g := range groups {
		if chosen == nil || better(g.ready, len(g.addrs), g.ports, chosen.ready, len(chosen.addrs), chosen.ports) {
			chosen = g
		}
	}
	var mismatched []string
	for _, g := range groups {
		if g == chosen {
			continue
		}
		for _, a := range g.addrs {
			mismatched = append(mismatched, a.GetTargetRef().GetName())
		}
	}
	slices.Sort(mismatched)
	if chosen != nil {
		spec.Addresses = chosen.addrs
		slices.SortFunc(spec.Addresses, func(a, b *shoalv1.EndpointAddress) int {
			return cmp.Or(strings.Compare(a.GetIp(), b.GetIp()), strings.Compare(a.GetTargetRef().GetName(), b.GetTargetRef().GetName()))
		})
	}
	for i, sp := range ports {
		ep := &shoalv1.EndpointPort{Name: sp.GetName(), Protocol: sp.GetProtocol()}
		switch {
		case chosen != nil:
			ep.Port = chosen.ports[i]
		case sp.GetTargetPort().GetStrValue() == "":
			ep.Port = targetNumber(sp)
		default:
			continue // a named port nobody resolves: nothing to say
		}
		spec.Ports = append(spec.Ports, ep)
	}
	return Built{Spec: spec, Mismatched: mismatched}
}

// better orders candidate port resolutions: more ready pods, then more
// pods, then lower port numbers (deterministic).
func better(readyA, allA int, portsA []int32, readyB, allB int, portsB []int32) bool {
	if readyA != readyB {
		return readyA > readyB
	}
	if allA != allB {
		return allA > allB
	}
	return slices.Compare(portsA, portsB) < 0
}

// resolvePorts resolves every service port's target on pod p.
func resolvePorts(ports []*shoalv1.ServicePort, p *shoalv1.Pod) ([]int32, bool) {
	out := make([]int32, len(ports))
	for i, sp := range ports {
		n, ok := resolvePort(sp, p)
		if !ok {
			return nil, false
		}
		out[i] = n
	}
	return out, true
}

// resolvePort finds a service port's target on a pod: a number as is, a
// name through the pod's container ports.
func resolvePort(sp *shoalv1.ServicePort, p *shoalv1.Pod) (int32, bool) {
	name := sp.GetTargetPort().GetStrValue()
	if name == "" {
		return targetNumber(sp), true
	}
	for _, c := range p.GetSpec().GetContainers() {
		for _, cp := range c.GetPorts() {
			if cp.GetName() == name {
				return cp.GetContainerPort(), true
			}
		}
	}
	return 0, false
}

func targetNumber(sp *shoalv1.ServicePort) int32 {
	if n := sp.GetTargetPort().GetIntValue(); n != 0 {
		return n
	}
	return sp.GetPort()
}
