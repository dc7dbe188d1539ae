package runtime

import (
	"context"
	"fmt"

	"github.com/containerd/containerd/v2/core/containers"
	"github.com/containerd/containerd/v2/pkg/oci"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// WithSandboxNamespaces joins a container to its pod sandbox: the pinned
// network namespace, and the IPC and UTS namespaces of the pause process.
func WithSandboxNamespaces(netnsPath string, pausePid uint32) oci.SpecOpts {
	return oci.Compose(
		oci.WithLinuxNamespace(specs.LinuxNamespace{Type: specs.NetworkNamespace, Path: netnsPath}),
		oci.WithLinuxNamespace(specs.LinuxNamespace{Type: specs.IPCNamespace, Path: fmt.Sprintf("/proc/%d/ns/ipc", pausePid)}),
		oci.WithLinuxNamespace(specs.LinuxNamespace{Type: specs.UTSNamespace, Path: fmt.Sprintf("/proc/%d/ns/uts", pausePid)}),
	)
}

// WithSandbox makes a pause container: its own network namespace (pinned at
// netnsPath) and a hostname.
func WithSandbox(netnsPath, hostname string) oci.SpecOpts {
	return oci.Compose(
		oci.WithLinuxNamespace(specs.LinuxNamespace{Type: specs.NetworkNamespace, Path: netnsPath}),
		oci.WithHostname(hostname),
	)
}

// ShimGroupAnnotation groups containers into one shim: containerd's runc v2
// shim serves every container whose spec carries the same value (the CRI
// plugin does the same with io.kubernetes.cri.sandbox-id).
const ShimGroupAnnotation = "io.containerd.runc.v2.group"

// WithShimGroup puts the container in the shim of group (a pod's sandbox
// id): the pause container's task starts the shim and the pod's app
// containers reuse it, so a pod costs one shim process, not one per
// container, and an app container's task create skips the shim spawn.
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
