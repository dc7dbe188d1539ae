package quota

import (
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
)

func TestMeasureAndStatus(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	mk := func(name string, phase shoalv1.PodPhase, deletion *time.Time, cpu, mem int64) *shoalv1.Pod {
		p := &shoalv1.Pod{
			Metadata: &shoalv1.ObjectMeta{Name: name},
			Spec: &shoalv1.PodSpec{Containers: []*shoalv1.Container{
				{Name: "a", Resources: &shoalv1.ResourceRequirements{Requests: &shoalv1.ResourceList{CpuMillis: cpu, MemoryBytes: mem}}},
				{Name: "b", Resources: &shoalv1.ResourceRequirements{Requests: &shoalv1.ResourceList{CpuMillis: cpu}}},
			}},
			Status: &shoalv1.PodStatus{Phase: phase},
		}
		if deletion != nil {
			p.Metadata.DeletionTimestamp = timestamppb.New(*deletion)
		}
		return p
	}
	later, earlier := now.Add(10*time.Second), now.Add(-time.Second)
	pods := []*shoalv1.Pod{
		mk("running", shoalv1.PodPhase_POD_PHASE_RUNNING, nil, 100, 1<<20),
		mk("pending", shoalv1.PodPhase_POD_PHASE_PENDING, nil, 50, 0),
		mk("done", shoalv1.PodPhase_POD_PHASE_SUCCEEDED, nil, 1000, 1<<30),
		mk("terminating", shoalv1.PodPhase_POD_PHASE_RUNNING, &later, 10, 0),
		mk("past-grace", shoalv1.PodPhase_POD_PHASE_RUNNING, &earlier, 1000, 0),
	}
	u := Measure(pods, []*shoalv1.Service{{}, {}}, now)
	if u.Pods != 3 || u.CPUMillis != 2*(100+50+10) || u.MemoryBytes != 1<<20 || u.Services != 2 || !u.NextChange.Equal(later) {
		t.Fatalf("usage %+v", u)
	}
	q := &shoalv1.ResourceQuota{Spec: &shoalv1.ResourceQuotaSpec{Hard: &shoalv1.QuotaResources{Pods: proto.Int64(10), Services: proto.Int64(1)}}}
	st := Status(q, u)
	want := &shoalv1.ResourceQuotaStatus{
		Hard: &shoalv1.QuotaResources{Pods: proto.Int64(10), Services: proto.Int64(1)},
		Used: &shoalv1.QuotaResources{Pods: proto.Int64(3), Services: proto.Int64(2)},
	}
	if !proto.Equal(st, want) {
		t.Fatalf("status %v, want %v", st, want)
	}
	if st := Status(&shoalv1.ResourceQuota{}, u); st.GetHard() != nil || st.GetUsed().Pods != nil {
		t.Fatalf("a quota without caps reports nothing used: %v", st)
	}
}
