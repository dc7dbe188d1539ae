package registry

import (
	"errors"
	"fmt"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/shoalmesh/shoal/services/apigateway/storage"
)

// Reason classifies a failed request; the gRPC edge maps each reason to one
// status code.
type Reason int

// The reasons.
const (
	ReasonUnknown Reason = iota
	ReasonInvalid
	ReasonNotFound
	ReasonAlreadyExists
	ReasonConflict
	ReasonFailedPrecondition
	ReasonGone
	ReasonTimeout
	ReasonUnavailable
	ReasonQuotaExceeded
)

// Error is a request failure with its reason; Invalid errors carry the bad
// fields.
type Error struct {
	Reason  Reason
	Message string
	Fields  field.ErrorList
	cause   error
}

func (e *Error) Error() string { return e.Message }
func (e *Error) Unwrap() error { return e.cause }

func invalid(kind, name string, errs field.ErrorList) *Error {
	return &Error{Reason: ReasonInvalid, Message: fmt.Sprintf("%s %q is invalid: %s", kind, name, errs.ToAggregate().Error()), Fields: errs}
}

func invalidField(path, value, msg string) *Error {
	errs := field.ErrorList{field.Invalid(field.NewPath(path), value, msg)}
	return &Error{Reason: ReasonInvalid, Message: errs.ToAggregate().Error(), Fields: errs}
}

func precondition(format string, args ...any) *Error {
	return &Error{Reason: ReasonFailedPrecondition, Message: fmt.Sprintf(format, args...)}
}

// fromStorage turns a storage error about one object into an Error.
func fromStorage(err error, kind, namespace, name string) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	what := fmt.Sprintf("%s %q", kind, name)
	if namespace != "" {
		what += fmt.Sprintf(" in namespace %q", namespace)
	}
	var bad *storage.BadResourceVersionError
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return &Error{Reason: ReasonNotFound, Message: what + " not found", cause: err}
	case errors.Is(err, storage.ErrExists):
		return &Error{Reason: ReasonAlreadyExists, Message: what + " already exists", cause: err}
	case errors.Is(err, storage.ErrConflict):
		return &Error{Reason: ReasonConflict, Message: "the object has been modified; read " + what + " again and retry", cause: err}
	case errors.Is(err, storage.ErrCompacted):
		return &Error{Reason: ReasonGone, Message: "resource version too old (compacted): list again; " + err.Error(), cause: err}
	case errors.Is(err, storage.ErrTooNew):
		return &Error{Reason: ReasonTimeout, Message: "resource version is newer than the gateway has seen; retry", cause: err}
	case errors.As(err, &bad):
		errs := field.ErrorList{field.Invalid(field.NewPath("resource_version"), bad.Value, "must be a revision number")}
		return &Error{Reason: ReasonInvalid, Message: errs.ToAggregate().Error(), Fields: errs, cause: err}
	case errors.Is(err, storage.ErrUnavailable):
		return &Error{Reason: ReasonUnavailable, Message: err.Error(), cause: err}
	}
	return err
}
