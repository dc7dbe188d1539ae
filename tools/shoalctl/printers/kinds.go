package printers

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/timestamppb"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/sdk/go/kinds"
	"github.com/shoalmesh/shoal/sdk/go/selector"
	"github.com/shoalmesh/shoal/tools/shoalctl/manifest"
)

// byKind holds each kind's columns, kubectl's where kubectl has the kind.
var byKind = map[string]columns{
	"Pod": {
		header: []string{"NAME", "READY", "STATUS", "RESTARTS", "AGE"},
		wide:   []string{"IP", "NODE"},
		row:    func(t *Table, o kinds.Object) []string { return podRow(t, o.(*shoalv1.Pod)) },
	},
	"Deployment": {
		header: []string{"NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"},
		wide:   []string{"CONTAINERS", "IMAGES", "SELECTOR"},
		row: func(t *Table, o kinds.Object) []string {
			d := o.(*shoalv1.Deployment)
			st := d.GetStatus()
			return append([]string{d.GetMetadata().GetName(),
				fmt.Sprintf("%d/%d", st.GetReadyReplicas(), Replicas(d.GetSpec().Replicas)),
				itoa(st.GetUpdatedReplicas()), itoa(st.GetAvailableReplicas()), t.Age(d.GetMetadata().GetCreationTimestamp())},
				templateCells(d.GetSpec().GetTemplate(), d.GetSpec().GetSelector())...)
		},
	},
	"ReplicaSet": {
		header: []string{"NAME", "DESIRED", "CURRENT", "READY", "AGE"},
		wide:   []string{"CONTAINERS", "IMAGES", "SELECTOR"},
		row: func(t *Table, o kinds.Object) []string {
			rs := o.(*shoalv1.ReplicaSet)
			st := rs.GetStatus()
			return append([]string{rs.GetMetadata().GetName(), itoa(Replicas(rs.GetSpec().Replicas)),
				itoa(st.GetReplicas()), itoa(st.GetReadyReplicas()), t.Age(rs.GetMetadata().GetCreationTimestamp())},
				templateCells(rs.GetSpec().GetTemplate(), rs.GetSpec().GetSelector())...)
		},
	},
	"Service": {
		header: []string{"NAME", "TYPE", "CLUSTER-IP", "PORT(S)", "AGE"},
		wide:   []string{"SELECTOR"},
		row: func(t *Table, o kinds.Object) []string {
			s := o.(*shoalv1.Service)
			return []string{s.GetMetadata().GetName(), "ClusterIP", none(s.GetSpec().GetClusterIp()),
				ServicePorts(s.GetSpec().GetPorts()), t.Age(s.GetMetadata().GetCreationTimestamp()),
				none(formatMap(s.GetSpec().GetSelector()))}
		},
	},
	"Node": {
		header: []string{"NAME", "STATUS", "ROLES", "AGE", "VERSION"},
		wide:   []string{"INTERNAL-IP", "EXTERNAL-IP", "OS-IMAGE", "KERNEL-VERSION", "CONTAINER-RUNTIME"},
		row:    func(t *Table, o kinds.Object) []string { return nodeRow(t, o.(*shoalv1.Node)) },
	},
	"Namespace": {
		header: []string{"NAME", "STATUS", "AGE"},
		row: func(t *Table, o kinds.Object) []string {
			ns := o.(*shoalv1.Namespace)
			phase := enumWord(ns.GetStatus().GetPhase())
			if ns.GetStatus().GetPhase() == shoalv1.NamespacePhase_NAMESPACE_PHASE_UNSPECIFIED {
				phase = "Active"
			}
			return []string{ns.GetMetadata().GetName(), phase, t.Age(ns.GetMetadata().GetCreationTimestamp())}
		},
	},
	"Endpoints": {
		header: []string{"NAME", "ENDPOINTS", "AGE"},
		row: func(t *Table, o kinds.Object) []string {
			ep := o.(*shoalv1.Endpoints)
			return []string{ep.GetMetadata().GetName(), endpoints(ep.GetSpec()), t.Age(ep.GetMetadata().GetCreationTimestamp())}
		},
	},
	"Event": {
		header: []string{"LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"},
		wide:   []string{"SOURCE", "FIRST SEEN", "COUNT", "NAME"},
		row:    func(t *Table, o kinds.Object) []string { return eventRow(t, o.(*shoalv1.Event)) },
	},
	"Lease": {
		header: []string{"NAME", "HOLDER", "AGE"},
		row: func(t *Table, o kinds.Object) []string {
			l := o.(*shoalv1.Lease)
			return []string{l.GetMetadata().GetName(), none(l.GetSpec().GetHolderIdentity()), t.Age(l.GetMetadata().GetCreationTimestamp())}
		},
	},
	"ResourceQuota": {
		header: []string{"NAME", "AGE", "REQUEST"},
		row: func(t *Table, o kinds.Object) []string {
			q := o.(*shoalv1.ResourceQuota)
			return []string{q.GetMetadata().GetName(), t.Age(q.GetMetadata().GetCreationTimestamp()), quota(q)}
		},
	},
}

