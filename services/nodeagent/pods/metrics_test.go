package pods

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
)

func TestStartupMetric(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewMetrics(reg); err != nil {
		t.Fatalf("a second agent in one process must reuse the series: %v", err)
	}
	m.observeStartup(time.Now().Add(-1500 * time.Millisecond))
	m.observeStartup(time.Time{}) // no creation time: not observed
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	if len(mfs) != 1 || mfs[0].GetName() != "shoal_nodeagent_pod_startup_duration_seconds" {
		t.Fatalf("families %v", mfs)
	}
	h := mfs[0].GetMetric()[0].GetHistogram()
	if h.GetSampleCount() != 1 || h.GetSampleSum() < 1.5 || h.GetSampleSum() > 10 {
		t.Fatalf("count %d sum %f, want one sample of about 1.5 s", h.GetSampleCount(), h.GetSampleSum())
	}
	var nilMetrics *Metrics
	nilMetrics.observeStartup(time.Now()) // must not panic
}

func TestIsReady(t *testing.T) {
	cond := func(typ string, st shoalv1.ConditionStatus) *shoalv1.PodStatus {
		return &shoalv1.PodStatus{Conditions: []*shoalv1.Condition{{Type: typ, Status: st}}}
	}
	cases := []struct {
		name string
		s    *shoalv1.PodStatus
		want bool
	}{
		{"nil", nil, false},
		{"ready", cond("Ready", shoalv1.ConditionStatus_CONDITION_STATUS_TRUE), true},
		{"not ready", cond("Ready", shoalv1.ConditionStatus_CONDITION_STATUS_FALSE), false},
		{"only containers ready", cond("ContainersReady", shoalv1.ConditionStatus_CONDITION_STATUS_TRUE), false},
	}
	for _, tc := range cases {
		if got := isReady(tc.s); got != tc.want {
			t.Errorf("%s: %v", tc.name, got)
		}
	}
}
