package pods

import (
	"context"
	"os"

	"github.com/containerd/containerd/v2/pkg/oci"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/services/nodeagent/podlogs"
	"github.com/shoalmesh/shoal/services/nodeagent/runtime"
)

// prepared is a container start made ready while the pod's sandbox comes
// up: image obtained, snapshot made, spec built, log file open. What needs
// the sandbox (its namespaces, the pod IP, volumes and mesh bootstrap) is
// added when the container is created after it.
type prepared struct {
	attempt int
	image   string
	done    chan struct{}
	// Set before done closes.
	prep *runtime.Prepared
	log  *podlogs.Writer
	err  error
}

// prepareFirstStarts (called when the sandbox is not up) begins, in the background, the preparation of every
// container of a pod whose sandbox is about to be made and that has never
// started, so that image, snapshot and spec work overlaps the pause
// container and CNI. startContainer takes them up; discardPrepared drops
// what the sync did not use. Mesh pods are prepared in line: their
// configuration is checked before the image is.
func (m *Manager) prepareFirstStarts(ctx context.Context, pod *shoalv1.Pod, st *podState) {
	if meshEnabled(pod) {
		return
	}
	st.mu.Lock()
	var todo []*shoalv1.Container
	for _, c := range m.containersOf(pod) {
		if st.containers[c.GetName()] == nil {
			todo = append(todo, c)
		}
	}
	st.mu.Unlock()
	if len(todo) == 0 {
		return
	}
	st.prepared = map[string]*prepared{}
	for _, c := range todo {
		p := &prepared{attempt: 0, image: c.GetImage(), done: make(chan struct{})}
		st.prepared[c.GetName()] = p
		go func() {
			defer close(p.done)
			p.prep, p.log, p.err = m.prepareContainer(ctx, pod, st, c, p.attempt)
		}()
	}
}

// takePrepared returns the preparation of the container's start at
// attempt, waiting for it to finish; nil when there is none.
func (m *Manager) takePrepared(st *podState, c *shoalv1.Container, attempt int) *prepared {
	p := st.prepared[c.GetName()]
	if p == nil || p.attempt != attempt || p.image != c.GetImage() {
		return nil
	}
	delete(st.prepared, c.GetName())
	<-p.done
	return p
}

// discardPrepared undoes the preparations the sync did not use (the
// sandbox did not come up).
func (m *Manager) discardPrepared(ctx context.Context, st *podState) {
	for name, p := range st.prepared {
		<-p.done
		if p.err == nil {
			m.rt.Discard(ctx, p.prep)
			p.log.Close()
			_ = os.Remove(m.logPath(st.namespace, st.name, st.uid, name, p.attempt))
		}
	}
	st.prepared = nil
}

// prepareContainer obtains the container's image and prepares its
// snapshot and spec, with what does not depend on the sandbox.
func (m *Manager) prepareContainer(ctx context.Context, pod *shoalv1.Pod, st *podState, c *shoalv1.Container, attempt int) (*runtime.Prepared, *podlogs.Writer, error) {
	img, err := m.ensureImage(ctx, pod, c)
	if err != nil {
		return nil, nil, err
	}
	entrypoint, cmd, err := m.rt.ImageCommand(ctx, img)
	if err != nil {
		return nil, nil, err
	}
	w, err := podlogs.Open(m.logPath(st.namespace, st.name, st.uid, c.GetName(), attempt), m.cfg.LogMaxSize,
		podlogs.Meta{Namespace: st.namespace, Pod: st.name, Container: c.GetName(), Node: m.cfg.NodeName}, m.sink)
	if err != nil {
		return nil, nil, err
	}
	opts := []oci.SpecOpts{
		oci.WithImageConfig(img),
		runtime.WithShimGroup(sandboxID(st.uid)),
		runtime.WithArgs(entrypoint, cmd, c.GetCommand(), c.GetArgs()),
		runtime.WithLimits(c.GetResources().GetLimits().GetCpuMillis(), c.GetResources().GetLimits().GetMemoryBytes()),
	}
	if c.GetWorkingDir() != "" {
		opts = append(opts, oci.WithProcessCwd(c.GetWorkingDir()))
	}
	p, err := m.rt.Prepare(ctx, containerID(st.uid, c.GetName(), attempt), img, opts...)
	if err != nil {
		w.Close()
		return nil, nil, err
	}
	return p, w, nil
}
