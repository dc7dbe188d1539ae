package framework

import (
	"errors"
	"fmt"
	"hash/maphash"
	"time"
	"unique"

	"k8s.io/apimachinery/pkg/labels"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/sdk/go/selector"
)

// Resource is an amount of the resources the scheduler accounts for.
type Resource struct {
	MilliCPU int64
	Memory   int64
	Pods     int64
}

// Add adds r2 to r.
func (r *Resource) Add(r2 Resource) {
	r.MilliCPU += r2.MilliCPU
	r.Memory += r2.Memory
	r.Pods += r2.Pods
}

// Sub subtracts r2 from r.
func (r *Resource) Sub(r2 Resource) {
	r.MilliCPU -= r2.MilliCPU
	r.Memory -= r2.Memory
	r.Pods -= r2.Pods
}

// HostPort is a port a pod takes on its node.
type HostPort struct {
	// Protocol is "TCP" or "UDP".
	Protocol string
	// IP is the host IP the port is bound to; "0.0.0.0" means every IP.
	IP   string
	Port int32
}

// wildcardIP binds every address of the node.
const wildcardIP = "0.0.0.0"

// Conflicts reports whether two host ports cannot share a node: same port
// and protocol, and the same IP or either one on every IP.
func (p HostPort) Conflicts(o HostPort) bool {
	return p.Port == o.Port && p.Protocol == o.Protocol &&
		(p.IP == o.IP || p.IP == wildcardIP || o.IP == wildcardIP)
}

// String is "8080/TCP" or "10.0.0.1:8080/TCP".
func (p HostPort) String() string {
	if p.IP == wildcardIP {
		return fmt.Sprintf("%d/%s", p.Port, p.Protocol)
	}
	return fmt.Sprintf("%s:%d/%s", p.IP, p.Port, p.Protocol)
}

// AffinityTerm is a compiled PodAffinityTerm: pods in Namespaces whose
// labels match Selector, in the same TopologyKey domain as the node.
type AffinityTerm struct {
	Selector    labels.Selector
	Namespaces  map[string]struct{}
	TopologyKey string
}

// Matches reports whether pod is one of the pods the term selects.
func (t *AffinityTerm) Matches(pod *PodInfo) bool {
	if _, ok := t.Namespaces[pod.Namespace]; !ok {
		return false
	}
	return t.Selector.Matches(labels.Set(pod.Labels))
}

// PreferredTerm is a compiled PreferredSchedulingTerm.
type PreferredTerm struct {
	Weight int64
	Term   NodeSelectorTerm
}

// PodInfo is a pod plus everything plugins need from it, computed once
// when the pod enters the scheduler rather than once per node.
type PodInfo struct {
	// Pod is the informer's object: never modify it.
	Pod       *shoalv1.Pod
	Key       string // namespace/name
	UID       string
	Namespace string
	Labels    map[string]string
	// Requests sums the containers' requests; Pods is 1.
	Requests Resource
	// NonZeroRequests is Requests with a zero CPU or memory request
	// replaced by DefaultMilliCPURequest or DefaultMemoryRequest, so that
	// scores do not pile request-less pods onto one node (kube-scheduler's
	// non-zero requests).
	NonZeroRequests Resource
	HostPorts       []HostPort
	// OwnerUID is the uid of the controller owner ("" without one), and
	// Owner the same uid interned: NodeInfo.OwnerCount compares handles,
	// which is a pointer comparison in the hottest loop of scoring.
	OwnerUID string
	Owner    unique.Handle[string]
	// OwnerBit is one bit chosen by hashing OwnerUID (0 without an owner):
	// NodeInfos keep the OR of their owners' bits to skip most lookups.
	OwnerBit uint64
	// Priority orders the queue: higher first.
	Priority int32
	// Created is the pod's creation time (zero if unknown).
	Created time.Time

	Tolerations  []*shoalv1.Toleration
	NodeSelector map[string]string
	// RequiredNodeAffinity is nil when the pod has none.
	RequiredNodeAffinity  *NodeSelector
	PreferredNodeAffinity []PreferredTerm
	RequiredAntiAffinity  []AffinityTerm

	// ParseErr is set when the pod's affinity could not be compiled (the
	// gateway validates it, so only a bug or an old object gets here); the
	// pod is then unschedulable and unresolvable.
	ParseErr error
}

// Requests assumed by scores for pods that request nothing.
const (
	DefaultMilliCPURequest int64 = 100
	DefaultMemoryRequest   int64 = 200 << 20
)

// Hostname label of nodes, also the topology key of per-node anti-affinity.
const LabelHostname = "kubernetes.io/hostname"

