package pods

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	"google.golang.org/grpc/xds"
	"google.golang.org/protobuf/encoding/protojson"

	// Types referenced from the Envoy bootstrap's typed_extension_protocol_options.
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/services/nodeagent/runtime"
)

func meshPod(enabled bool, ctrs ...*shoalv1.Container) *shoalv1.Pod {
	return &shoalv1.Pod{
		Metadata: &shoalv1.ObjectMeta{Name: "client-0", Namespace: "shop", Uid: "u1"},
		Spec:     &shoalv1.PodSpec{Containers: ctrs, Mesh: &shoalv1.MeshSpec{Enabled: enabled}},
	}
}

func TestMeshOffLeavesPodAlone(t *testing.T) {
	m := &Manager{cfg: Config{PodDir: t.TempDir(), XDSAddress: "10.88.0.1:15010", EnvoyImage: "envoy:1"}}
	p := meshPod(false, &shoalv1.Container{Name: "app", Image: "app:1"})
	if got := m.containersOf(p); len(got) != 1 {
		t.Errorf("containers = %d, want 1 (no sidecar without mesh)", len(got))
	}
	mounts, env, err := m.meshSetup(p, "u1", "10.88.0.5", p.Spec.Containers[0])
	if err != nil || mounts != nil || env != nil {
		t.Errorf("meshSetup = %v, %v, %v; want nothing", mounts, env, err)
	}
	if _, err := os.Stat(filepath.Join(m.cfg.PodDir, "u1", "mesh")); !os.IsNotExist(err) {
		t.Errorf("mesh dir written for a pod without mesh: %v", err)
	}
}

func TestMeshWithoutXDSAddressWaits(t *testing.T) {
	m := &Manager{cfg: Config{PodDir: t.TempDir(), NodeName: "node-a"}}
	p := meshPod(true, &shoalv1.Container{Name: "app", Image: "app:1"})
	_, _, err := m.meshSetup(p, "u1", "10.88.0.5", p.Spec.Containers[0])
	if err == nil {
		t.Fatal("meshSetup without an xds address: no error")
	}
	if r := startErrReason(err); r != "CreateContainerConfigError" {
		t.Errorf("reason = %s, want CreateContainerConfigError", r)
	}
	if !strings.Contains(err.Error(), "--xds-address") {
		t.Errorf("message does not say what is missing: %v", err)
	}
	// What the pod shows: Waiting with that reason and message.
	st := &podState{sandbox: &runtime.Task{}, containers: map[string]*ctrState{
		"app": {name: "app", waitReason: startErrReason(err), waitMsg: err.Error()},
	}}
	s := m.buildStatus(p, st)
	w := s.GetContainerStatuses()[0].GetState().GetWaiting()
	if w.GetReason() != "CreateContainerConfigError" || w.GetMessage() != err.Error() {
		t.Errorf("status = %v", s.GetContainerStatuses()[0])
	}
}

func TestMeshBootstrapMountAndEnv(t *testing.T) {
	m := &Manager{cfg: Config{PodDir: t.TempDir(), XDSAddress: "10.88.0.1:15010"}}
	app := &shoalv1.Container{Name: "app", Image: "app:1", Env: []*shoalv1.EnvVar{{Name: "A", Value: "b"}}}
	p := meshPod(true, app)
	if got := m.containersOf(p); len(got) != 1 {
		t.Fatalf("containers = %d, want 1 (no Envoy image, no sidecar)", len(got))
	}
	mounts, env, err := m.meshSetup(p, "u1", "10.88.0.5", app)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"GRPC_XDS_BOOTSTRAP=" + MeshBootstrapPath}; !slices.Equal(env, want) {
		t.Errorf("env = %v, want %v", env, want)
	}
	dir := filepath.Join(m.cfg.PodDir, "u1", "mesh", "xds")
	if len(mounts) != 1 || mounts[0].Source != dir || mounts[0].Destination != MeshBootstrapDir ||
		mounts[0].Type != "bind" || !slices.Contains(mounts[0].Options, "ro") {
		t.Errorf("mounts = %+v, want %s read-only at %s", mounts, dir, MeshBootstrapDir)
	}
	if MeshBootstrapPath != filepath.Join(MeshBootstrapDir, "bootstrap.json") {
		t.Fatalf("bootstrap path %s is not in the mounted dir", MeshBootstrapPath)
	}
	doc, err := os.ReadFile(filepath.Join(dir, "bootstrap.json"))
	if err != nil {
		t.Fatal(err)
	}
	var b struct {
		XDSServers []struct {
			ServerURI string `json:"server_uri"`
		} `json:"xds_servers"`
		Node struct {
			ID string `json:"id"`
		} `json:"node"`
	}
	if err := json.Unmarshal(doc, &b); err != nil {
		t.Fatal(err)
	}
	if len(b.XDSServers) != 1 || b.XDSServers[0].ServerURI != "10.88.0.1:15010" {
		t.Errorf("xds servers = %+v", b.XDSServers)
	}
	if want := "proxyless~10.88.0.5~client-0.shop~shop.svc.cluster.local"; b.Node.ID != want {
		t.Errorf("node id = %q, want %q", b.Node.ID, want)
	}
	if _, err := xds.NewXDSResolverWithConfigForTesting(doc); err != nil {
		t.Errorf("grpc-go rejects the bootstrap: %v\n%s", err, doc)
	}

	// The container's own GRPC_XDS_BOOTSTRAP wins; the file is still mounted.
	own := &shoalv1.Container{Name: "own", Env: []*shoalv1.EnvVar{{Name: "GRPC_XDS_BOOTSTRAP", Value: "/mine.json"}}}
	mounts, env, err = m.meshSetup(p, "u1", "10.88.0.5", own)
	if err != nil || env != nil || len(mounts) != 1 {
		t.Errorf("own bootstrap: mounts %v env %v err %v", mounts, env, err)
	}
}

