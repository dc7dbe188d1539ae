package framework_test

import (
	"context"
	"errors"
	"maps"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/services/scheduler/framework"
)

var ctx = context.Background()

func TestStatus(t *testing.T) {
	var nilStatus *framework.Status
	tests := []struct {
		name         string
		st           *framework.Status
		wantCode     framework.Code
		wantSuccess  bool
		wantRejected bool
		wantMessage  string
	}{
		{name: "nil is success", st: nilStatus, wantCode: framework.Success, wantSuccess: true},
		{name: "unschedulable", st: framework.NewStatus(framework.Unschedulable, "insufficient cpu", "insufficient memory"),
			wantCode: framework.Unschedulable, wantRejected: true, wantMessage: "insufficient cpu, insufficient memory"},
		{name: "unresolvable", st: framework.NewStatus(framework.UnschedulableAndUnresolvable, "bad"),
			wantCode: framework.UnschedulableAndUnresolvable, wantRejected: true, wantMessage: "bad"},
		{name: "error", st: framework.AsStatus(errors.New("boom")), wantCode: framework.Error, wantMessage: "boom"},
		{name: "skip", st: framework.NewStatus(framework.Skip), wantCode: framework.Skip},
		{name: "AsStatus(nil)", st: framework.AsStatus(nil), wantCode: framework.Success, wantSuccess: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.st.Code() != tc.wantCode || tc.st.IsSuccess() != tc.wantSuccess || tc.st.IsRejected() != tc.wantRejected || tc.st.Message() != tc.wantMessage {
				t.Errorf("got code %v success %v rejected %v message %q", tc.st.Code(), tc.st.IsSuccess(), tc.st.IsRejected(), tc.st.Message())
			}
			if (tc.st.Err() == nil) != tc.wantSuccess {
				t.Errorf("Err() = %v", tc.st.Err())
			}
		})
	}
	base := framework.NewStatus(framework.Unschedulable, "x")
	named := base.WithPlugin("P")
	if named.Plugin() != "P" || base.Plugin() != "" {
		t.Errorf("WithPlugin changed the original or lost the name: %q %q", base.Plugin(), named.Plugin())
	}
	boom := errors.New("boom")
	if !errors.Is(framework.AsStatus(boom).Err(), boom) {
		t.Error("AsStatus lost the error")
	}
}

func TestParallelizer(t *testing.T) {
	for _, workers := range []int{1, 2, 16} {
		for _, pieces := range []int{0, 1, 7, 100, 5000} {
			seen := make([]atomic.Int32, pieces)
			framework.Parallelizer{Workers: workers}.Until(pieces, func(i int) bool {
				seen[i].Add(1)
				return true
			})
			for i := range seen {
				if n := seen[i].Load(); n != 1 {
					t.Fatalf("workers %d pieces %d: piece %d ran %d times", workers, pieces, i, n)
				}
			}
		}
	}
	// Stopping: after fn returns false, no new piece starts; with one
	// worker exactly the pieces up to the stop run.
	var ran atomic.Int32
	framework.Parallelizer{Workers: 1}.Until(100, func(i int) bool {
		ran.Add(1)
		return i < 9
	})
	if ran.Load() != 10 {
		t.Errorf("one worker ran %d pieces after a stop at piece 9, want 10", ran.Load())
	}
	ran.Store(0)
	framework.Parallelizer{Workers: 8}.Until(100000, func(i int) bool {
		ran.Add(1)
		return false
	})
	if n := ran.Load(); n > 8 {
		t.Errorf("8 workers ran %d pieces after every piece asked to stop, want at most 8", n)
	}
}