// NewPodInfo computes the PodInfo of pod. It never fails: a problem with
// the pod's affinity is kept in ParseErr.
func NewPodInfo(pod *shoalv1.Pod) *PodInfo {
	m := pod.GetMetadata()
	spec := pod.GetSpec()
	pi := &PodInfo{
		Pod:          pod,
		Key:          m.GetNamespace() + "/" + m.GetName(),
		UID:          m.GetUid(),
		Namespace:    m.GetNamespace(),
		Labels:       m.GetLabels(),
		Priority:     spec.GetPriority(),
		Tolerations:  spec.GetTolerations(),
		NodeSelector: spec.GetNodeSelector(),
		Requests:     Resource{Pods: 1},
	}
	if ts := m.GetCreationTimestamp(); ts != nil {
		pi.Created = ts.AsTime()
	}
	for _, c := range spec.GetContainers() {
		req := c.GetResources().GetRequests()
		pi.Requests.MilliCPU += req.GetCpuMillis()
		pi.Requests.Memory += req.GetMemoryBytes()
		for _, p := range c.GetPorts() {
			if p.GetHostPort() <= 0 {
				continue
			}
			hp := HostPort{Protocol: "TCP", IP: p.GetHostIp(), Port: p.GetHostPort()}
			if p.GetProtocol() == shoalv1.Protocol_PROTOCOL_UDP {
				hp.Protocol = "UDP"
			}
			if hp.IP == "" {
				hp.IP = wildcardIP
			}
			pi.HostPorts = append(pi.HostPorts, hp)
		}
	}
	pi.NonZeroRequests = pi.Requests
	if pi.NonZeroRequests.MilliCPU == 0 {
		pi.NonZeroRequests.MilliCPU = DefaultMilliCPURequest
	}
	if pi.NonZeroRequests.Memory == 0 {
		pi.NonZeroRequests.Memory = DefaultMemoryRequest
	}
	for _, ref := range m.GetOwnerReferences() {
		if ref.GetController() {
			pi.OwnerUID = ref.GetUid()
			if pi.OwnerUID == "" { // tests and hand-made objects
				pi.OwnerUID = ref.GetKind() + "/" + ref.GetName()
			}
			pi.Owner = unique.Make(pi.OwnerUID)
			pi.OwnerBit = ownerBit(pi.OwnerUID)
			break
		}
	}
	var errs []error
	if na := spec.GetAffinity().GetNodeAffinity(); na != nil {
		if req := na.GetRequiredDuringSchedulingIgnoredDuringExecution(); req != nil {
			ns, err := CompileNodeSelector(req)
			if err != nil {
				errs = append(errs, fmt.Errorf("required node affinity: %w", err))
			}
			pi.RequiredNodeAffinity = ns
		}
		for i, p := range na.GetPreferredDuringSchedulingIgnoredDuringExecution() {
			t, err := compileTerm(p.GetPreference())
			if err != nil {
				errs = append(errs, fmt.Errorf("preferred node affinity [%d]: %w", i, err))
				continue
			}
			pi.PreferredNodeAffinity = append(pi.PreferredNodeAffinity, PreferredTerm{Weight: int64(p.GetWeight()), Term: t})
		}
	}
	for i, t := range spec.GetAffinity().GetPodAntiAffinity().GetRequiredDuringSchedulingIgnoredDuringExecution() {
		at, err := compileAffinityTerm(t, pi.Namespace)
		if err != nil {
			errs = append(errs, fmt.Errorf("required pod anti-affinity [%d]: %w", i, err))
			continue
		}
		pi.RequiredAntiAffinity = append(pi.RequiredAntiAffinity, at)
	}
	pi.ParseErr = errors.Join(errs...)
	return pi
}

var ownerSeed = maphash.MakeSeed()

// ownerBit maps an owner uid to one of 64 bits.
func ownerBit(uid string) uint64 {
	return 1 << (maphash.String(ownerSeed, uid) % 64)
}

func compileAffinityTerm(t *shoalv1.PodAffinityTerm, podNamespace string) (AffinityTerm, error) {
	if t.GetTopologyKey() == "" {
		return AffinityTerm{}, errors.New("topology_key is required")
	}
	at := AffinityTerm{TopologyKey: t.GetTopologyKey(), Namespaces: map[string]struct{}{}}
	if t.GetLabelSelector() == nil {
		// As in Kubernetes: a term without a selector selects no pods.
		at.Selector = labels.Nothing()
	} else {
		sel, err := selector.FromLabelSelector(t.GetLabelSelector())
		if err != nil {
			return AffinityTerm{}, err
		}
		at.Selector = sel
	}
	for _, ns := range t.GetNamespaces() {
		at.Namespaces[ns] = struct{}{}
	}
	if len(at.Namespaces) == 0 {
		at.Namespaces[podNamespace] = struct{}{}
	}
	return at, nil
}
