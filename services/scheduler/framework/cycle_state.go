package framework

// StateKey names one plugin's data in a CycleState; plugins use a private
// constant (their name plus a suffix) so keys never collide.
type StateKey string

// StateData is whatever a plugin keeps for the rest of the cycle.
type StateData any

// CycleState carries data between the extension points of one scheduling
// cycle. Writes happen only in PreFilter and PreScore, which run on the
// cycle's own goroutine; Filter and Score only read, from any goroutine.
// That contract is what lets CycleState go without a lock.
type CycleState struct {
	data       map[StateKey]StateData
	skipFilter map[string]bool
	skipScore  map[string]bool
	// filters are the Filter plugins that run this cycle, set by
	// RunPreFilterPlugins so that the per-node loop does no lookups.
	filters    []FilterPlugin
	filtersSet bool
}

// NewCycleState returns an empty state for one cycle.
func NewCycleState() *CycleState {
	return &CycleState{data: make(map[StateKey]StateData, 4)}
}

// Read returns the data stored under key, or nil.
func (c *CycleState) Read(key StateKey) StateData { return c.data[key] }

// Write stores data under key. Call it only from PreFilter or PreScore.
func (c *CycleState) Write(key StateKey, data StateData) {
	c.data[key] = data
}

// SkipFilter reports whether plugin's PreFilter returned Skip this cycle.
func (c *CycleState) SkipFilter(plugin string) bool { return c.skipFilter[plugin] }

// SkipScore reports whether plugin's PreScore returned Skip this cycle.
func (c *CycleState) SkipScore(plugin string) bool { return c.skipScore[plugin] }

func (c *CycleState) setSkipFilter(plugin string) {
	if c.skipFilter == nil {
		c.skipFilter = map[string]bool{}
	}
	c.skipFilter[plugin] = true
}

func (c *CycleState) setSkipScore(plugin string) {
	if c.skipScore == nil {
		c.skipScore = map[string]bool{}
	}
	c.skipScore[plugin] = true
}
