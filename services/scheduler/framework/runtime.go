package framework

import (
	"context"
	"fmt"
	"sync"
)

// Framework runs the plugins of one profile. It is safe for concurrent use
// by cycles that each bring their own CycleState.
type Framework struct {
	preFilters []PreFilterPlugin
	filters    []FilterPlugin
	preScores  []PreScorePlugin
	scores     []weightedScore
	// events maps each filter plugin to the cluster events it waits for
	// (nil: every event).
	events map[string][]ClusterEvent
	names  []string // every plugin, in profile order
}

type weightedScore struct {
	plugin ScorePlugin
	weight int64
}

// New instantiates the profile's plugins from reg. Every name must be
// registered, filter names must implement PreFilter or Filter, score names
// must implement Score, and weights must be positive.
func New(reg Registry, profile Profile) (*Framework, error) {
	fw := &Framework{events: map[string][]ClusterEvent{}}
	instances := map[string]Plugin{}
	get := func(name string) (Plugin, error) {
		if p, ok := instances[name]; ok {
			return p, nil
		}
		f, ok := reg[name]
		if !ok {
			return nil, fmt.Errorf("framework: plugin %q is not registered", name)
		}
		p, err := f()
		if err != nil {
			return nil, fmt.Errorf("framework: building plugin %q: %w", name, err)
		}
		if p.Name() != name {
			return nil, fmt.Errorf("framework: plugin registered as %q calls itself %q", name, p.Name())
		}
		instances[name] = p
		fw.names = append(fw.names, name)
		return p, nil
	}
	seen := map[string]bool{}
	for _, name := range profile.Filters {
		if seen[name] {
			return nil, fmt.Errorf("framework: filter plugin %q listed twice", name)
		}
		seen[name] = true
		p, err := get(name)
		if err != nil {
			return nil, err
		}
		pf, isPre := p.(PreFilterPlugin)
		f, isFilter := p.(FilterPlugin)
		if !isPre && !isFilter {
			return nil, fmt.Errorf("framework: plugin %q is neither a PreFilter nor a Filter plugin", name)
		}
		if isPre {
			fw.preFilters = append(fw.preFilters, pf)
		}
		if isFilter {
			fw.filters = append(fw.filters, f)
		}
		if ee, ok := p.(EnqueueExtensions); ok {
			fw.events[name] = ee.EventsToRegister()
		} else {
			fw.events[name] = nil
		}
	}
	seen = map[string]bool{}
	for _, w := range profile.Scores {
		if seen[w.Name] {
			return nil, fmt.Errorf("framework: score plugin %q listed twice", w.Name)
		}
		seen[w.Name] = true
		if w.Weight <= 0 {
			return nil, fmt.Errorf("framework: score plugin %q: weight must be positive", w.Name)
		}
		p, err := get(w.Name)
		if err != nil {
			return nil, err
		}
		s, ok := p.(ScorePlugin)
		if !ok {
			return nil, fmt.Errorf("framework: plugin %q is not a Score plugin", w.Name)
		}
		if ps, ok := p.(PreScorePlugin); ok {
			fw.preScores = append(fw.preScores, ps)
		}
		fw.scores = append(fw.scores, weightedScore{plugin: s, weight: w.Weight})
	}
	return fw, nil
}

// PluginNames lists every plugin of the profile.
func (fw *Framework) PluginNames() []string { return fw.names }

// HasScorePlugins reports whether the profile scores at all.
func (fw *Framework) HasScorePlugins() bool { return len(fw.scores) > 0 }

// EventsToRegister maps each filter plugin to the events it waits for; a
// nil list means every event.
func (fw *Framework) EventsToRegister() map[string][]ClusterEvent { return fw.events }

// RunPreFilterPlugins runs every PreFilter in order and stops at the first
// that does not succeed or skip; the returned status names that plugin.
func (fw *Framework) RunPreFilterPlugins(ctx context.Context, state *CycleState, pod *PodInfo, nodes NodeLister) *Status {
	for _, p := range fw.preFilters {
		st := p.PreFilter(ctx, state, pod, nodes)
		switch {
		case st.IsSuccess():
		case st.IsSkip():
			state.setSkipFilter(p.Name())
		default:
			return st.WithPlugin(p.Name())
		}
	}
	state.filters = state.filters[:0]
	for _, f := range fw.filters {
		if !state.skipFilter[f.Name()] {
			state.filters = append(state.filters, f)
		}
	}
	state.filtersSet = true
	return nil
}

