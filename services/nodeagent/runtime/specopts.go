package runtime

import (
	"context"
	"fmt"

	"github.com/containerd/containerd/v2/core/containers"
	"github.com/containerd/containerd/v2/pkg/oci"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// WithSandboxNamespaces joins a container to its pod's namespaces, pinned
// at these paths: network, IPC and UTS (which holds the pod's hostname).
// The pause container joins them as the app containers do, so no
// container depends on another's process.
func WithSandboxNamespaces(netnsPath, ipcPath, utsPath string) oci.SpecOpts {
	return oci.Compose(
		oci.WithLinuxNamespace(specs.LinuxNamespace{Type: specs.NetworkNamespace, Path: netnsPath}),
		oci.WithLinuxNamespace(specs.LinuxNamespace{Type: specs.IPCNamespace, Path: ipcPath}),
		oci.WithLinuxNamespace(specs.LinuxNamespace{Type: specs.UTSNamespace, Path: utsPath}),
	)
}

// ShimGroupAnnotation groups containers into one shim: containerd's runc v2
// shim serves every container whose spec carries the same value (the CRI
// plugin does the same with io.kubernetes.cri.sandbox-id).
const ShimGroupAnnotation = "io.containerd.runc.v2.group"

// WithShimGroup puts the container in the shim of group (a pod's sandbox
// id): the pod's first task create starts the shim and the others reuse
// it, so a pod costs one shim process, not one per container. Task
// creates of one group must not run at once: two shim starts racing for
// the group's socket can spawn two shims (the runc v2 shim's start
// removes a socket it cannot connect to yet), and the shim serialises
// creates anyway.
func WithShimGroup(group string) oci.SpecOpts {
	return oci.WithAnnotations(map[string]string{ShimGroupAnnotation: group})
}

// WithLimits applies CPU (millicores, as a CFS quota over a 100ms period)
// and memory (bytes) limits; zero means unlimited.
func WithLimits(cpuMillis, memoryBytes int64) oci.SpecOpts {
	return func(ctx context.Context, c oci.Client, ctr *containers.Container, s *oci.Spec) error {
		if cpuMillis > 0 {
			const period = 100000
			if err := oci.WithCPUCFS(cpuMillis*period/1000, period)(ctx, c, ctr, s); err != nil {
				return err
			}
		}
		if memoryBytes > 0 {
			if err := oci.WithMemoryLimit(uint64(memoryBytes))(ctx, c, ctr, s); err != nil {
				return err
			}
		}
		return nil
	}
}

// WithArgs sets the process arguments the Kubernetes way: command replaces
// the image's entrypoint, args replace its cmd.
func WithArgs(entrypoint, cmd, command, args []string) oci.SpecOpts {
	return func(ctx context.Context, c oci.Client, ctr *containers.Container, s *oci.Spec) error {
		var argv []string
		switch {
		case len(command) > 0:
			argv = append(append(argv, command...), args...)
		case len(args) > 0:
			argv = append(append(argv, entrypoint...), args...)
		default:
			argv = append(append(argv, entrypoint...), cmd...)
		}
		if len(argv) == 0 {
			return fmt.Errorf("runtime: no command: the image has no entrypoint or cmd and the container sets none")
		}
		return oci.WithProcessArgs(argv...)(ctx, c, ctr, s)
	}
}
