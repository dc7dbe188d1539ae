package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/sdk/go/client"
)

// nsReport is what each container of the namespace tests prints: the
// ids of its IPC and UTS namespaces and its hostname, on one line.
const nsReport = `echo "ns ipc=$(readlink /proc/self/ns/ipc) uts=$(readlink /proc/self/ns/uts) host=$(hostname)"; exec sleep 100000`

// The containers of a pod, the pause container among them, share the
// pod's IPC and UTS namespaces, which the agent pins as files in the pod's
// directory; the hostname is the pod's name. A restarted agent re-adopts
// the pod with them, and deleting the pod unmounts and removes them.
func TestPodContainersShareIPCAndUTS(t *testing.T) {
	e := newEnv(t)
	created := e.createPod(pod("nsshare", shell("a", nsReport), shell("b", nsReport)))
	uid := created.GetMetadata().GetUid()
	e.waitPod("nsshare", "Running and Ready", isRunningReady)

	nsDir := filepath.Join(e.cfg.StateDir, "pods", uid, "ns")
	pinned := map[string]string{}
	for _, ns := range []string{"ipc", "uts"} {
		var st syscall.Stat_t
		if err := syscall.Stat(filepath.Join(nsDir, ns), &st); err != nil {
			t.Fatalf("pinned %s namespace: %v", ns, err)
		}
		// A namespace file's inode number is the namespace's id.
		pinned[ns] = fmt.Sprintf("%s:[%d]", ns, st.Ino)
	}
	want := fmt.Sprintf("ns ipc=%s uts=%s host=nsshare", pinned["ipc"], pinned["uts"])
	ctx := e.ctx()
	for _, c := range []string{"a", "b"} {
		var lines []string
		waitFor(t, "namespace report of "+c, func() bool {
			var err error
			lines, err = e.logs(ctx, &shoalv1.PodLogsRequest{Namespace: "default", Name: "nsshare", Container: c})
			return err == nil && len(lines) > 0
		})
		if !slices.Contains(lines, want) {
			t.Errorf("container %s reports %q, want %q (the pinned namespaces)", c, lines, want)
		}
	}
	// The pause container's task comes after the status write.
	var pause uint32
	waitFor(t, "the pause process", func() bool { pause = e.sandboxPidOrZero(uid); return pause != 0 })
	for _, ns := range []string{"ipc", "uts"} {
		got, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", pause, ns))
		if err != nil || got != pinned[ns] {
			t.Errorf("pause process %s namespace %q (%v), want %q", ns, got, err, pinned[ns])
		}
		host, _ := os.Readlink("/proc/self/ns/" + ns)
		if host == pinned[ns] {
			t.Errorf("the pod shares the host's %s namespace", ns)
		}
	}

	// A restarted agent adopts the pod as it runs, and its teardown still
	// finds the pinned namespaces. Here the agent stopped before the pause
	// container's task existed (it is made after the containers' and the
	// status write): the new agent makes it, in the pod's namespaces,
	// without touching the containers.
	e.stopAgent()
	e.deleteSandboxTask(uid)
	e.startAgent()
	var newPause uint32
	waitFor(t, "a new pause process", func() bool {
		newPause = e.sandboxPidOrZero(uid)
		return newPause != 0 && newPause != pause
	})
	for _, ns := range []string{"ipc", "uts"} {
		if got, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", newPause, ns)); err != nil || got != pinned[ns] {
			t.Errorf("new pause process %s namespace %q (%v), want %q", ns, got, err, pinned[ns])
		}
	}
	after := e.waitPod("nsshare", "Running and Ready after the agent's restart", isRunningReady)
	for _, cs := range after.GetStatus().GetContainerStatuses() {
		if cs.GetRestartCount() != 0 {
			t.Errorf("container %s restarted across the agent's restart", cs.GetName())
		}
	}
	if _, err := e.pods.Delete(e.ctx(), "default", "nsshare", client.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	e.waitGone("nsshare")
	assertNothingLeft(t, e)
	if _, err := os.Stat(nsDir); !os.IsNotExist(err) {
		t.Errorf("pinned namespaces left at %s: %v", nsDir, err)
	}
	if m, _ := os.ReadFile("/proc/self/mountinfo"); strings.Contains(string(m), nsDir) {
		t.Errorf("a pinned namespace is still mounted under %s", nsDir)
	}
}
