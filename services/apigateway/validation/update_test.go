package validation

import (
	"testing"

	"google.golang.org/protobuf/proto"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/sdk/go/kinds"
)

// runUpdateCases runs Update(old, changed copy of old) for each case; before
// changes old when the case needs a different stored object.
func runUpdateCases[T kinds.Object](t *testing.T, base func() T, cases []updateCase[T]) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			old := base()
			if tc.before != nil {
				tc.before(old)
			}
			obj := proto.Clone(old).(T)
			tc.mutate(obj)
			expectErrs(t, Update(old, obj), tc.want...)
		})
	}
}

type updateCase[T kinds.Object] struct {
	name   string
	before func(T)
	mutate func(T)
	want   []string
}

func TestUpdatePod(t *testing.T) {
	toleration := &shoalv1.Toleration{Key: "new", Operator: shoalv1.TolerationOperator_TOLERATION_OPERATOR_EXISTS}
	runUpdateCases(t, validPod, []updateCase[*shoalv1.Pod]{
		{name: "name immutable", mutate: func(p *shoalv1.Pod) { p.Metadata.Name = "web-2" }, want: []string{invalid + "metadata.name"}},
		{name: "namespace immutable", mutate: func(p *shoalv1.Pod) { p.Metadata.Namespace = "prod" }, want: []string{invalid + "metadata.namespace"}},
		{name: "labels may change", mutate: func(p *shoalv1.Pod) { p.Metadata.Labels["track"] = "canary" }},
		{name: "status is not compared", mutate: func(p *shoalv1.Pod) { p.Status = nil }},
		{name: "image may change", mutate: func(p *shoalv1.Pod) {
			p.Spec.Containers[0].Image, p.Spec.Containers[1].Image = "greeter:2.0", "busybox:1.36"
		}},
		{name: "tolerations may be appended", mutate: func(p *shoalv1.Pod) {
			p.Spec.Tolerations = append(p.Spec.Tolerations, toleration)
		}},
		{name: "tolerations may not change", mutate: func(p *shoalv1.Pod) {
			p.Spec.Tolerations[0].Value = "api"
		}, want: []string{forbidden + "spec.tolerations"}},
		{name: "tolerations may not be removed", mutate: func(p *shoalv1.Pod) {
			p.Spec.Tolerations = p.Spec.Tolerations[1:]
		}, want: []string{forbidden + "spec.tolerations"}},
		{name: "tolerations may not be inserted", mutate: func(p *shoalv1.Pod) {
			p.Spec.Tolerations = append([]*shoalv1.Toleration{toleration}, p.Spec.Tolerations...)
		}, want: []string{forbidden + "spec.tolerations"}},
		{name: "container fields other than image", mutate: func(p *shoalv1.Pod) {
			p.Spec.Containers[0].Env = nil
			p.Spec.Containers[1].Ports[0].HostPort = 9090
		}, want: []string{forbidden + c0 + ".env", forbidden + c1 + ".ports"}},
		{name: "containers may not be added", mutate: func(p *shoalv1.Pod) {
			p.Spec.Containers = append(p.Spec.Containers, &shoalv1.Container{Name: "third", Image: "x"})
		}, want: []string{forbidden + "spec.containers"}},
		{name: "other spec fields", mutate: func(p *shoalv1.Pod) {
			p.Spec.RestartPolicy = shoalv1.RestartPolicy_RESTART_POLICY_NEVER
			p.Spec.Volumes = nil
			p.Spec.TerminationGracePeriodSeconds = ptr[int64](5)
			p.Spec.Mesh = nil
		}, want: []string{
			forbidden + "spec.restart_policy", forbidden + "spec.volumes",
			forbidden + "spec.termination_grace_period_seconds", forbidden + "spec.mesh",
		}},
		{name: "grace period unset is a change", mutate: func(p *shoalv1.Pod) { p.Spec.TerminationGracePeriodSeconds = nil },
			want: []string{forbidden + "spec.termination_grace_period_seconds"}},
		{name: "node name may be set once", mutate: func(p *shoalv1.Pod) { p.Spec.NodeName = "node-1" }},
		{name: "node name may not change",
			before: func(p *shoalv1.Pod) { p.Spec.NodeName = "node-1" },
			mutate: func(p *shoalv1.Pod) { p.Spec.NodeName = "node-2" },
			want:   []string{invalid + "spec.node_name"}},
		{name: "node name may not be cleared",
			before: func(p *shoalv1.Pod) { p.Spec.NodeName = "node-1" },
			mutate: func(p *shoalv1.Pod) { p.Spec.NodeName = "" },
			want:   []string{invalid + "spec.node_name"}},
		{name: "nil container element",
			before: func(p *shoalv1.Pod) { p.Spec.Containers[1] = nil },
			mutate: func(p *shoalv1.Pod) { p.Spec.Containers[1] = &shoalv1.Container{} }},
		{name: "nil container element replaced",
			before: func(p *shoalv1.Pod) { p.Spec.Containers[1] = nil },
			mutate: func(p *shoalv1.Pod) { p.Spec.Containers[1] = &shoalv1.Container{Name: "x", Image: "y"} },
			want:   []string{forbidden + c1 + ".name"}},
		{name: "spec removed", mutate: func(p *shoalv1.Pod) { p.Spec = nil }, want: []string{
			forbidden + "spec.containers", forbidden + "spec.tolerations", forbidden + "spec.node_selector",
			forbidden + "spec.affinity", forbidden + "spec.termination_grace_period_seconds", forbidden + "spec.volumes",
			forbidden + "spec.mesh", forbidden + "spec.hostname", forbidden + "spec.priority",
		}},
	})
}

