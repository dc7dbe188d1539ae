package plugins

import (
	"github.com/shoalmesh/shoal/services/scheduler/framework"
)

// Plugin names.
const (
	NodeReadyName            = "NodeReady"
	NodeUnschedulableName    = "NodeUnschedulable"
	TaintTolerationName      = "TaintToleration"
	NodeAffinityName         = "NodeAffinity"
	NodeResourcesFitName     = "NodeResourcesFit"
	NodePortsName            = "NodePorts"
	InterPodAntiAffinityName = "InterPodAntiAffinity"
	LeastAllocatedName       = "NodeResourcesLeastAllocated"
	BalancedAllocationName   = "NodeResourcesBalancedAllocation"
	OwnerSpreadName          = "OwnerSpread"
)

// NewInTreeRegistry maps every in-tree plugin name to its factory. Out-of-tree
// plugins are added with Registry.Register or Merge, which reject names
// already taken.
func NewInTreeRegistry() framework.Registry {
	return framework.Registry{
		NodeReadyName:            func() (framework.Plugin, error) { return &NodeReady{}, nil },
		NodeUnschedulableName:    func() (framework.Plugin, error) { return &NodeUnschedulable{}, nil },
		TaintTolerationName:      func() (framework.Plugin, error) { return &TaintToleration{}, nil },
		NodeAffinityName:         func() (framework.Plugin, error) { return &NodeAffinity{}, nil },
		NodeResourcesFitName:     func() (framework.Plugin, error) { return &NodeResourcesFit{}, nil },
		NodePortsName:            func() (framework.Plugin, error) { return &NodePorts{}, nil },
		InterPodAntiAffinityName: func() (framework.Plugin, error) { return &InterPodAntiAffinity{}, nil },
		LeastAllocatedName:       func() (framework.Plugin, error) { return &LeastAllocated{}, nil },
		BalancedAllocationName:   func() (framework.Plugin, error) { return &BalancedAllocation{}, nil },
		OwnerSpreadName:          func() (framework.Plugin, error) { return &OwnerSpread{}, nil },
	}
}

// DefaultProfile is the scheduler's plugin set. Filters run cheapest first
// (Nomad's feasibility order): flags and small lists before sums, and the
// plugin that may walk every pod of the cluster last.
func DefaultProfile() framework.Profile {
	return framework.Profile{
		Filters: []string{
			NodeReadyName,
			NodeUnschedulableName,
			TaintTolerationName,
			NodeAffinityName,
			NodeResourcesFitName,
			NodePortsName,
			InterPodAntiAffinityName,
		},
		Scores: []framework.WeightedPlugin{
			{Name: LeastAllocatedName, Weight: 1},
			{Name: BalancedAllocationName, Weight: 1},
			// Spreading replicas and honouring preferences outweigh packing,
			// as in kube-scheduler's defaults.
			{Name: OwnerSpreadName, Weight: 2},
			{Name: NodeAffinityName, Weight: 2},
			{Name: TaintTolerationName, Weight: 1},
		},
	}
}
