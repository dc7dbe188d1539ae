package server

import (
	"context"
	"time"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/sdk/go/client"
	"github.com/shoalmesh/shoal/sdk/go/informer"
	"github.com/shoalmesh/shoal/sdk/go/kinds"
	"google.golang.org/grpc"
)

// startInformers builds the four informers and their handlers; handlers
// only mark keys dirty.
func (s *Server) startInformers(conn grpc.ClientConnInterface) {
	opt := informer.WithLogger(s.log)
	s.services = informer.New(client.For[*shoalv1.Service](conn), opt)
	s.endpoints = informer.New(client.For[*shoalv1.Endpoints](conn), opt)
	s.pods = informer.New(client.For[*shoalv1.Pod](conn), opt)
	s.nodes = informer.New(client.For[*shoalv1.Node](conn), opt)

	s.services.AddEventHandler(keyHandler[*shoalv1.Service](s.markService))
	s.endpoints.AddEventHandler(keyHandler[*shoalv1.Endpoints](s.markService))
	s.pods.AddEventHandler(informer.HandlerFuncs[*shoalv1.Pod]{
		AddFunc: func(p *shoalv1.Pod) { s.markPod(p) },
		UpdateFunc: func(o, p *shoalv1.Pod) {
			if o.GetStatus().GetPodIp() != p.GetStatus().GetPodIp() || !samePorts(o, p) || o.GetSpec().GetMesh().GetEnabled() != p.GetSpec().GetMesh().GetEnabled() {
				s.markPod(p)
			}
		},
		DeleteFunc: func(p *shoalv1.Pod) { s.markPod(p) },
	})
	s.nodes.AddEventHandler(informer.HandlerFuncs[*shoalv1.Node]{
		AddFunc: func(*shoalv1.Node) { s.markAllEndpoints() },
		UpdateFunc: func(o, n *shoalv1.Node) {
			ol, nl := o.GetMetadata().GetLabels(), n.GetMetadata().GetLabels()
			if ol[labelZone] != nl[labelZone] || ol[labelRegion] != nl[labelRegion] {
				s.markAllEndpoints()
			}
		},
		DeleteFunc: func(*shoalv1.Node) { s.markAllEndpoints() },
	})
	for _, run := range []func(context.Context) error{s.services.Run, s.endpoints.Run, s.pods.Run, s.nodes.Run} {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			_ = run(s.ctx)
		}()
	}
}

func keyHandler[T kinds.Object](mark func(string)) informer.Handler[T] {
	return informer.HandlerFuncs[T]{
		AddFunc:    func(o T) { mark(kinds.Key(o)) },
		UpdateFunc: func(_, o T) { mark(kinds.Key(o)) },
		DeleteFunc: func(o T) { mark(kinds.Key(o)) },
	}
}

func samePorts(a, b *shoalv1.Pod) bool {
	ac, bc := a.GetSpec().GetContainers(), b.GetSpec().GetContainers()
	if len(ac) != len(bc) {
		return false
	}
	for i := range ac {
		if len(ac[i].GetPorts()) != len(bc[i].GetPorts()) {
			return false
		}
		for j, p := range ac[i].GetPorts() {
			if p.GetContainerPort() != bc[i].GetPorts()[j].GetContainerPort() {
				return false
			}
		}
	}
	return true
}

func (s *Server) markService(key string) {
	s.dirtyMu.Lock()
	s.dirty[key] = struct{}{}
	if s.since.IsZero() {
		s.since = time.Now()
	}
	s.dirtyMu.Unlock()
	s.kickLoop()
}

func (s *Server) markPod(p *shoalv1.Pod) {
	s.dirtyMu.Lock()
	s.dirtyPods[kinds.Key(p)] = struct{}{}
	if s.since.IsZero() {
		s.since = time.Now()
	}
	s.dirtyMu.Unlock()
	s.kickLoop()
}

func (s *Server) markAllEndpoints() {
	for _, k := range s.endpoints.Keys() {
		s.markService(k)
	}
}

func (s *Server) kickLoop() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// takeDirty empties the dirty sets.
func (s *Server) takeDirty() (svcs, pods map[string]struct{}, since time.Time) {
	s.dirtyMu.Lock()
	defer s.dirtyMu.Unlock()
	svcs, pods, since = s.dirty, s.dirtyPods, s.since
	s.dirty, s.dirtyPods, s.since = map[string]struct{}{}, map[string]struct{}{}, time.Time{}
	return svcs, pods, since
}

// loop rebuilds what changed (see throttle).
func (s *Server) loop() {
	defer s.wg.Done()
	throttle(s.ctx, s.kick, s.cfg.Debounce, s.flush)
}

// throttle calls flush for the kicks it receives until ctx ends, with at
// least every between the end of one flush and the start of the next, as
// kube-proxy's BoundedFrequencyRunner does for its min-sync-period. A kick
// after a quiet period is flushed at once: an isolated change, such as one
// pod turning ready, reaches the clients without waiting out a debounce
// window, which on a busy machine is otherwise idle time in front of every
// client's update. Kicks that follow within every of a flush wait for the
// window to close and are flushed together, so a burst costs one
// immediate flush and then one per window, as a trailing debounce of the
// same length does.
func throttle(ctx context.Context, kick <-chan struct{}, every time.Duration, flush func()) {
	var last time.Time
	var timer *time.Timer
	var fire <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			if timer != nil {
				timer.Stop()
			}
			return
		case <-kick:
			if fire != nil {
				continue // already due at the end of the window
			}
			if wait := every - time.Since(last); wait > 0 {
				timer = time.NewTimer(wait)
				fire = timer.C
				continue
			}
			flush()
			last = time.Now()
		case <-fire:
			fire = nil
			flush()
			last = time.Now()
		}
	}
}

// flush applies everything marked so far.
func (s *Server) flush() {
	svcs, pods, since := s.takeDirty()
	if len(svcs) > 0 {
		s.rebuild(svcs, since)
	}
	if len(pods) > 0 {
		s.rebuildSidecars(pods)
	}
}
