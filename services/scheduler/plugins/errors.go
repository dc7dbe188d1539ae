package plugins

import (
	"errors"
	"fmt"
)

// ErrMissingState means a Filter or Score ran without the data its
// PreFilter or PreScore writes: a bug in the caller of the framework.
var ErrMissingState = errors.New("plugins: cycle state missing")

func errMissingState(plugin string) error {
	return fmt.Errorf("%w for %s (PreFilter did not run)", ErrMissingState, plugin)
}
