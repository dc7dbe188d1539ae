package scheduler_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/observability"
	"github.com/shoalmesh/shoal/services/apigateway/gatewaytest"
	"github.com/shoalmesh/shoal/services/scheduler/framework"
	"github.com/shoalmesh/shoal/services/scheduler/plugins"
	"github.com/shoalmesh/shoal/services/scheduler/scheduler"
)

// gpuOnly is an out-of-tree filter, as an embedder would write one: it
// passes only nodes labelled example.com/gpu=true.
type gpuOnly struct{}

const gpuOnlyName = "GPUOnly"

func (gpuOnly) Name() string { return gpuOnlyName }

func (gpuOnly) Filter(_ context.Context, _ *framework.CycleState, _ *framework.PodInfo, n *framework.NodeInfo) *framework.Status {
	if n.Labels["example.com/gpu"] == "true" {
		return nil
	}
	return framework.NewStatus(framework.UnschedulableAndUnresolvable, "no gpu").WithPlugin(gpuOnlyName)
}

func withGPUOnly() []scheduler.Option {
	profile := plugins.DefaultProfile()
	profile.Filters = append(profile.Filters, gpuOnlyName)
	return []scheduler.Option{
		scheduler.WithRegistry(framework.Registry{gpuOnlyName: func() (framework.Plugin, error) { return gpuOnly{}, nil }}),
		scheduler.WithProfile(profile),
	}
}

// TestOutOfTreePlugin: a filter added with WithRegistry and enabled with
// WithProfile decides where pods go (the large node would win every score
// without it) and names its reason when no node passes.
func TestOutOfTreePlugin(t *testing.T) {
	env := gatewaytest.Start(t)
	conn := env.Conn
	createNodes(t, conn,
		node("big", 16000, 64*gib, 110),
		node("gpu", 2000, 4*gib, 110, func(n *shoalv1.Node) {
			if n.Metadata.Labels == nil {
				n.Metadata.Labels = map[string]string{}
			}
			n.Metadata.Labels["example.com/gpu"] = "true"
		}),
	)
	bl := watchBinds(t, conn, "default")
	startScheduler(t, testConfig(env), withGPUOnly()...)

	for i := range 3 {
		createPods(t, conn, pod("default", fmt.Sprintf("train-%d", i), 500, 512*mib))
	}
	waitFor(t, "3 pods bound", func() (bool, string) {
		b := bl.bound()
		return len(b) == 3, fmt.Sprintf("bound: %v", b)
	})
	for key, n := range bl.bound() {
		if n != "gpu" {
			t.Errorf("%s bound to %s, want gpu (the only node GPUOnly passes)", key, n)
		}
	}
	// The gpu node's cpu is now spent (3 x 500 of 2000); a pod of 1000
	// fits only the big node, which GPUOnly rejects.
	createPods(t, conn, pod("default", "train-big", 1000, 512*mib))
	msg := waitUnschedulable(t, conn, "default", "train-big")
	if !strings.Contains(msg, "no gpu") || !strings.Contains(msg, "insufficient cpu") {
		t.Errorf("PodScheduled message %q: want the plugin's reason (no gpu) for big and insufficient cpu for gpu", msg)
	}
	bl.check(t)
}

// TestPluginOptionsRejected: a name that clashes with an in-tree plugin,
// and a profile naming a plugin nobody registered, fail Start.
func TestPluginOptionsRejected(t *testing.T) {
	env := gatewaytest.Start(t)
	obs, err := observability.Setup(context.Background(), observability.NewConfig("scheduler-test"), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = obs.Shutdown(context.Background()) })
	unknown := plugins.DefaultProfile()
	unknown.Filters = append(unknown.Filters, "NoSuchPlugin")
	for _, tc := range []struct {
		name string
		opts []scheduler.Option
		want string
		dup  bool
	}{
		{"duplicate name", []scheduler.Option{scheduler.WithRegistry(framework.Registry{
			plugins.NodeResourcesFitName: func() (framework.Plugin, error) { return gpuOnly{}, nil },
		})}, plugins.NodeResourcesFitName, true},
		{"unknown plugin in profile", []scheduler.Option{scheduler.WithProfile(unknown)}, "NoSuchPlugin", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := scheduler.Start(context.Background(), testConfig(env), obs, tc.opts...)
			if err == nil {
				s.Close()
				t.Fatal("Start succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not name %q", err, tc.want)
			}
			if tc.dup && !errors.Is(err, framework.ErrDuplicatePlugin) {
				t.Errorf("error %v is not ErrDuplicatePlugin", err)
			}
		})
	}
}
