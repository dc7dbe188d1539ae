package podns

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

// hostnameIn reads the hostname seen in the UTS namespace pinned at path,
// from a thread that joins it and goes back (or, failing that, is thrown
// away: it stays locked).
func hostnameIn(t *testing.T, path string) string {
	t.Helper()
	type result struct {
		name string
		err  error
	}
	out := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		own, err := os.Open(fmt.Sprintf("/proc/self/task/%d/ns/uts", unix.Gettid()))
		if err != nil {
			out <- result{err: err}
			return
		}
		defer own.Close()
		f, err := os.Open(path)
		if err != nil {
			out <- result{err: err}
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWUTS); err != nil {
			out <- result{err: err}
			return
		}
		var u unix.Utsname
		err = unix.Uname(&u)
		if unix.Setns(int(own.Fd()), unix.CLONE_NEWUTS) == nil {
			runtime.UnlockOSThread()
		}
		out <- result{name: unix.ByteSliceToString(u.Nodename[:]), err: err}
	}()
	r := <-out
	if r.err != nil {
		t.Fatalf("joining %s: %v", path, r.err)
	}
	return r.name
}

func nsID(t *testing.T, path string) uint64 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

func TestPinAndRelease(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("pinning namespaces needs root: run the node agent's tests as root")
	}
	host, _ := os.Hostname()
	tests := []struct {
		name         string
		pin          func(dir string) (Paths, error)
		wantHostname string
		// wantOwn: new namespaces rather than the test process's.
		wantOwn bool
	}{
		{name: "new namespaces with the pod's hostname", pin: func(dir string) (Paths, error) { return Pin(dir, "web-1") }, wantHostname: "web-1", wantOwn: true},
		{name: "a running process's namespaces", pin: func(dir string) (Paths, error) { return PinFrom(dir, uint32(os.Getpid())) }, wantHostname: host},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "ns")
			p, err := tc.pin(dir)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = Release(dir) })
			if p != PathsIn(dir) || !Pinned(dir) {
				t.Fatalf("paths %v, pinned %v; want %v pinned", p, Pinned(dir), PathsIn(dir))
			}
			if got := hostnameIn(t, p.UTS); got != tc.wantHostname {
				t.Errorf("hostname %q, want %q", got, tc.wantHostname)
			}
			for _, ns := range []struct{ name, path string }{{"ipc", p.IPC}, {"uts", p.UTS}} {
				own := nsID(t, ns.path) != nsID(t, fmt.Sprintf("/proc/self/ns/%s", ns.name))
				if own != tc.wantOwn {
					t.Errorf("%s namespace is new: %v, want %v", ns.name, own, tc.wantOwn)
				}
			}
			// Pinning again keeps what is pinned.
			again, err := tc.pin(dir)
			if err != nil || nsID(t, again.IPC) != nsID(t, p.IPC) {
				t.Errorf("pinning again: %v, IPC namespace %d, want %d kept", err, nsID(t, again.IPC), nsID(t, p.IPC))
			}
			for i := 0; i < 2; i++ { // safe to repeat
				if err := Release(dir); err != nil {
					t.Fatalf("release %d: %v", i+1, err)
				}
			}
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Errorf("%s left after release: %v", dir, err)
			}
		})
	}
}

// Release leaves a directory that holds something else, and tolerates
// one that was never pinned.
func TestReleaseNothingPinned(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ns")
	if err := Release(dir); err != nil {
		t.Fatalf("release of nothing: %v", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "other"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Release(dir); err != nil {
		t.Fatalf("release: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "other")); err != nil {
		t.Errorf("release removed what it did not pin: %v", err)
	}
}
