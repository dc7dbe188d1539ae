package validation

import (
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
)

// count is one named integer of a status that must not be negative.
type count struct {
	name  string
	value int64
}

func nonNegative(p *field.Path, counts ...count) field.ErrorList {
	var errs field.ErrorList
	for _, c := range counts {
		if c.value < 0 {
			errs = append(errs, field.Invalid(p.Child(c.name), c.value, mustBeNonNegative))
		}
	}
	return errs
}

// validateConditions requires a type, unique per object, and a defined
// status.
func validateConditions(conds []*shoalv1.Condition, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	seen := map[string]bool{}
	for i, c := range conds {
		cp := p.Index(i)
		switch t := c.GetType(); {
		case t == "":
			errs = append(errs, field.Required(cp.Child("type"), ""))
		case seen[t]:
			errs = append(errs, field.Duplicate(cp.Child("type"), t))
		default:
			seen[t] = true
		}
		if c.GetStatus() == shoalv1.ConditionStatus_CONDITION_STATUS_UNSPECIFIED {
			errs = append(errs, field.Required(cp.Child("status"), ""))
		}
	}
	return errs
}

func optionalIP(ip string, p *field.Path) field.ErrorList {
	if ip == "" {
		return nil
	}
	return validation.IsValidIP(p, ip)
}

func validatePodStatus(s *shoalv1.PodStatus, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	errs = append(errs, validateConditions(s.GetConditions(), p.Child("conditions"))...)
	errs = append(errs, optionalIP(s.GetPodIp(), p.Child("pod_ip"))...)
	errs = append(errs, optionalIP(s.GetHostIp(), p.Child("host_ip"))...)
	names := map[string]bool{}
	for i, cs := range s.GetContainerStatuses() {
		cp := p.Child("container_statuses").Index(i)
		switch name := cs.GetName(); {
		case name == "":
			errs = append(errs, field.Required(cp.Child("name"), ""))
		case names[name]:
			errs = append(errs, field.Duplicate(cp.Child("name"), name))
		default:
			names[name] = true
		}
		errs = append(errs, nonNegative(cp, count{"restart_count", int64(cs.GetRestartCount())})...)
	}
	return errs
}

func validateNodeResources(r *shoalv1.NodeResources, p *field.Path) field.ErrorList {
	return nonNegative(p,
		count{"cpu_millis", r.GetCpuMillis()},
		count{"memory_bytes", r.GetMemoryBytes()},
		count{"pods", r.GetPods()},
	)
}

func validateNodeStatus(s *shoalv1.NodeStatus, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	errs = append(errs, validateNodeResources(s.GetCapacity(), p.Child("capacity"))...)
	errs = append(errs, validateNodeResources(s.GetAllocatable(), p.Child("allocatable"))...)
	errs = append(errs, validateConditions(s.GetConditions(), p.Child("conditions"))...)
	for i, a := range s.GetAddresses() {
		ap := p.Child("addresses").Index(i)
		if a.GetType() == shoalv1.NodeAddressType_NODE_ADDRESS_TYPE_UNSPECIFIED {
			errs = append(errs, field.Required(ap.Child("type"), ""))
		}
		switch {
		case a.GetAddress() == "":
			errs = append(errs, field.Required(ap.Child("address"), ""))
		case a.GetType() == shoalv1.NodeAddressType_NODE_ADDRESS_TYPE_INTERNAL_IP,
			a.GetType() == shoalv1.NodeAddressType_NODE_ADDRESS_TYPE_EXTERNAL_IP:
			errs = append(errs, validation.IsValidIP(ap.Child("address"), a.GetAddress())...)
		}
	}
	return errs
}

func validateReplicaSetStatus(s *shoalv1.ReplicaSetStatus, p *field.Path) field.ErrorList {
	errs := nonNegative(p,
		count{"replicas", int64(s.GetReplicas())},
		count{"ready_replicas", int64(s.GetReadyReplicas())},
		count{"available_replicas", int64(s.GetAvailableReplicas())},
		count{"fully_labeled_replicas", int64(s.GetFullyLabeledReplicas())},
		count{"observed_generation", s.GetObservedGeneration()},
	)
	return append(errs, validateConditions(s.GetConditions(), p.Child("conditions"))...)
}

func validateDeploymentStatus(s *shoalv1.DeploymentStatus, p *field.Path) field.ErrorList {
	errs := nonNegative(p,
		count{"observed_generation", s.GetObservedGeneration()},
		count{"replicas", int64(s.GetReplicas())},
		count{"updated_replicas", int64(s.GetUpdatedReplicas())},
		count{"ready_replicas", int64(s.GetReadyReplicas())},
		count{"available_replicas", int64(s.GetAvailableReplicas())},
		count{"unavailable_replicas", int64(s.GetUnavailableReplicas())},
		count{"collision_count", int64(s.GetCollisionCount())},
	)
	return append(errs, validateConditions(s.GetConditions(), p.Child("conditions"))...)
}

func validateResourceQuotaStatus(s *shoalv1.ResourceQuotaStatus, p *field.Path) field.ErrorList {
	errs := validateQuotaResources(s.GetHard(), p.Child("hard"))
	return append(errs, validateQuotaResources(s.GetUsed(), p.Child("used"))...)
}
