package cache

import (
	"errors"
	"fmt"
	"maps"
	"sync"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/services/scheduler/framework"
)

// Errors of the pod state machine.
var (
	ErrAlreadyKnown = errors.New("cache: pod already assumed or bound")
	ErrNotAssumed   = errors.New("cache: pod is not assumed")
)

// Cache is the scheduler's view of node usage: every node with the pods
// bound to it, plus the pods assumed onto a node whose bind is still in
// flight. It is safe for concurrent use.
//
// A pod moves through it like this:
//
//	AssumePod  -> assumed (counted on its node at once)
//	AddPod     -> bound   (the informer saw the bind: the assumption is confirmed)
//	ForgetPod  -> gone    (the bind failed: only an assumed pod can be forgotten)
//	RemovePod  -> gone    (the pod was deleted or finished)
//
// Assumed pods never expire on a timer: a bind either fails (ForgetPod) or
// lands in etcd, which the informer reports (AddPod), and a pod deleted
// meanwhile is reported too (RemovePod).
type Cache struct {
	mu    sync.Mutex
	nodes map[string]*nodeItem
	// list holds the NodeInfo of every node that has a Node object, in no
	// particular order; snapshots copy it.
	list       []*framework.NodeInfo
	pods       map[string]*podState // by uid
	generation int64
	// anti names the listed nodes that run pods with required
	// anti-affinity (usually none).
	anti map[string]struct{}
	// Incremental snapshots: the list positions changed since lastSnap was
	// updated, or full when the list itself changed (or too much did).
	lastSnap *Snapshot
	dirty    []int
	full     bool
}

type nodeItem struct {
	info *framework.NodeInfo
	idx  int // position in list; -1 while the node has no Node object
}

type podState struct {
	pod      *framework.PodInfo
	node     string
	assumed  bool
	bindDone bool // the bind call returned (success), the informer has not confirmed yet
}

// New returns an empty cache.
func New() *Cache {
	return &Cache{nodes: map[string]*nodeItem{}, pods: map[string]*podState{}, anti: map[string]struct{}{}}
}

// publish stores info as the node's current NodeInfo.
func (c *Cache) publish(item *nodeItem, info *framework.NodeInfo) {
	c.generation++
	info.Generation = c.generation
	item.info = info
	if item.idx < 0 {
		delete(c.anti, info.Name)
		return
	}
	c.list[item.idx] = info
	if len(info.PodsWithRequiredAntiAffinity) > 0 {
		c.anti[info.Name] = struct{}{}
	} else {
		delete(c.anti, info.Name)
	}
	if !c.full {
		if len(c.dirty) > len(c.list)/4 {
			c.full = true
		} else {
			c.dirty = append(c.dirty, item.idx)
		}
	}
}

func (c *Cache) item(name string) *nodeItem {
	it := c.nodes[name]
	if it == nil {
		it = &nodeItem{info: framework.NewNodeInfo(name, nil), idx: -1}
		c.nodes[name] = it
	}
	return it
}

// AddNode adds or replaces a node.
func (c *Cache) AddNode(node *shoalv1.Node) {
	c.mu.Lock()
	defer c.mu.Unlock()
	it := c.item(node.GetMetadata().GetName())
	if it.idx < 0 {
		it.idx = len(c.list)
		c.list = append(c.list, nil)
		c.full = true
	}
	c.publish(it, it.info.WithNode(node))
}

// UpdateNode replaces a node's object.
func (c *Cache) UpdateNode(node *shoalv1.Node) { c.AddNode(node) }

// RemoveNode drops a node. Pods still bound to it stay counted (on a
// NodeInfo without Node that is never offered to plugins) until they go.
func (c *Cache) RemoveNode(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	it := c.nodes[name]
	if it == nil {
		return
	}
	if it.idx >= 0 {
		last := len(c.list) - 1
		moved := c.list[last]
		c.list[it.idx] = moved
		c.nodes[moved.Name].idx = it.idx
		c.list[last] = nil
		c.list = c.list[:last]
		it.idx = -1
		c.full = true
	}
	delete(c.anti, name)
	if len(it.info.Pods) == 0 {
		delete(c.nodes, name)
		c.generation++
		return
	}
	c.publish(it, it.info.WithNode(nil))
}

// AssumePod counts pod on node before its bind is confirmed, so the next
// cycles see the node's capacity taken.
func (c *Cache) AssumePod(pod *framework.PodInfo, node string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.pods[pod.UID]; ok {
		return fmt.Errorf("%w: %s", ErrAlreadyKnown, pod.Key)
	}
	it := c.item(node)
	c.publish(it, it.info.WithPod(pod))
	c.pods[pod.UID] = &podState{pod: pod, node: node, assumed: true}
	return nil
}

// FinishBinding records that the bind call of an assumed pod succeeded;
// the pod stays assumed until the informer reports it bound.
func (c *Cache) FinishBinding(uid string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ps := c.pods[uid]; ps != nil && ps.assumed {
		ps.bindDone = true
	}
}