// RunFilterPlugins runs every Filter not skipped this cycle against one
// node, in order, and returns the first status that is not Success, naming
// its plugin. Safe to call for many nodes at once.
func (fw *Framework) RunFilterPlugins(ctx context.Context, state *CycleState, pod *PodInfo, node *NodeInfo) *Status {
	filters := fw.filters
	if state.filtersSet {
		filters = state.filters
	}
	for _, p := range filters {
		if !state.filtersSet && state.skipFilter[p.Name()] {
			continue
		}
		if st := p.Filter(ctx, state, pod, node); !st.IsSuccess() {
			if st.Plugin() == p.Name() {
				return st
			}
			return st.WithPlugin(p.Name())
		}
	}
	return nil
}

// RunPreScorePlugins runs every PreScore; Skip excludes that plugin's
// Score for this cycle. The first other failure is returned.
func (fw *Framework) RunPreScorePlugins(ctx context.Context, state *CycleState, pod *PodInfo, nodes []*NodeInfo) *Status {
	for _, p := range fw.preScores {
		st := p.PreScore(ctx, state, pod, nodes)
		switch {
		case st.IsSuccess():
		case st.IsSkip():
			state.setSkipScore(p.Name())
		default:
			return st.WithPlugin(p.Name())
		}
	}
	return nil
}

// RunScorePlugins scores every node with every score plugin not skipped,
// normalises each plugin's scores, and returns each node's weighted total
// (in the order of nodes). Scoring runs on par's goroutines.
func (fw *Framework) RunScorePlugins(ctx context.Context, state *CycleState, pod *PodInfo, nodes []*NodeInfo, par Parallelizer) ([]NodeScore, *Status) {
	totals := make([]NodeScore, len(nodes))
	for i, n := range nodes {
		totals[i].Name = n.Name
	}
	var active []weightedScore
	for _, ws := range fw.scores {
		if !state.SkipScore(ws.plugin.Name()) {
			active = append(active, ws)
		}
	}
	if len(active) == 0 || len(nodes) == 0 {
		return totals, nil
	}
	buf := scoreBuffers.Get().(*scoreBuffer)
	defer scoreBuffers.Put(buf)
	perPlugin := buf.slices(len(active), len(nodes))
	var (
		errOnce sync.Once
		errSt   *Status
	)
	par.Until(len(nodes), func(i int) bool {
		for j, ws := range active {
			s, st := ws.plugin.Score(ctx, state, pod, nodes[i])
			if !st.IsSuccess() {
				errOnce.Do(func() { errSt = st.WithPlugin(ws.plugin.Name()) })
				return false
			}
			perPlugin[j][i] = NodeScore{Name: nodes[i].Name, Score: s}
		}
		return true
	})
	if errSt != nil {
		return nil, errSt
	}
	for j, ws := range active {
		if ext := ws.plugin.ScoreExtensions(); ext != nil {
			if st := ext.NormalizeScore(ctx, state, pod, perPlugin[j]); !st.IsSuccess() {
				return nil, st.WithPlugin(ws.plugin.Name())
			}
		}
		for i := range nodes {
			s := perPlugin[j][i].Score
			if s < MinNodeScore || s > MaxNodeScore {
				return nil, NewStatus(Error, fmt.Sprintf("score %d of node %q is outside [%d, %d]", s, nodes[i].Name, MinNodeScore, MaxNodeScore)).WithPlugin(ws.plugin.Name())
			}
			totals[i].Score += s * ws.weight
		}
	}
	return totals, nil
}

// scoreBuffer holds one cycle's per-plugin scores; pooled, because a cycle
// scores hundreds of nodes per plugin and runs a thousand times a second.
type scoreBuffer struct {
	backing   []NodeScore
	perPlugin [][]NodeScore
}

var scoreBuffers = sync.Pool{New: func() any { return new(scoreBuffer) }}

func (b *scoreBuffer) slices(plugins, nodes int) [][]NodeScore {
	if n := plugins * nodes; cap(b.backing) < n {
		b.backing = make([]NodeScore, n)
	}
	b.perPlugin = b.perPlugin[:0]
	for j := range plugins {
		s := b.backing[j*nodes : (j+1)*nodes]
		clear(s)
		b.perPlugin = append(b.perPlugin, s)
	}
	return b.perPlugin
}