func TestFitErrorMessage(t *testing.T) {
	tests := []struct {
		name string
		err  *framework.FitError
		want string
	}{
		{name: "no nodes", err: &framework.FitError{}, want: "0/0 nodes: no nodes available"},
		{
			name: "most frequent first, ties by name",
			err: &framework.FitError{NumAllNodes: 12, Diagnosis: framework.Diagnosis{ReasonCounts: map[string]int{
				"taint dedicated=gpu": 4, "insufficient cpu": 8, "node not ready": 4,
			}}},
			want: "0/12 nodes: 8 insufficient cpu, 4 node not ready, 4 taint dedicated=gpu",
		},
		{
			name: "prefilter",
			err:  &framework.FitError{NumAllNodes: 3, Diagnosis: framework.Diagnosis{PreFilterMessage: "invalid affinity: x"}},
			want: "0/3 nodes: invalid affinity: x",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.err.Error(); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
	var d framework.Diagnosis
	d.AddNode(framework.NewStatus(framework.Unschedulable, "insufficient cpu", "insufficient memory").WithPlugin("Fit"))
	d.AddNode(framework.NewStatus(framework.Unschedulable, "insufficient cpu").WithPlugin("Fit"))
	d.AddNode(framework.NewStatus(framework.Unschedulable, "taint a").WithPlugin("Taint"))
	if want := map[string]int{"insufficient cpu": 2, "insufficient memory": 1, "taint a": 1}; !maps.Equal(d.ReasonCounts, want) {
		t.Errorf("counts %v, want %v", d.ReasonCounts, want)
	}
	if want := map[string]bool{"Fit": true, "Taint": true}; !maps.Equal(d.UnschedulablePlugins, want) {
		t.Errorf("plugins %v, want %v", d.UnschedulablePlugins, want)
	}
}

// fakePlugin implements every extension point through optional functions.
type fakePlugin struct {
	name      string
	preFilter func(*framework.PodInfo) *framework.Status
	filter    func(*framework.NodeInfo) *framework.Status
	score     func(*framework.NodeInfo) int64
	normalize func([]framework.NodeScore)
	calls     sync.Map // node name -> filter calls
}

func (f *fakePlugin) Name() string { return f.name }
func (f *fakePlugin) PreFilter(_ context.Context, _ *framework.CycleState, p *framework.PodInfo, _ framework.NodeLister) *framework.Status {
	if f.preFilter == nil {
		return nil
	}
	return f.preFilter(p)
}
func (f *fakePlugin) Filter(_ context.Context, _ *framework.CycleState, _ *framework.PodInfo, n *framework.NodeInfo) *framework.Status {
	v, _ := f.calls.LoadOrStore(n.Name, new(atomic.Int32))
	v.(*atomic.Int32).Add(1)
	if f.filter == nil {
		return nil
	}
	return f.filter(n)
}
func (f *fakePlugin) Score(_ context.Context, _ *framework.CycleState, _ *framework.PodInfo, n *framework.NodeInfo) (int64, *framework.Status) {
	if f.score == nil {
		return 0, nil
	}
	return f.score(n), nil
}
func (f *fakePlugin) ScoreExtensions() framework.ScoreExtensions {
	if f.normalize == nil {
		return nil
	}
	return f
}
func (f *fakePlugin) NormalizeScore(_ context.Context, _ *framework.CycleState, _ *framework.PodInfo, s []framework.NodeScore) *framework.Status {
	f.normalize(s)
	return nil
}

func registryOf(ps ...*fakePlugin) framework.Registry {
	r := framework.Registry{}
	for _, p := range ps {
		if err := r.Register(p.name, func() (framework.Plugin, error) { return p, nil }); err != nil {
			panic(err)
		}
	}
	return r
}

func TestNewValidatesProfile(t *testing.T) {
	a := &fakePlugin{name: "A"}
	tests := []struct {
		name    string
		profile framework.Profile
		wantErr string
	}{
		{name: "ok", profile: framework.Profile{Filters: []string{"A"}, Scores: []framework.WeightedPlugin{{Name: "A", Weight: 1}}}},
		{name: "unknown plugin", profile: framework.Profile{Filters: []string{"B"}}, wantErr: `"B" is not registered`},
		{name: "filter twice", profile: framework.Profile{Filters: []string{"A", "A"}}, wantErr: "listed twice"},
		{name: "zero weight", profile: framework.Profile{Scores: []framework.WeightedPlugin{{Name: "A"}}}, wantErr: "weight must be positive"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := framework.New(registryOf(a), tc.profile)
			if (err == nil) != (tc.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("err %v, want %q", err, tc.wantErr)
			}
		})
	}
	misnamed := framework.Registry{"X": func() (framework.Plugin, error) { return a, nil }}
	if _, err := framework.New(misnamed, framework.Profile{Filters: []string{"X"}}); err == nil {
		t.Error("a plugin registered under another name was accepted")
	}
}

func nodes(names ...string) []*framework.NodeInfo {
	var out []*framework.NodeInfo
	for _, n := range names {
		out = append(out, framework.NewNodeInfo(n, &shoalv1.Node{Metadata: &shoalv1.ObjectMeta{Name: n}}))
	}
	return out
}

func TestRunFilterPlugins(t *testing.T) {
	first := &fakePlugin{name: "First", filter: func(n *framework.NodeInfo) *framework.Status {
		if n.Name == "bad" {
			return framework.NewStatus(framework.Unschedulable, "first says no")
		}
		return nil
	}}
	second := &fakePlugin{name: "Second", filter: func(*framework.NodeInfo) *framework.Status {
		return framework.NewStatus(framework.Unschedulable, "second says no")
	}}
	skipper := &fakePlugin{name: "Skipper",
		preFilter: func(*framework.PodInfo) *framework.Status { return framework.NewStatus(framework.Skip) },
		filter: func(*framework.NodeInfo) *framework.Status {
			return framework.NewStatus(framework.Error, "must not run")
		},
	}
	fw, err := framework.New(registryOf(first, skipper, second), framework.Profile{Filters: []string{"First", "Skipper", "Second"}})
	if err != nil {
		t.Fatal(err)
	}
	state := framework.NewCycleState()
	pod := framework.NewPodInfo(&shoalv1.Pod{Metadata: &shoalv1.ObjectMeta{Name: "p"}})
	if st := fw.RunPreFilterPlugins(ctx, state, pod, nil); !st.IsSuccess() {
		t.Fatal(st)
	}
	ns := nodes("bad", "good")
	st := fw.RunFilterPlugins(ctx, state, pod, ns[0])
	if st.Plugin() != "First" || st.Message() != "first says no" {
		t.Errorf("bad node: %v from %q, want the first plugin's rejection", st, st.Plugin())
	}
	if _, called := second.calls.Load("bad"); called {
		t.Error("a later filter ran after an earlier one rejected the node")
	}
	st = fw.RunFilterPlugins(ctx, state, pod, ns[1])
	if st.Plugin() != "Second" {
		t.Errorf("good node: %v from %q, want Second's rejection (Skipper skipped)", st, st.Plugin())
	}

	rejecting := &fakePlugin{name: "Gate", preFilter: func(*framework.PodInfo) *framework.Status {
		return framework.NewStatus(framework.UnschedulableAndUnresolvable, "never")
	}}
	fw, _ = framework.New(registryOf(rejecting), framework.Profile{Filters: []string{"Gate"}})
	if st := fw.RunPreFilterPlugins(ctx, framework.NewCycleState(), pod, nil); st.Code() != framework.UnschedulableAndUnresolvable || st.Plugin() != "Gate" {
		t.Errorf("PreFilter rejection: %v from %q", st, st.Plugin())
	}
}

func TestRunScorePlugins(t *testing.T) {
	byName := map[string]int64{"a": 10, "b": 20, "c": 40}
	raw := &fakePlugin{name: "Raw", score: func(n *framework.NodeInfo) int64 { return byName[n.Name] }}
	// Normalised to 0..100 relative to the best, weight 2.
	scaled := &fakePlugin{name: "Scaled", score: func(n *framework.NodeInfo) int64 { return byName[n.Name] }, normalize: func(s []framework.NodeScore) {
		for i := range s {
			s[i].Score = s[i].Score * 100 / 40
		}
	}}
	fw, err := framework.New(registryOf(raw, scaled), framework.Profile{Scores: []framework.WeightedPlugin{{Name: "Raw", Weight: 1}, {Name: "Scaled", Weight: 2}}})
	if err != nil {
		t.Fatal(err)
	}
	pod := framework.NewPodInfo(&shoalv1.Pod{Metadata: &shoalv1.ObjectMeta{Name: "p"}})
	for _, workers := range []int{1, 4} {
		got, st := fw.RunScorePlugins(ctx, framework.NewCycleState(), pod, nodes("a", "b", "c"), framework.Parallelizer{Workers: workers})
		if !st.IsSuccess() {
			t.Fatal(st)
		}
		want := []framework.NodeScore{{Name: "a", Score: 10 + 2*25}, {Name: "b", Score: 20 + 2*50}, {Name: "c", Score: 40 + 2*100}}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("workers %d: scores %v, want %v", workers, got, want)
				break
			}
		}
	}
	tooHigh := &fakePlugin{name: "TooHigh", score: func(*framework.NodeInfo) int64 { return 101 }}
	fw, _ = framework.New(registryOf(tooHigh), framework.Profile{Scores: []framework.WeightedPlugin{{Name: "TooHigh", Weight: 1}}})
	if _, st := fw.RunScorePlugins(ctx, framework.NewCycleState(), pod, nodes("a"), framework.Parallelizer{}); st.Code() != framework.Error {
		t.Errorf("a score above MaxNodeScore gave %v, want Error", st)
	}
}
