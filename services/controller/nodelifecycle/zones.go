package nodelifecycle

// zoneState is the health of one zone's nodes (Kubernetes' node lifecycle
// controller's zone states).
type zoneState int

const (
	stateNormal zoneState = iota
	// statePartialDisruption: many nodes of the zone are unhealthy at once;
	// evictions slow down (or stop in small clusters), since it is more
	// likely a network partition than dead machines.
	statePartialDisruption
	// stateFullDisruption: no node of the zone is healthy.
	stateFullDisruption
)

func (s zoneState) String() string {
	switch s {
	case statePartialDisruption:
		return "PartialDisruption"
	case stateFullDisruption:
		return "FullDisruption"
	}
	return "Normal"
}

// computeZoneState classifies a zone by its ready and not-ready nodes.
func computeZoneState(ready, notReady int, unhealthyThreshold float64) zoneState {
	switch {
	case ready == 0 && notReady > 0:
		return stateFullDisruption
	case notReady > 2 && float64(notReady)/float64(notReady+ready) >= unhealthyThreshold:
		return statePartialDisruption
	}
	return stateNormal
}

// evictionRate is the rate (nodes per second) at which a zone's unhealthy
// nodes get their NoExecute taint, given its state and size.
func evictionRate(state zoneState, size int, c Config) float64 {
	switch state {
	case statePartialDisruption:
		if size > c.LargeClusterThreshold {
			return c.SecondaryEvictionRate
		}
		return 0
	}
	return c.EvictionRate
}
