package pods

import (
	"errors"
	"fmt"
)

// ErrNoLog is returned when there is no log for the request.
var ErrNoLog = errors.New("pods: no such log")

// ErrAmbiguous is returned when a pod has several containers and none was
// named.
var ErrAmbiguous = errors.New("pods: container name required")

// LogFile finds the log of a container of a pod running here: the current
// instance, or the previous one. done reports whether the instance has
// exited (followers stop there).
func (m *Manager) LogFile(namespace, name, container string, previous bool) (path string, done func() bool, err error) {
	st := m.state(namespace + "/" + name)
	if st == nil {
		return "", nil, fmt.Errorf("%w: pod %s/%s does not run on this node", ErrNoLog, namespace, name)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if container == "" {
		if len(st.containers) != 1 {
			return "", nil, fmt.Errorf("%w: pod %s/%s has %d containers", ErrAmbiguous, namespace, name, len(st.containers))
		}
		for n := range st.containers {
			container = n
		}
	}
	cs := st.containers[container]
	if cs == nil || (cs.task == nil && cs.attempt == 0) {
		return "", nil, fmt.Errorf("%w: container %q of pod %s/%s has not started", ErrNoLog, container, namespace, name)
	}
	attempt := cs.attempt
	if previous {
		if attempt == 0 {
			return "", nil, fmt.Errorf("%w: container %q has no previous instance", ErrNoLog, container)
		}
		return m.logPath(namespace, name, st.uid, container, attempt-1), func() bool { return true }, nil
	}
	t := cs.task
	return m.logPath(namespace, name, st.uid, container, attempt), func() bool {
		st.mu.Lock()
		defer st.mu.Unlock()
		return cs.task != t || cs.exited || t == nil
	}, nil
}
