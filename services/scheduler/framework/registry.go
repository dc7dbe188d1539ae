package framework

import (
	"errors"
	"fmt"
)

// ErrDuplicatePlugin is returned when a name is registered twice.
var ErrDuplicatePlugin = errors.New("framework: plugin registered twice")

// Factory builds one plugin instance. A framework calls each factory once,
// so a plugin that implements several extension points (Filter and Score,
// say) is one object.
type Factory func() (Plugin, error)

// Registry maps plugin names to factories. Build it explicitly (see
// plugins.NewInTreeRegistry); there is no self-registration.
type Registry map[string]Factory

// Register adds a factory; a name that is already taken is an error.
func (r Registry) Register(name string, f Factory) error {
	if _, dup := r[name]; dup {
		return fmt.Errorf("%w: %q", ErrDuplicatePlugin, name)
	}
	r[name] = f
	return nil
}

// Merge registers every factory of other into r; it fails without
// changing r if any name is taken.
func (r Registry) Merge(other Registry) error {
	for name := range other {
		if _, dup := r[name]; dup {
			return fmt.Errorf("%w: %q", ErrDuplicatePlugin, name)
		}
	}
	for name, f := range other {
		r[name] = f
	}
	return nil
}

// Profile says which registered plugins run, in which order, and how much
// each score counts.
type Profile struct {
	// PreFilter and Filter plugins run in this order, cheapest first: the
	// first plugin that rejects a node names the reason for it.
	Filters []string
	// Scores are summed with these weights.
	Scores []WeightedPlugin
}

// WeightedPlugin is a score plugin and its weight.
type WeightedPlugin struct {
	Name   string
	Weight int64
}