func columnsOf(kind string) columns {
	if c, ok := byKind[kind]; ok {
		return c
	}
	return columns{header: []string{"NAME", "AGE"}, row: func(t *Table, o kinds.Object) []string {
		return []string{o.GetMetadata().GetName(), t.Age(o.GetMetadata().GetCreationTimestamp())}
	}}
}

func itoa[T int32 | int64 | int](n T) string { return strconv.FormatInt(int64(n), 10) }

// Replicas is a spec's replica count, 1 when unset (the gateway's default).
func Replicas(r *int32) int32 {
	if r == nil {
		return 1
	}
	return *r
}

type protoEnum interface {
	Descriptor() protoreflect.EnumDescriptor
	Number() protoreflect.EnumNumber
}

// enumWord prints an enum value as Kubernetes spells it ("Running").
func enumWord(e protoEnum) string { return manifest.EnumWord(e.Descriptor(), e.Number()) }

func podRow(t *Table, p *shoalv1.Pod) []string {
	st := p.GetStatus()
	reason := enumWord(st.GetPhase())
	if st.GetPhase() == shoalv1.PodPhase_POD_PHASE_UNSPECIFIED {
		reason = "Pending"
	}
	if st.GetReason() != "" {
		reason = st.GetReason()
	}
	var ready, restarts int
	var lastRestart time.Time
	hasRunning := false
	cs := st.GetContainerStatuses()
	for i := len(cs) - 1; i >= 0; i-- {
		c := cs[i]
		restarts += int(c.GetRestartCount())
		if f := c.GetLastTerminationState().GetTerminated().GetFinishedAt(); f != nil && f.AsTime().After(lastRestart) {
			lastRestart = f.AsTime()
		}
		state := c.GetState()
		switch {
		case state.GetWaiting() != nil && state.GetWaiting().GetReason() != "":
			reason = state.GetWaiting().GetReason()
		case state.GetTerminated() != nil && state.GetTerminated().GetReason() != "":
			reason = state.GetTerminated().GetReason()
		case state.GetTerminated() != nil:
			if s := state.GetTerminated().GetSignal(); s != 0 {
				reason = fmt.Sprintf("Signal:%d", s)
			} else {
				reason = fmt.Sprintf("ExitCode:%d", state.GetTerminated().GetExitCode())
			}
		case c.GetReady() && state.GetRunning() != nil:
			hasRunning = true
			ready++
		}
	}
	if reason == "Completed" && hasRunning {
		reason = "Running"
	}
	if p.GetMetadata().GetDeletionTimestamp() != nil {
		reason = "Terminating"
		if st.GetReason() == "NodeLost" {
			reason = "Unknown"
		}
	}
	restartCell := itoa(restarts)
	if !lastRestart.IsZero() {
		restartCell += " (" + Since(t.now(), lastRestart) + " ago)"
	}
	return []string{p.GetMetadata().GetName(), fmt.Sprintf("%d/%d", ready, len(p.GetSpec().GetContainers())), reason,
		restartCell, t.Age(p.GetMetadata().GetCreationTimestamp()), none(st.GetPodIp()), none(p.GetSpec().GetNodeName())}
}

func templateCells(tmpl *shoalv1.PodTemplateSpec, sel *shoalv1.LabelSelector) []string {
	var names, images []string
	for _, c := range tmpl.GetSpec().GetContainers() {
		names = append(names, c.GetName())
		images = append(images, c.GetImage())
	}
	return []string{none(strings.Join(names, ",")), none(strings.Join(images, ",")), Selector(sel)}
}

// Selector prints a label selector in Kubernetes syntax.
func Selector(sel *shoalv1.LabelSelector) string {
	s, err := selector.FromLabelSelector(sel)
	if err != nil {
		return "<error>"
	}
	return none(s.String())
}

// ServicePorts is kubectl's PORT(S) cell: 50051/GRPC,80/TCP.
func ServicePorts(ports []*shoalv1.ServicePort) string {
	var parts []string
	for _, p := range ports {
		proto := "TCP"
		if p.GetProtocol() != shoalv1.ServiceProtocol_SERVICE_PROTOCOL_UNSPECIFIED {
			proto = enumWord(p.GetProtocol())
		}
		parts = append(parts, fmt.Sprintf("%d/%s", p.GetPort(), proto))
	}
	return none(strings.Join(parts, ","))
}

func formatMap(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return strings.Join(parts, ",")
}

