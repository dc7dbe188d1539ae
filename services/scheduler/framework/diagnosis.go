package framework

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Diagnosis collects why nodes rejected a pod: how many nodes gave each
// reason, and which plugins rejected any node (the queue retries the pod
// when an event one of them waits for happens).
type Diagnosis struct {
	// ReasonCounts counts nodes per rejection reason; a node rejected for
	// two reasons (cpu and memory) counts under both.
	ReasonCounts map[string]int
	// UnschedulablePlugins are the plugins that rejected at least one node.
	UnschedulablePlugins map[string]bool
	// PreFilterMessage is set when a PreFilter rejected the pod before any
	// node was looked at.
	PreFilterMessage string
}

// AddNode records the rejection of one node.
func (d *Diagnosis) AddNode(st *Status) {
	if d.ReasonCounts == nil {
		d.ReasonCounts = map[string]int{}
	}
	for _, r := range st.Reasons() {
		d.ReasonCounts[r]++
	}
	d.AddPlugin(st.Plugin())
}

// AddPlugin records that plugin rejected the pod.
func (d *Diagnosis) AddPlugin(plugin string) {
	if plugin == "" {
		return
	}
	if d.UnschedulablePlugins == nil {
		d.UnschedulablePlugins = map[string]bool{}
	}
	d.UnschedulablePlugins[plugin] = true
}

// Merge adds other's counts to d.
func (d *Diagnosis) Merge(other *Diagnosis) {
	for r, n := range other.ReasonCounts {
		if d.ReasonCounts == nil {
			d.ReasonCounts = map[string]int{}
		}
		d.ReasonCounts[r] += n
	}
	for p := range other.UnschedulablePlugins {
		d.AddPlugin(p)
	}
	if d.PreFilterMessage == "" {
		d.PreFilterMessage = other.PreFilterMessage
	}
}

// FitError says that a pod fits no node, and why, per reason.
type FitError struct {
	Pod         *PodInfo
	NumAllNodes int
	Diagnosis   Diagnosis
}

// Error is the message that goes into the pod's PodScheduled condition
// and its FailedScheduling event: "0/12 nodes: 8 insufficient cpu, 4 taint
// dedicated=gpu" (most frequent reason first).
func (e *FitError) Error() string {
	prefix := fmt.Sprintf("0/%d nodes", e.NumAllNodes)
	if e.Diagnosis.PreFilterMessage != "" {
		return prefix + ": " + e.Diagnosis.PreFilterMessage
	}
	if e.NumAllNodes == 0 {
		return prefix + ": no nodes available"
	}
	type rc struct {
		reason string
		n      int
	}
	var rcs []rc
	for r, n := range e.Diagnosis.ReasonCounts {
		rcs = append(rcs, rc{r, n})
	}
	slices.SortFunc(rcs, func(a, b rc) int {
		if c := cmp.Compare(b.n, a.n); c != 0 {
			return c
		}
		return strings.Compare(a.reason, b.reason)
	})
	parts := make([]string, len(rcs))
	for i, x := range rcs {
		parts[i] = fmt.Sprintf("%d %s", x.n, x.reason)
	}
	if len(parts) == 0 {
		return prefix + " fit"
	}
	return prefix + ": " + strings.Join(parts, ", ")
}
