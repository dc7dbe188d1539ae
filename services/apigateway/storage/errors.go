package storage

import (
	"errors"
	"fmt"
)

var (
	// ErrNotFound: no object at the key.
	ErrNotFound = errors.New("storage: not found")
	// ErrExists: an object already has the key.
	ErrExists = errors.New("storage: already exists")
	// ErrConflict: the object changed since the revision the caller saw.
	ErrConflict = errors.New("storage: the object has been modified")
	// ErrCompacted: the revision asked for is older than etcd's history.
	ErrCompacted = errors.New("storage: resource version compacted")
	// ErrTooNew: the revision asked for is newer than the cache reached in
	// time.
	ErrTooNew = errors.New("storage: resource version too new")
	// ErrUnavailable: etcd could not be reached.
	ErrUnavailable = errors.New("storage: etcd unavailable")
)

// SideKeyTakenError reports that a side key (a unique allocation written in
// the same transaction as the object, e.g. a service IP) already exists.
type SideKeyTakenError struct{ Key string }

func (e *SideKeyTakenError) Error() string { return fmt.Sprintf("storage: key %q is taken", e.Key) }

// BadResourceVersionError: a resource version that is not a revision number.
type BadResourceVersionError struct{ Value string }

func (e *BadResourceVersionError) Error() string {
	return fmt.Sprintf("storage: resource version %q is not a number", e.Value)
}
