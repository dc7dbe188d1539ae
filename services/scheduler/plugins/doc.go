// Package plugins holds the scheduler's in-tree plugins, one file each,
// and the explicit registry and default profile that wire them.
//
// Filters, in the order the default profile runs them (cheapest first; the
// first plugin that rejects a node names the reason):
//
//	NodeReady             node's Ready condition is True
//	NodeUnschedulable     node is not cordoned (spec.unschedulable)
//	TaintToleration       NoSchedule and NoExecute taints are tolerated
//	NodeAffinity          node_selector and required node affinity match
//	NodeResourcesFit      cpu, memory and pod count fit in allocatable
//	NodePorts             no host port conflict
//	InterPodAntiAffinity  required pod anti-affinity, both directions
//
// Scores (weight): NodeResourcesLeastAllocated (1),
// NodeResourcesBalancedAllocation (1), OwnerSpread (2), NodeAffinity
// preferred terms (2), TaintToleration PreferNoSchedule taints (1).
package plugins
