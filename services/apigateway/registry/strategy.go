package registry

import (
	"strings"
	"time"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/timestamppb"
	"k8s.io/apimachinery/pkg/fields"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/sdk/go/kinds"
)

// NamespaceFinalizer holds a deleted namespace until the namespace
// controller has emptied it.
const NamespaceFinalizer = "shoal.io/namespace"

// Finalizers the garbage collector acts on (Kubernetes' names).
const (
	FinalizerForeground = "foregroundDeletion"
	FinalizerOrphan     = "orphan"
)

// strategy is what differs between kinds. Every hook is optional.
type strategy struct {
	// fields are the selectable field names beyond metadata.name and
	// metadata.namespace, and extraFields reads them.
	fields      []string
	extraFields func(kinds.Object, fields.Set)
	// prepareCreate resets what a client may not set at creation.
	prepareCreate func(obj kinds.Object, now time.Time)
	// prepareUpdate carries server-owned spec fields over from old when the
	// client left them empty.
	prepareUpdate func(old, obj kinds.Object)
	// deletionGrace is how long a delete waits for the object's owner (the
	// node agent) to confirm; 0 deletes at once.
	deletionGrace func(obj kinds.Object, requested *int64) int64
	// holdDeletion reports whether a deleted object with no finalizers must
	// still stay (a pod the node agent has not confirmed).
	holdDeletion func(obj kinds.Object) bool
	// beforeDelete marks an object as deleting (namespace: Terminating).
	beforeDelete func(obj kinds.Object)
}

func strategies() map[string]strategy {
	return map[string]strategy{
		"Namespace": {
			fields: []string{"status.phase"},
			extraFields: func(o kinds.Object, s fields.Set) {
				s["status.phase"] = enumWord(o.(*shoalv1.Namespace).GetStatus().GetPhase())
			},
			prepareCreate: func(o kinds.Object, _ time.Time) {
				o.(*shoalv1.Namespace).Status = &shoalv1.NamespaceStatus{Phase: shoalv1.NamespacePhase_NAMESPACE_PHASE_ACTIVE}
			},
			beforeDelete: func(o kinds.Object) {
				ns := o.(*shoalv1.Namespace)
				if ns.Status == nil {
					ns.Status = &shoalv1.NamespaceStatus{}
				}
				ns.Status.Phase = shoalv1.NamespacePhase_NAMESPACE_PHASE_TERMINATING
				addFinalizer(ns.GetMetadata(), NamespaceFinalizer)
			},
		},
		"Node": {
			fields: []string{"spec.unschedulable"},
			extraFields: func(o kinds.Object, s fields.Set) {
				if o.(*shoalv1.Node).GetSpec().GetUnschedulable() {
					s["spec.unschedulable"] = "true"
				} else {
					s["spec.unschedulable"] = "false"
				}
			},
		},
		"Pod": {
			fields: []string{"spec.node_name", "status.phase"},
			extraFields: func(o kinds.Object, s fields.Set) {
				p := o.(*shoalv1.Pod)
				s["spec.node_name"] = p.GetSpec().GetNodeName()
				s["status.phase"] = enumWord(p.GetStatus().GetPhase())
			},
			prepareCreate: func(o kinds.Object, now time.Time) {
				p := o.(*shoalv1.Pod)
				p.Status = &shoalv1.PodStatus{Phase: shoalv1.PodPhase_POD_PHASE_PENDING}
				if p.GetSpec().GetNodeName() != "" {
					p.Status.Conditions = []*shoalv1.Condition{scheduledCondition(now)}
				}
			},
			prepareUpdate: func(old, o kinds.Object) {
				p, prev := o.(*shoalv1.Pod), old.(*shoalv1.Pod)
				if p.Spec != nil && p.Spec.NodeName == "" {
					p.Spec.NodeName = prev.GetSpec().GetNodeName()
				}
			},
			deletionGrace: func(o kinds.Object, requested *int64) int64 {
				p := o.(*shoalv1.Pod)
				switch {
				case p.GetSpec().GetNodeName() == "":
					return 0 // never ran: nothing to stop
				case p.GetStatus().GetPhase() == shoalv1.PodPhase_POD_PHASE_SUCCEEDED,
					p.GetStatus().GetPhase() == shoalv1.PodPhase_POD_PHASE_FAILED:
					return 0
				case requested != nil:
					return max(*requested, 0)
				case p.GetSpec().TerminationGracePeriodSeconds != nil:
					return max(p.GetSpec().GetTerminationGracePeriodSeconds(), 0)
				}
				return 30
			},
			holdDeletion: func(o kinds.Object) bool {
				m := o.GetMetadata()
				return m.DeletionGracePeriodSeconds != nil && m.GetDeletionGracePeriodSeconds() > 0
			},
		},
		"Service": {
			prepareUpdate: func(old, o kinds.Object) {
				s, prev := o.(*shoalv1.Service), old.(*shoalv1.Service)
				if s.Spec != nil && s.Spec.ClusterIp == "" {
					s.Spec.ClusterIp = prev.GetSpec().GetClusterIp()
				}
			},
		},
		"ReplicaSet": {
			prepareCreate: func(o kinds.Object, _ time.Time) { o.(*shoalv1.ReplicaSet).Status = nil },
		},
		"Deployment": {
			prepareCreate: func(o kinds.Object, _ time.Time) { o.(*shoalv1.Deployment).Status = nil },
		},
	}
}

func scheduledCondition(now time.Time) *shoalv1.Condition {
	return &shoalv1.Condition{Type: "PodScheduled", Status: shoalv1.ConditionStatus_CONDITION_STATUS_TRUE, LastTransitionTime: timestamppb.New(now)}
}

func addFinalizer(m *shoalv1.ObjectMeta, f string) {
	for _, have := range m.GetFinalizers() {
		if have == f {
			return
		}
	}
	m.Finalizers = append(m.Finalizers, f)
}

// enumWord renders POD_PHASE_RUNNING as "Running", the Kubernetes spelling
// field selectors use.
func enumWord(e interface {
	Descriptor() protoreflect.EnumDescriptor
	Number() protoreflect.EnumNumber
}) string {
	v := e.Descriptor().Values().ByNumber(e.Number())
	if v == nil {
		return ""
	}
	name := string(v.Name())
	prefix := strings.ToUpper(camelToSnake(string(e.Descriptor().Name()))) + "_"
	word := strings.TrimPrefix(name, prefix)
	if word == "UNSPECIFIED" {
		return ""
	}
	parts := strings.Split(strings.ToLower(word), "_")
	for i, p := range parts {
		if p != "" {
			parts[i] = strings.ToUpper(p[:1]) + p[1:]
		}
	}
	return strings.Join(parts, "")
}

func camelToSnake(s string) string {
	var b strings.Builder
	for i, r := range s {
		if i > 0 && r >= 'A' && r <= 'Z' {
			b.WriteByte('_')
		}
		b.WriteRune(r)
	}
	return b.String()
}
