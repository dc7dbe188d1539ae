package framework

import (
	"errors"
	"strconv"
	"strings"
)

// Code is the outcome of running a plugin. Each code's comment says how the
// scheduler reacts to it.
type Code int

const (
	// Success: the node passes (Filter) or the step worked. A nil *Status
	// means Success too.
	Success Code = iota
	// Error: an unexpected failure inside a plugin. The pod goes back to
	// the queue with back-off; the node is not blamed.
	Error
	// Unschedulable: the pod does not fit this node now but could once the
	// cluster changes (resources freed, a taint removed). The pod waits for
	// a cluster event that one of the rejecting plugins cares about.
	Unschedulable
	// UnschedulableAndUnresolvable: no cluster change can make this node
	// fit (e.g. the pod's own selector is invalid). Treated like
	// Unschedulable by the queue; kept apart so a future preemption step
	// knows evicting pods would not help.
	UnschedulableAndUnresolvable
	// Skip: returned by PreFilter or PreScore when the plugin has nothing
	// to check for this pod; its Filter or Score is then not called in this
	// cycle.
	Skip
)

var codeNames = []string{"Success", "Error", "Unschedulable", "UnschedulableAndUnresolvable", "Skip"}

func (c Code) String() string {
	if c >= 0 && int(c) < len(codeNames) {
		return codeNames[c]
	}
	return "Code(" + strconv.Itoa(int(c)) + ")"
}

// Status is a plugin's outcome: a code, human-readable reasons and, for
// Error, the underlying error. The nil *Status is Success. Statuses are
// immutable once returned, so plugins may return shared ones.
type Status struct {
	code    Code
	reasons []string
	err     error
	plugin  string
}

// NewStatus returns a status with the code and reasons. Reasons of a
// rejection are short lower-case phrases ("insufficient cpu", "taint
// dedicated=gpu") that the scheduler counts per node into a message like
// "0/12 nodes: 8 insufficient cpu, 4 taint dedicated=gpu".
func NewStatus(code Code, reasons ...string) *Status {
	return &Status{code: code, reasons: reasons}
}

// AsStatus wraps an unexpected error as an Error status; nil gives nil.
func AsStatus(err error) *Status {
	if err == nil {
		return nil
	}
	return &Status{code: Error, reasons: []string{err.Error()}, err: err}
}

// Code is the status code; Success for nil.
func (s *Status) Code() Code {
	if s == nil {
		return Success
	}
	return s.code
}

// IsSuccess reports Success (or nil).
func (s *Status) IsSuccess() bool { return s.Code() == Success }

// IsSkip reports Skip.
func (s *Status) IsSkip() bool { return s.Code() == Skip }

// IsRejected reports Unschedulable or UnschedulableAndUnresolvable: the
// node does not fit, which is an answer, not a failure.
func (s *Status) IsRejected() bool {
	c := s.Code()
	return c == Unschedulable || c == UnschedulableAndUnresolvable
}

// Reasons are the status's reasons (nil for Success).
func (s *Status) Reasons() []string {
	if s == nil {
		return nil
	}
	return s.reasons
}

// Message joins the reasons with ", ".
func (s *Status) Message() string {
	if s == nil {
		return ""
	}
	return strings.Join(s.reasons, ", ")
}

// Err is the error behind an Error status; for other codes it is an error
// made of the message (nil for Success).
func (s *Status) Err() error {
	if s.IsSuccess() {
		return nil
	}
	if s.err != nil {
		return s.err
	}
	return errors.New(s.Message())
}

// Plugin is the name of the plugin that returned the status, as recorded
// by the framework ("" if it came from elsewhere).
func (s *Status) Plugin() string {
	if s == nil {
		return ""
	}
	return s.plugin
}

// WithPlugin returns a copy of s that names plugin.
func (s *Status) WithPlugin(plugin string) *Status {
	if s == nil {
		return nil
	}
	c := *s
	c.plugin = plugin
	return &c
}

// String is "Code: message".
func (s *Status) String() string {
	if s.IsSuccess() {
		return "Success"
	}
	return s.Code().String() + ": " + s.Message()
}