func TestMeshEnvoySidecar(t *testing.T) {
	m := &Manager{cfg: Config{PodDir: t.TempDir(), XDSAddress: "10.88.0.1:15010", EnvoyImage: "envoyproxy/envoy:v1.31"}}
	app := &shoalv1.Container{Name: "app", Image: "app:1"}
	p := meshPod(true, app)
	ctrs := m.containersOf(p)
	if len(ctrs) != 2 || ctrs[0] != app {
		t.Fatalf("containers = %v, want app + sidecar", ctrs)
	}
	if len(p.Spec.Containers) != 1 {
		t.Fatal("containersOf changed the pod's spec")
	}
	sc := ctrs[1]
	if sc.GetName() != EnvoyContainerName || sc.GetImage() != "envoyproxy/envoy:v1.31" {
		t.Errorf("sidecar = %v", sc)
	}
	if want := []string{"envoy", "-c", EnvoyBootstrapPath}; !slices.Equal(sc.GetCommand()[:3], want) {
		t.Errorf("sidecar command = %v, want %v...", sc.GetCommand(), want)
	}
	mounts, env, err := m.meshSetup(p, "u1", "10.88.0.5", sc)
	if err != nil {
		t.Fatal(err)
	}
	if env != nil {
		t.Errorf("sidecar env = %v, want none", env)
	}
	dir := filepath.Join(m.cfg.PodDir, "u1", "mesh", "envoy")
	if len(mounts) != 1 || mounts[0].Source != dir || mounts[0].Destination != EnvoyBootstrapDir || !slices.Contains(mounts[0].Options, "ro") {
		t.Errorf("mounts = %+v", mounts)
	}
	doc, err := os.ReadFile(filepath.Join(dir, filepath.Base(EnvoyBootstrapPath)))
	if err != nil {
		t.Fatal(err)
	}
	var b bootstrapv3.Bootstrap
	if err := protojson.Unmarshal(doc, &b); err != nil {
		t.Fatalf("not an Envoy bootstrap: %v\n%s", err, doc)
	}
	if err := b.ValidateAll(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if want := "sidecar~10.88.0.5~client-0.shop~shop.svc.cluster.local"; b.GetNode().GetId() != want {
		t.Errorf("node id = %q, want %q", b.GetNode().GetId(), want)
	}
	sa := b.GetStaticResources().GetClusters()[0].GetLoadAssignment().GetEndpoints()[0].GetLbEndpoints()[0].GetEndpoint().GetAddress().GetSocketAddress()
	if sa.GetAddress() != "10.88.0.1" || sa.GetPortValue() != 15010 {
		t.Errorf("xds cluster address = %v", sa)
	}
	// The app container of the same pod still gets the proxyless bootstrap.
	if _, env, _ := m.meshSetup(p, "u1", "10.88.0.5", app); len(env) != 1 {
		t.Errorf("app env = %v", env)
	}
	// The sidecar shows in the status like any container.
	st := &podState{sandbox: &runtime.Task{}, containers: map[string]*ctrState{}}
	if s := m.buildStatus(p, st); len(s.GetContainerStatuses()) != 2 || s.GetContainerStatuses()[1].GetName() != EnvoyContainerName {
		t.Errorf("statuses = %v", s.GetContainerStatuses())
	}
}