func TestUpdateOtherKinds(t *testing.T) {
	runUpdateCases(t, validService, []updateCase[*shoalv1.Service]{
		{name: "cluster ip immutable", mutate: func(s *shoalv1.Service) { s.Spec.ClusterIp = "10.96.0.11" }, want: []string{invalid + "spec.cluster_ip"}},
		{name: "cluster ip to headless", mutate: func(s *shoalv1.Service) { s.Spec.ClusterIp = "None" }, want: []string{invalid + "spec.cluster_ip"}},
		{name: "empty cluster ip keeps it", mutate: func(s *shoalv1.Service) { s.Spec.ClusterIp = "" }},
		{name: "cluster ip set once",
			before: func(s *shoalv1.Service) { s.Spec.ClusterIp = "" },
			mutate: func(s *shoalv1.Service) { s.Spec.ClusterIp = "10.96.0.12" }},
		{name: "ports may change", mutate: func(s *shoalv1.Service) { s.Spec.Ports = s.Spec.Ports[:1] }},
		{name: "name immutable", mutate: func(s *shoalv1.Service) { s.Metadata.Name = "other" }, want: []string{invalid + "metadata.name"}},
	})
	runUpdateCases(t, validReplicaSet, []updateCase[*shoalv1.ReplicaSet]{
		{name: "selector immutable", mutate: func(r *shoalv1.ReplicaSet) { r.Spec.Selector.MatchLabels["tier"] = "front" }, want: []string{invalid + "spec.selector"}},
		{name: "replicas and template may change", mutate: func(r *shoalv1.ReplicaSet) {
			r.Spec.Replicas = ptr[int32](5)
			r.Spec.Template.Spec.Containers[0].Image = "greeter:2"
		}},
	})
	runUpdateCases(t, validDeployment, []updateCase[*shoalv1.Deployment]{
		{name: "selector immutable", mutate: func(d *shoalv1.Deployment) { d.Spec.Selector = nil }, want: []string{invalid + "spec.selector"}},
		{name: "strategy may change", mutate: func(d *shoalv1.Deployment) { d.Spec.Strategy = nil; d.Spec.Paused = true }},
	})
	runUpdateCases(t, validNode, []updateCase[*shoalv1.Node]{
		{name: "pod cidr immutable", mutate: func(n *shoalv1.Node) { n.Spec.PodCidr = "10.244.2.0/24" }, want: []string{invalid + "spec.pod_cidr"}},
		{name: "pod cidr set once",
			before: func(n *shoalv1.Node) { n.Spec.PodCidr = "" },
			mutate: func(n *shoalv1.Node) { n.Spec.PodCidr = "10.244.2.0/24" }},
		{name: "taints may change", mutate: func(n *shoalv1.Node) { n.Spec.Taints = nil; n.Spec.Unschedulable = true }},
	})
	runUpdateCases(t, validNamespace, []updateCase[*shoalv1.Namespace]{
		{name: "name immutable", mutate: func(n *shoalv1.Namespace) { n.Metadata.Name = "team-b" }, want: []string{invalid + "metadata.name"}},
	})
	t.Run("kinds differ", func(t *testing.T) {
		expectErrs(t, Update(validPod(), validNode()), internal+"<root>")
	})
}
