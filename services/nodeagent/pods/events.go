package pods

import (
	"fmt"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/sdk/go/kinds"
)

// EventRecorder records Events about the pods the agent acts on
// (sdk/go/record.Recorder is one). Recording never blocks.
type EventRecorder interface {
	Event(obj kinds.Object, typ shoalv1.EventType, reason, message string)
}

// Event reasons, as the kubelet names them, so that tools reading
// Kubernetes events read ours.
const (
	reasonPulling           = "Pulling"
	reasonPulled            = "Pulled"
	reasonFailed            = "Failed"
	reasonBackOff           = "BackOff"
	reasonErrImageNeverPull = "ErrImageNeverPull"
	reasonCreated           = "Created"
	reasonStarted           = "Started"
	reasonKilling           = "Killing"
	reasonUnhealthy         = "Unhealthy"
	reasonSandboxChanged    = "SandboxChanged"
)

func (m *Manager) normal(pod *shoalv1.Pod, reason, format string, args ...any) {
	m.event(pod, shoalv1.EventType_EVENT_TYPE_NORMAL, reason, format, args...)
}

func (m *Manager) warning(pod *shoalv1.Pod, reason, format string, args ...any) {
	m.event(pod, shoalv1.EventType_EVENT_TYPE_WARNING, reason, format, args...)
}

func (m *Manager) event(pod *shoalv1.Pod, typ shoalv1.EventType, reason, format string, args ...any) {
	if m.cfg.Recorder == nil || pod == nil {
		return
	}
	m.cfg.Recorder.Event(pod, typ, reason, fmt.Sprintf(format, args...))
}