// ForgetPod undoes AssumePod after a failed bind. It fails with
// ErrNotAssumed when the pod is not (or no longer) assumed, e.g. because
// the informer has already seen it bound.
func (c *Cache) ForgetPod(uid string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	ps := c.pods[uid]
	if ps == nil || !ps.assumed {
		return ErrNotAssumed
	}
	c.removeLocked(uid, ps)
	return nil
}

// IsAssumed reports whether the pod is assumed and not yet confirmed.
func (c *Cache) IsAssumed(uid string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	ps := c.pods[uid]
	return ps != nil && ps.assumed
}

// AddPod records a bound pod the informer reports. An assumed pod on the
// same node is confirmed; one the informer shows on another node (bound by
// another scheduler) is moved there.
func (c *Cache) AddPod(pod *shoalv1.Pod) {
	node := pod.GetSpec().GetNodeName()
	if node == "" {
		return
	}
	uid := pod.GetMetadata().GetUid()
	c.mu.Lock()
	defer c.mu.Unlock()
	if ps := c.pods[uid]; ps != nil {
		if ps.node == node {
			ps.assumed = false
			return
		}
		c.removeLocked(uid, ps)
	}
	c.addLocked(framework.NewPodInfo(pod), node)
}

// UpdatePod records a change to a bound pod. Changes that do not affect
// scheduling (status, annotations) leave the NodeInfo alone.
func (c *Cache) UpdatePod(oldPod, newPod *shoalv1.Pod) {
	node := newPod.GetSpec().GetNodeName()
	if node == "" {
		return
	}
	uid := newPod.GetMetadata().GetUid()
	c.mu.Lock()
	defer c.mu.Unlock()
	ps := c.pods[uid]
	if ps != nil && ps.node == node && !ps.assumed &&
		oldPod.GetMetadata().GetGeneration() == newPod.GetMetadata().GetGeneration() &&
		maps.Equal(oldPod.GetMetadata().GetLabels(), newPod.GetMetadata().GetLabels()) {
		return
	}
	if ps != nil && ps.assumed && ps.node == node {
		ps.assumed = false // confirmed by an update (the bind itself)
		return
	}
	if ps != nil {
		c.removeLocked(uid, ps)
	}
	c.addLocked(framework.NewPodInfo(newPod), node)
}

// RemovePod drops a pod that was deleted (or finished), bound or assumed,
// and reports whether the cache counted it on a node.
func (c *Cache) RemovePod(pod *shoalv1.Pod) bool {
	uid := pod.GetMetadata().GetUid()
	c.mu.Lock()
	defer c.mu.Unlock()
	ps := c.pods[uid]
	if ps == nil {
		return false
	}
	c.removeLocked(uid, ps)
	return true
}

func (c *Cache) addLocked(pi *framework.PodInfo, node string) {
	it := c.item(node)
	c.publish(it, it.info.WithPod(pi))
	c.pods[pi.UID] = &podState{pod: pi, node: node}
}

func (c *Cache) removeLocked(uid string, ps *podState) {
	delete(c.pods, uid)
	it := c.nodes[ps.node]
	if it == nil {
		return
	}
	info, ok := it.info.WithoutPod(uid)
	if !ok {
		return
	}
	if it.idx < 0 && len(info.Pods) == 0 {
		delete(c.nodes, ps.node)
		c.generation++
		return
	}
	c.publish(it, info)
}

// NodeInfo returns the current NodeInfo of a node, or nil.
func (c *Cache) NodeInfo(name string) *framework.NodeInfo {
	c.mu.Lock()
	defer c.mu.Unlock()
	if it := c.nodes[name]; it != nil {
		return it.info
	}
	return nil
}

// Stats counts what the cache holds.
type Stats struct {
	Nodes, Pods, AssumedPods int
}

// Stats returns the current counts.
func (c *Cache) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := Stats{Nodes: len(c.list), Pods: len(c.pods)}
	for _, ps := range c.pods {
		if ps.assumed {
			s.AssumedPods++
		}
	}
	return s
}

// UpdateSnapshot makes s reflect the cache; the NodeInfos themselves are
// shared (they are immutable). It is incremental for the snapshot it
// updated last (the scheduling loop's one): only the list positions that
// changed since are copied, usually the one node the last pod was assumed
// on. Any other snapshot gets a full copy.
func (c *Cache) UpdateSnapshot(s *Snapshot) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s.generation == c.generation && s.valid && c.lastSnap == s {
		return
	}
	if c.lastSnap != s || c.full || !s.valid || len(s.nodes) != len(c.list) {
		clear(s.nodes)
		s.nodes = append(s.nodes[:0], c.list...)
	} else {
		for _, i := range c.dirty {
			s.nodes[i] = c.list[i]
		}
	}
	c.dirty, c.full, c.lastSnap = c.dirty[:0], false, s
	s.generation = c.generation
	s.valid = true
	clear(s.antiAffinity)
	s.antiAffinity = s.antiAffinity[:0]
	for name := range c.anti {
		s.antiAffinity = append(s.antiAffinity, c.nodes[name].info)
	}
}
