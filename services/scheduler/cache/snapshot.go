package cache

import "github.com/shoalmesh/shoal/services/scheduler/framework"

// Snapshot is the cache as one scheduling cycle sees it: a fixed list of
// immutable NodeInfos. The scheduling loop owns one Snapshot and refreshes
// it with Cache.UpdateSnapshot at the start of every cycle.
type Snapshot struct {
	nodes        []*framework.NodeInfo
	antiAffinity []*framework.NodeInfo
	generation   int64
	valid        bool
}

var _ framework.NodeLister = (*Snapshot)(nil)

// NewSnapshot returns an empty snapshot.
func NewSnapshot() *Snapshot { return &Snapshot{} }

// NewSnapshotOf returns a snapshot of the given NodeInfos (for tests and
// tools that build nodes by hand).
func NewSnapshotOf(nodes ...*framework.NodeInfo) *Snapshot {
	s := &Snapshot{nodes: nodes, valid: true}
	for _, n := range nodes {
		if len(n.PodsWithRequiredAntiAffinity) > 0 {
			s.antiAffinity = append(s.antiAffinity, n)
		}
	}
	return s
}

// List returns every node that has a Node object; do not modify it.
func (s *Snapshot) List() []*framework.NodeInfo { return s.nodes }

// HavePodsWithRequiredAntiAffinity returns the nodes that run pods with
// required pod anti-affinity terms.
func (s *Snapshot) HavePodsWithRequiredAntiAffinity() []*framework.NodeInfo {
	return s.antiAffinity
}

// Len is the number of nodes.
func (s *Snapshot) Len() int { return len(s.nodes) }
