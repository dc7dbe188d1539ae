package pods

import (
	"fmt"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
)

func tsOf(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

// buildStatus derives the pod's status from what runs, keeping the
// transition times of conditions that did not change, so that an unchanged
// pod yields an identical status and no write.
func (m *Manager) buildStatus(pod *shoalv1.Pod, st *podState) *shoalv1.PodStatus {
	st.mu.Lock()
	defer st.mu.Unlock()
	old := pod.GetStatus()
	s := &shoalv1.PodStatus{HostIp: m.cfg.NodeIP, PodIp: st.ip, StartTime: tsOf(st.startTime)}
	if old.GetStartTime() != nil && st.startTime.IsZero() {
		s.StartTime = old.GetStartTime()
	}
	policy := pod.GetSpec().GetRestartPolicy()
	var running, waiting, restarting, succeeded, failed int
	allReady := st.up
	specCtrs := m.containersOf(pod)
	for _, c := range specCtrs {
		cs := st.containers[c.GetName()]
		out := &shoalv1.ContainerStatus{Name: c.GetName(), Image: c.GetImage()}
		switch {
		case cs == nil:
			reason := "ContainerCreating"
			msg := st.sandboxErr
			out.State = waitingState(reason, msg)
			waiting++
			allReady = false
		case cs.running():
			out.RestartCount, out.ContainerId, out.Started = int32(cs.attempt), "containerd://"+cs.id, true
			out.State = &shoalv1.ContainerState{State: &shoalv1.ContainerState_Running{Running: &shoalv1.ContainerStateRunning{StartedAt: tsOf(cs.startedAt)}}}
			out.Ready = !cs.hasReadiness || cs.ready
			if cs.lastTerm != nil {
				out.LastTerminationState = &shoalv1.ContainerState{State: &shoalv1.ContainerState_Terminated{Terminated: cs.lastTerm}}
			}
			running++
			allReady = allReady && out.Ready
		case cs.exited:
			out.RestartCount, out.ContainerId = int32(cs.attempt), "containerd://"+cs.id
			term := terminated(cs)
			allReady = false
			if shouldRestart(policy, cs) || cs.specChanged {
				msg := fmt.Sprintf("back-off %s restarting failed container %s", cs.backoffShown(), c.GetName())
				out.State = waitingState("CrashLoopBackOff", msg)
				switch {
				case cs.waitReason != "":
					// The restart itself failed (image, config): say why.
					out.State = waitingState(cs.waitReason, cs.waitMsg)
				case cs.specChanged || (cs.exit.Code == 0 && !cs.livenessFailed):
					out.State = waitingState("ContainerRestarting", "restarting container "+c.GetName())
				}
				out.LastTerminationState = &shoalv1.ContainerState{State: &shoalv1.ContainerState_Terminated{Terminated: term}}
				restarting++
			} else {
				out.State = &shoalv1.ContainerState{State: &shoalv1.ContainerState_Terminated{Terminated: term}}
				if cs.exit.Code == 0 && !cs.livenessFailed {
					succeeded++
				} else {
					failed++
				}
			}
		default:
			out.RestartCount = int32(cs.attempt)
			reason := cs.waitReason
			if reason == "" {
				reason = "ContainerCreating"
			}
			out.State = waitingState(reason, cs.waitMsg)
			if cs.lastTerm != nil {
				out.LastTerminationState = &shoalv1.ContainerState{State: &shoalv1.ContainerState_Terminated{Terminated: cs.lastTerm}}
				restarting++
			} else {
				waiting++
			}
			allReady = false
		}
		s.ContainerStatuses = append(s.ContainerStatuses, out)
	}
	n := len(specCtrs)
	switch {
	case !st.up:
		s.Phase = shoalv1.PodPhase_POD_PHASE_PENDING
		if st.sandboxErr != "" {
			s.Reason, s.Message = "SandboxNotReady", st.sandboxErr
		}
	case n > 0 && succeeded == n:
		s.Phase = shoalv1.PodPhase_POD_PHASE_SUCCEEDED
	case n > 0 && succeeded+failed == n:
		s.Phase = shoalv1.PodPhase_POD_PHASE_FAILED
	case running > 0 || restarting > 0 || succeeded+failed > 0:
		s.Phase = shoalv1.PodPhase_POD_PHASE_RUNNING
	default:
		s.Phase = shoalv1.PodPhase_POD_PHASE_PENDING
	}
	if isTerminal(s.Phase) {
		allReady = false
	}
	if waiting > 0 && running == 0 {
		allReady = false
	}
	s.Conditions = conditions(old, st.up, allReady && n > 0)
	return s
}

func (cs *ctrState) backoffShown() time.Duration {
	if cs.nextStart.IsZero() {
		return cs.backoff
	}
	return cs.nextStart.Sub(cs.exit.ExitedAt).Round(time.Second)
}

func waitingState(reason, msg string) *shoalv1.ContainerState {
	return &shoalv1.ContainerState{State: &shoalv1.ContainerState_Waiting{Waiting: &shoalv1.ContainerStateWaiting{Reason: reason, Message: msg}}}
}

func conditions(old *shoalv1.PodStatus, initialized, ready bool) []*shoalv1.Condition {
	prev := map[string]*shoalv1.Condition{}
	var out []*shoalv1.Condition
	for _, c := range old.GetConditions() {
		prev[c.GetType()] = c
		if c.GetType() == "PodScheduled" {
			out = append(out, c)
		}
	}
	set := func(typ string, ok bool) {
		st := shoalv1.ConditionStatus_CONDITION_STATUS_FALSE
		if ok {
			st = shoalv1.ConditionStatus_CONDITION_STATUS_TRUE
		}
		c := &shoalv1.Condition{Type: typ, Status: st, LastTransitionTime: timestamppb.Now()}
		if p := prev[typ]; p != nil && p.GetStatus() == st {
			c.LastTransitionTime = p.GetLastTransitionTime()
		}
		out = append(out, c)
	}
	set("Initialized", initialized)
	set("ContainersReady", ready)
	set("Ready", ready)
	return out
}