func nodeRow(t *Table, n *shoalv1.Node) []string {
	status := "Unknown"
	for _, c := range n.GetStatus().GetConditions() {
		if c.GetType() != "Ready" {
			continue
		}
		switch c.GetStatus() {
		case shoalv1.ConditionStatus_CONDITION_STATUS_TRUE:
			status = "Ready"
		case shoalv1.ConditionStatus_CONDITION_STATUS_FALSE:
			status = "NotReady"
		}
	}
	if n.GetSpec().GetUnschedulable() {
		status += ",SchedulingDisabled"
	}
	var roles []string
	for k := range n.GetMetadata().GetLabels() {
		if r, ok := strings.CutPrefix(k, "node-role.kubernetes.io/"); ok && r != "" {
			roles = append(roles, r)
		}
	}
	sort.Strings(roles)
	addr := map[shoalv1.NodeAddressType]string{}
	for _, a := range n.GetStatus().GetAddresses() {
		if _, ok := addr[a.GetType()]; !ok {
			addr[a.GetType()] = a.GetAddress()
		}
	}
	info := n.GetStatus().GetNodeInfo()
	return []string{n.GetMetadata().GetName(), status, none(strings.Join(roles, ",")), t.Age(n.GetMetadata().GetCreationTimestamp()),
		none(info.GetAgentVersion()),
		none(addr[shoalv1.NodeAddressType_NODE_ADDRESS_TYPE_INTERNAL_IP]), none(addr[shoalv1.NodeAddressType_NODE_ADDRESS_TYPE_EXTERNAL_IP]),
		none(info.GetOsImage()), none(info.GetKernelVersion()), none(info.GetContainerRuntimeVersion())}
}

// endpoints is kubectl's ENDPOINTS cell: the first three ready
// address:port pairs and how many more there are.
func endpoints(s *shoalv1.EndpointsSpec) string {
	var all []string
	for _, a := range s.GetAddresses() {
		if !a.GetReady() {
			continue
		}
		if len(s.GetPorts()) == 0 {
			all = append(all, a.GetIp())
		}
		for _, p := range s.GetPorts() {
			all = append(all, fmt.Sprintf("%s:%d", a.GetIp(), p.GetPort()))
		}
	}
	const max = 3
	if len(all) > max {
		return strings.Join(all[:max], ",") + fmt.Sprintf(" + %d more...", len(all)-max)
	}
	return none(strings.Join(all, ","))
}

// EventTime is when an event was last seen.
func EventTime(e *shoalv1.Event) time.Time {
	for _, ts := range []*timestamppb.Timestamp{e.GetSpec().GetLastTimestamp(), e.GetSpec().GetFirstTimestamp(), e.GetMetadata().GetCreationTimestamp()} {
		if ts != nil {
			return ts.AsTime()
		}
	}
	return time.Time{}
}

func sortEvents(objs []kinds.Object) {
	sort.SliceStable(objs, func(i, j int) bool {
		return EventTime(objs[i].(*shoalv1.Event)).Before(EventTime(objs[j].(*shoalv1.Event)))
	})
}

// EventType is Normal or Warning.
func EventType(e *shoalv1.Event) string {
	if e.GetSpec().GetType() == shoalv1.EventType_EVENT_TYPE_UNSPECIFIED {
		return "Normal"
	}
	return enumWord(e.GetSpec().GetType())
}

func eventRow(t *Table, e *shoalv1.Event) []string {
	s := e.GetSpec()
	obj := strings.ToLower(s.GetInvolvedObject().GetKind()) + "/" + s.GetInvolvedObject().GetName()
	first := t.Age(s.GetFirstTimestamp())
	return []string{Since(t.now(), EventTime(e)), EventType(e), s.GetReason(), obj, s.GetMessage(),
		none(s.GetSource().GetComponent()), first, itoa(max(s.GetCount(), 1)), e.GetMetadata().GetName()}
}

func quota(q *shoalv1.ResourceQuota) string {
	hard, used := q.GetStatus().GetHard(), q.GetStatus().GetUsed()
	if hard == nil {
		hard = q.GetSpec().GetHard()
	}
	var parts []string
	add := func(name string, h *int64, u int64, format func(int64) string) {
		if h != nil {
			parts = append(parts, fmt.Sprintf("%s: %s/%s", name, format(u), format(*h)))
		}
	}
	plain := func(n int64) string { return itoa(n) }
	add("cpu", hard.CpuMillis, used.GetCpuMillis(), CPU)
	add("memory", hard.MemoryBytes, used.GetMemoryBytes(), Memory)
	add("pods", hard.Pods, used.GetPods(), plain)
	add("services", hard.Services, used.GetServices(), plain)
	return none(strings.Join(parts, ", "))
}

// CPU prints millicores as Kubernetes does: 500m, 2.
func CPU(m int64) string {
	if m%1000 == 0 {
		return itoa(m / 1000)
	}
	return itoa(m) + "m"
}

// Memory prints bytes with the largest exact binary suffix: 64Mi, 1536Ki.
func Memory(b int64) string {
	for _, s := range []struct {
		suffix string
		shift  uint
	}{{"Ti", 40}, {"Gi", 30}, {"Mi", 20}, {"Ki", 10}} {
		if b != 0 && b%(1<<s.shift) == 0 {
			return itoa(b>>s.shift) + s.suffix
		}
	}
	return itoa(b)
}

// ReplicasPtr makes an optional replica count present (1, the default,
// when unset) and returns it for editing.
func ReplicasPtr(r **int32) *int32 {
	if *r == nil {
		v := int32(1)
		*r = &v
	}
	return *r
}
