package pods

import (
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/services/nodeagent/runtime"
)

func TestBuildStatusPhases(t *testing.T) {
	t0 := time.Unix(1000, 0)
	running := func() *ctrState { return &ctrState{task: &runtime.Task{}, startedAt: t0, id: "c"} }
	exited := func(code int) *ctrState {
		return &ctrState{task: &runtime.Task{}, exited: true, exit: runtime.Exit{Code: code, ExitedAt: t0.Add(time.Second)}, startedAt: t0, backoff: time.Second}
	}
	tests := []struct {
		name      string
		policy    shoalv1.RestartPolicy
		sandbox   bool
		ctrs      map[string]*ctrState
		wantPhase shoalv1.PodPhase
		wantReady bool
		wantState string
	}{
		{"no sandbox yet", 0, false, nil, shoalv1.PodPhase_POD_PHASE_PENDING, false, "waiting:ContainerCreating"},
		{"running", 0, true, map[string]*ctrState{"a": running()}, shoalv1.PodPhase_POD_PHASE_RUNNING, true, "running"},
		{"readiness not passed", 0, true, map[string]*ctrState{"a": {task: &runtime.Task{}, hasReadiness: true}}, shoalv1.PodPhase_POD_PHASE_RUNNING, false, "running"},
		{"crashed, Always", shoalv1.RestartPolicy_RESTART_POLICY_ALWAYS, true, map[string]*ctrState{"a": exited(3)}, shoalv1.PodPhase_POD_PHASE_RUNNING, false, "waiting:CrashLoopBackOff"},
		{"crashed, Never", shoalv1.RestartPolicy_RESTART_POLICY_NEVER, true, map[string]*ctrState{"a": exited(3)}, shoalv1.PodPhase_POD_PHASE_FAILED, false, "terminated:Error"},
		{"done, OnFailure", shoalv1.RestartPolicy_RESTART_POLICY_ON_FAILURE, true, map[string]*ctrState{"a": exited(0)}, shoalv1.PodPhase_POD_PHASE_SUCCEEDED, false, "terminated:Completed"},
		{"image missing", 0, true, map[string]*ctrState{"a": {waitReason: "ErrImagePull", waitMsg: "no"}}, shoalv1.PodPhase_POD_PHASE_PENDING, false, "waiting:ErrImagePull"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := &Manager{cfg: Config{NodeIP: "10.0.0.1"}}
			st := &podState{containers: tc.ctrs, ip: "10.88.0.2"}
			if st.containers == nil {
				st.containers = map[string]*ctrState{}
			}
			if tc.sandbox {
				st.up, st.sandbox = true, &runtime.Task{}
			}
			p := &shoalv1.Pod{Spec: &shoalv1.PodSpec{RestartPolicy: tc.policy, Containers: []*shoalv1.Container{{Name: "a", Image: "i"}}}}
			s := m.buildStatus(p, st)
			if s.GetPhase() != tc.wantPhase {
				t.Errorf("phase = %v, want %v", s.GetPhase(), tc.wantPhase)
			}
			ready := false
			for _, c := range s.GetConditions() {
				if c.GetType() == "Ready" {
					ready = c.GetStatus() == shoalv1.ConditionStatus_CONDITION_STATUS_TRUE
				}
			}
			if ready != tc.wantReady {
				t.Errorf("ready = %v, want %v", ready, tc.wantReady)
			}
			cs := s.GetContainerStatuses()[0].GetState()
			got := "running"
			if w := cs.GetWaiting(); w != nil {
				got = "waiting:" + w.GetReason()
			} else if tm := cs.GetTerminated(); tm != nil {
				got = "terminated:" + tm.GetReason()
			}
			if got != tc.wantState {
				t.Errorf("state = %s, want %s", got, tc.wantState)
			}
			// Same inputs, with the old status fed back: identical, so no write.
			p.Status = s
			if again := m.buildStatus(p, st); !proto.Equal(again, s) {
				t.Errorf("status is not stable:\n%v\n%v", s, again)
			}
		})
	}
}
