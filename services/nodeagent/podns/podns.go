// Package podns pins a pod's IPC and UTS namespaces as bind-mounted files,
// as the network namespace is pinned (network.NewNamespace): the pod's
// containers, the pause container included, join them by path. A pod's
// namespaces then belong to the pod rather than to its pause process, so
// an app container is created without waiting for the pause process to
// exist, and a restarted agent finds them where it left them.
package podns

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"golang.org/x/sys/unix"
)

// ErrPin is returned when a namespace cannot be pinned or released.
var ErrPin = errors.New("podns")

// Paths are a pod's pinned namespace files.
type Paths struct {
	IPC string
	UTS string
}

// PathsIn are the namespace files pinned in dir.
func PathsIn(dir string) Paths {
	return Paths{IPC: filepath.Join(dir, "ipc"), UTS: filepath.Join(dir, "uts")}
}

// Pin makes new IPC and UTS namespaces, sets hostname in the UTS one, and
// pins both at PathsIn(dir). Namespaces already pinned there are kept (an
// agent restarted in the middle of a start). On failure nothing is left.
func Pin(dir, hostname string) (Paths, error) {
	p, done, err := prepare(dir)
	if err != nil || done {
		return p, err
	}
	errc := make(chan error, 1)
	// The namespaces are made on a thread of its own, locked to this
	// goroutine, which goes back to the node's namespaces afterwards. If
	// it cannot, it stays locked: the runtime then ends the thread (or
	// parks it for good, were it the main thread) when the goroutine
	// returns, so that no other goroutine ever runs in a pod's namespaces.
	go func() {
		runtime.LockOSThread()
		restored, err := pinOnThread(p, hostname)
		if restored {
			runtime.UnlockOSThread()
		}
		errc <- err
	}()
	if err := <-errc; err != nil {
		_ = Release(dir)
		return Paths{}, err
	}
	return p, nil
}

// pinOnThread makes and pins the namespaces on the calling (locked)
// thread, then puts the thread back in the ones it had; restored says
// whether it did.
func pinOnThread(p Paths, hostname string) (restored bool, err error) {
	self := fmt.Sprintf("/proc/%d/task/%d/ns/", os.Getpid(), unix.Gettid())
	ipc, err := os.Open(self + "ipc")
	if err != nil {
		return true, fmt.Errorf("%w: %v", ErrPin, err)
	}
	defer ipc.Close()
	uts, err := os.Open(self + "uts")
	if err != nil {
		return true, fmt.Errorf("%w: %v", ErrPin, err)
	}
	defer uts.Close()
	if err := unix.Unshare(unix.CLONE_NEWIPC | unix.CLONE_NEWUTS); err != nil {
		return true, fmt.Errorf("%w: unshare: %v", ErrPin, err)
	}
	defer func() {
		restored = unix.Setns(int(ipc.Fd()), unix.CLONE_NEWIPC) == nil &&
			unix.Setns(int(uts.Fd()), unix.CLONE_NEWUTS) == nil
	}()
	if err := unix.Sethostname([]byte(hostname)); err != nil {
		return false, fmt.Errorf("%w: hostname %q: %v", ErrPin, hostname, err)
	}
	return false, bindNS(self, p)
}

// PinFrom pins the IPC and UTS namespaces of process pid at PathsIn(dir):
// for a pod whose containers joined its pause process's namespaces (made
// by an agent before namespaces were pinned). Namespaces already pinned
// there are kept.
func PinFrom(dir string, pid uint32) (Paths, error) {
	p, done, err := prepare(dir)
	if err != nil || done {
		return p, err
	}
	if err := bindNS(fmt.Sprintf("/proc/%d/ns/", pid), p); err != nil {
		_ = Release(dir)
		return Paths{}, err
	}
	return p, nil
}

// prepare returns the paths in dir, done when namespaces are pinned there
// already; otherwise it clears what a failed attempt left and makes the
// mount points.
func prepare(dir string) (p Paths, done bool, err error) {
	p = PathsIn(dir)
	if Pinned(dir) {
		return p, true, nil
	}
	if err := Release(dir); err != nil {
		return Paths{}, false, err
	}
	if err := mountPoints(dir, p); err != nil {
		return Paths{}, false, err
	}
	return p, false, nil
}

func mountPoints(dir string, p Paths) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("%w: %v", ErrPin, err)
	}
	for _, f := range []string{p.IPC, p.UTS} {
		fd, err := os.OpenFile(f, os.O_RDONLY|os.O_CREATE|os.O_EXCL, 0o444)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrPin, err)
		}
		fd.Close()
	}
	return nil
}

// bindNS bind-mounts the ipc and uts entries of the /proc ns directory
// src onto p: the namespaces live on while the files are mounted, whether
// or not a process is in them.
func bindNS(src string, p Paths) error {
	for _, m := range []struct{ ns, path string }{{"ipc", p.IPC}, {"uts", p.UTS}} {
		if err := unix.Mount(src+m.ns, m.path, "none", unix.MS_BIND, ""); err != nil {
			return fmt.Errorf("%w: pinning %s namespace at %s: %v", ErrPin, m.ns, m.path, err)
		}
	}
	return nil
}

// Pinned reports whether both namespace files in dir are pinned.
func Pinned(dir string) bool {
	p := PathsIn(dir)
	return isNSFile(p.IPC) && isNSFile(p.UTS)
}

// isNSFile reports whether path is a mounted namespace file (nsfs).
func isNSFile(path string) bool {
	var fs unix.Statfs_t
	return unix.Statfs(path, &fs) == nil && fs.Type == unix.NSFS_MAGIC
}

// Release unmounts and removes the namespace files in dir (the namespaces
// end with their last process) and dir itself when it is left empty. Safe
// to repeat; nothing pinned is fine.
func Release(dir string) error {
	p := PathsIn(dir)
	var errs []error
	for _, f := range []string{p.IPC, p.UTS} {
		if isNSFile(f) {
			if err := unix.Unmount(f, unix.MNT_DETACH); err != nil {
				errs = append(errs, fmt.Errorf("%w: unmounting %s: %v", ErrPin, f, err))
				continue
			}
		}
		if err := os.Remove(f); err != nil && !os.IsNotExist(err) {
			errs = append(errs, fmt.Errorf("%w: %v", ErrPin, err))
		}
	}
	if len(errs) == 0 {
		if err := os.Remove(dir); err != nil && !os.IsNotExist(err) && !errors.Is(err, unix.ENOTEMPTY) {
			errs = append(errs, fmt.Errorf("%w: %v", ErrPin, err))
		}
	}
	return errors.Join(errs...)
}
