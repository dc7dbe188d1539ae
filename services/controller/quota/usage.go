package quota

import (
	"time"

	"google.golang.org/protobuf/proto"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/services/controller/podstate"
)

// Usage is what a namespace uses of each quota-tracked resource.
type Usage struct {
	Pods, CPUMillis, MemoryBytes, Services int64
	// NextChange is when a terminating pod stops counting (zero: none).
	NextChange time.Time
}

// podCounts reports whether a pod uses quota at now: not finished, and not
// past the end of its deletion grace period (a terminating pod still holds
// its resources until its node stops it, as in Kubernetes).
func podCounts(p *shoalv1.Pod, now time.Time) bool {
	if podstate.IsTerminal(p) {
		return false
	}
	if dt := p.GetMetadata().GetDeletionTimestamp(); dt != nil && !dt.AsTime().After(now) {
		return false
	}
	return true
}

// Measure computes a namespace's usage from its pods and services.
func Measure(pods []*shoalv1.Pod, services []*shoalv1.Service, now time.Time) Usage {
	var u Usage
	for _, p := range pods {
		if !podCounts(p, now) {
			continue
		}
		u.Pods++
		for _, c := range p.GetSpec().GetContainers() {
			u.CPUMillis += c.GetResources().GetRequests().GetCpuMillis()
			u.MemoryBytes += c.GetResources().GetRequests().GetMemoryBytes()
		}
		if dt := p.GetMetadata().GetDeletionTimestamp(); dt != nil {
			if at := dt.AsTime(); u.NextChange.IsZero() || at.Before(u.NextChange) {
				u.NextChange = at
			}
		}
	}
	u.Services = int64(len(services))
	return u
}

// Status is a quota's status for a usage: hard copied from the spec, and
// used reported for the resources the quota caps (as Kubernetes does).
func Status(q *shoalv1.ResourceQuota, u Usage) *shoalv1.ResourceQuotaStatus {
	hard := q.GetSpec().GetHard()
	st := &shoalv1.ResourceQuotaStatus{Used: &shoalv1.QuotaResources{}}
	if hard == nil {
		return st
	}
	st.Hard = proto.Clone(hard).(*shoalv1.QuotaResources)
	if hard.Pods != nil {
		st.Used.Pods = proto.Int64(u.Pods)
	}
	if hard.CpuMillis != nil {
		st.Used.CpuMillis = proto.Int64(u.CPUMillis)
	}
	if hard.MemoryBytes != nil {
		st.Used.MemoryBytes = proto.Int64(u.MemoryBytes)
	}
	if hard.Services != nil {
		st.Used.Services = proto.Int64(u.Services)
	}
	return st
}
