package pods

import (
	"fmt"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/services/xds/bootstrap"
)

// Where mesh pods find their xDS bootstraps (read-only bind mounts of
// <pod dir>/mesh/xds and <pod dir>/mesh/envoy).
const (
	MeshBootstrapDir   = "/etc/shoal/xds"
	MeshBootstrapPath  = MeshBootstrapDir + "/bootstrap.json"
	EnvoyBootstrapDir  = "/etc/shoal/envoy"
	EnvoyBootstrapPath = EnvoyBootstrapDir + "/envoy.json"
	// EnvoyContainerName is the sidecar added to mesh pods with --envoy-image.
	EnvoyContainerName = "shoal-envoy"
)

// configErr is a pod this agent cannot run as configured: the container
// waits with CreateContainerConfigError (retried on the back-off schedule).
type configErr struct{ error }

func (e configErr) Unwrap() error { return e.error }

func meshEnabled(pod *shoalv1.Pod) bool { return pod.GetSpec().GetMesh().GetEnabled() }

// containersOf is what runs for a pod: its spec containers and, for a mesh
// pod on an agent with an Envoy image, the Envoy sidecar.
func (m *Manager) containersOf(pod *shoalv1.Pod) []*shoalv1.Container {
	cs := pod.GetSpec().GetContainers()
	if !meshEnabled(pod) || m.cfg.EnvoyImage == "" {
		return cs
	}
	for _, c := range cs {
		if c.GetName() == EnvoyContainerName {
			return cs // the pod brings its own
		}
	}
	return append(append([]*shoalv1.Container(nil), cs...), envoySidecar(m.cfg.EnvoyImage))
}

func envoySidecar(image string) *shoalv1.Container {
	return &shoalv1.Container{
		Name:    EnvoyContainerName,
		Image:   image,
		Command: []string{"envoy", "-c", EnvoyBootstrapPath, "--log-level", "warn"},
	}
}

// meshSetup writes the container's xDS bootstrap into the pod's directory
// and returns its read-only mount and environment: GRPC_XDS_BOOTSTRAP for
// app containers (a grpc-go binary importing the xds package joins the
// mesh as is), the Envoy bootstrap for the sidecar. Nothing for pods
// without spec.mesh.enabled. The node id carries the pod IP, so it runs
// once the sandbox is up; rewriting the same file is harmless.
func (m *Manager) meshSetup(pod *shoalv1.Pod, uid, podIP string, c *shoalv1.Container) ([]specs.Mount, []string, error) {
	if !meshEnabled(pod) {
		return nil, nil, nil
	}
	if m.cfg.XDSAddress == "" {
		return nil, nil, configErr{fmt.Errorf("pod %s/%s has spec.mesh.enabled but node agent %s has no xDS server (--xds-address)",
			pod.GetMetadata().GetNamespace(), pod.GetMetadata().GetName(), m.cfg.NodeName)}
	}
	name, ns := pod.GetMetadata().GetName(), pod.GetMetadata().GetNamespace()
	var (
		doc       []byte
		err       error
		dir, file string
		dest      string
	)
	sidecar := c.GetName() == EnvoyContainerName && m.cfg.EnvoyImage != "" && c.GetImage() == m.cfg.EnvoyImage
	if sidecar {
		id := bootstrap.NodeID(bootstrap.Sidecar, podIP, name, ns, m.cfg.ClusterDomain)
		doc, err = bootstrap.Envoy(m.cfg.XDSAddress, id, false, bootstrap.Options{})
		dir, file, dest = filepath.Join(m.podDir(uid), "mesh", "envoy"), filepath.Base(EnvoyBootstrapPath), EnvoyBootstrapDir
	} else {
		id := bootstrap.NodeID(bootstrap.Proxyless, podIP, name, ns, m.cfg.ClusterDomain)
		doc, err = bootstrap.GRPC(m.cfg.XDSAddress, id, bootstrap.Options{})
		dir, file, dest = filepath.Join(m.podDir(uid), "mesh", "xds"), filepath.Base(MeshBootstrapPath), MeshBootstrapDir
	}
	if err != nil {
		return nil, nil, configErr{err}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, err
	}
	if err := writeFileAtomic(filepath.Join(dir, file), doc); err != nil {
		return nil, nil, err
	}
	mounts := []specs.Mount{{Destination: dest, Type: "bind", Source: dir, Options: []string{"rbind", "rprivate", "ro"}}}
	if sidecar {
		return mounts, nil, nil
	}
	for _, e := range c.GetEnv() {
		if e.GetName() == bootstrap.EnvVar {
			return mounts, nil, nil // the container's own setting wins
		}
	}
	return mounts, []string{bootstrap.EnvVar + "=" + MeshBootstrapPath}, nil
}

func writeFileAtomic(path string, b []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
