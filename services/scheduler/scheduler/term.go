package scheduler

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/services/scheduler/cache"
	"github.com/shoalmesh/shoal/services/scheduler/framework"
	"github.com/shoalmesh/shoal/services/scheduler/queue"
)

// statusWriters bounds concurrent PodScheduled=False status writes.
const statusWriters = 8

// flushInterval is how often the queue moves pods whose back-off expired.
const flushInterval = 50 * time.Millisecond

// term is the scheduling state of one leadership term. Each term starts
// from the informers' contents with a fresh cache and queue, so nothing a
// previous term assumed (or a lost lease interrupted) leaks into it.
type term struct {
	s     *Scheduler
	ctx   context.Context // ends with the term
	fw    *framework.Framework
	cache *cache.Cache
	queue *queue.Queue
	par   framework.Parallelizer

	binds   chan struct{} // semaphore of in-flight binds
	writers chan struct{} // semaphore of status writes
	wg      sync.WaitGroup

	// Owned by the scheduling loop's goroutine.
	snap      *cache.Snapshot
	nextStart int
	rng       *rand.Rand
	statuses  []*framework.Status   // per node index, reused across cycles
	feasible  []*framework.NodeInfo // reused across cycles
}

func newTerm(ctx context.Context, s *Scheduler) (*term, error) {
	fw, err := framework.New(s.registry, s.profile)
	if err != nil {
		return nil, err
	}
	sc := s.cfg.Scheduling
	qc := queue.Config{
		InitialBackoff:           sc.PodInitialBackoff,
		MaxBackoff:               sc.PodMaxBackoff,
		MaxUnschedulableDuration: sc.PodMaxUnschedulableDuration,
		Events:                   fw.EventsToRegister(),
	}
	return &term{
		s:       s,
		ctx:     ctx,
		fw:      fw,
		cache:   cache.New(),
		queue:   queue.New(qc),
		par:     framework.Parallelizer{Workers: sc.Parallelism},
		binds:   make(chan struct{}, sc.MaxInFlightBinds),
		writers: make(chan struct{}, statusWriters),
		snap:    cache.NewSnapshot(),
		rng:     rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64())),
	}, nil
}

// seed fills the cache and queue from the informers' contents.
func (t *term) seed(nodes []*shoalv1.Node, pods []*shoalv1.Pod) {
	for _, n := range nodes {
		t.cache.AddNode(n)
	}
	for _, p := range pods {
		t.onPodAdd(p)
	}
}

func (t *term) snapLen() int {
	return t.cache.Stats().Nodes
}

// run schedules pods until the term's context ends, then closes the queue.
func (t *term) run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Go(func() { t.queue.Run(ctx, flushInterval) })
	for t.scheduleOne(ctx) {
	}
	t.queue.Close()
	wg.Wait()
}

// wait returns once every bind and status write of the term is done.
func (t *term) wait() { t.wg.Wait() }
