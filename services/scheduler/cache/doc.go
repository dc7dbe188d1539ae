// Package cache is the scheduler's cache of node usage: for every node,
// the pods bound to it and the pods assumed onto it while their binds are
// in flight, with the per-node aggregates (requested resources, host ports,
// owners, anti-affinity pods) that plugins read.
//
// Counting assumed pods is what keeps two pods off one node's last slot:
// the next cycle sees the slot taken the moment the first pod is assumed,
// not when its bind comes back through the informer.
//
// NodeInfos are copy-on-write: every change publishes a new NodeInfo and
// bumps a generation, so a Snapshot is a cheap copy of pointers that a
// cycle reads without locks while the cache moves on.
//
//	c := cache.New()
//	c.AddNode(node)                       // informer handlers
//	snap := cache.NewSnapshot()
//	c.UpdateSnapshot(snap)                // start of each cycle
//	_ = c.AssumePod(podInfo, "node-a")    // after choosing a node
//	c.FinishBinding(podInfo.UID)          // bind returned OK
//	_ = c.ForgetPod(podInfo.UID)          // or: bind failed
package cache
