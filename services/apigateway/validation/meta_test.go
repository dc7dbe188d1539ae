package validation

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"k8s.io/apimachinery/pkg/util/validation/field"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/sdk/go/kinds"
)

func TestObjectValidEveryKind(t *testing.T) {
	objs := validObjects()
	for _, k := range kinds.All() {
		t.Run(k.Name, func(t *testing.T) {
			obj, ok := objs[k.Name]
			if !ok {
				t.Fatalf("no valid %s in the test fixtures", k.Name)
			}
			expectErrs(t, Object(obj))
			// Status is valid too (or empty).
			expectErrs(t, Status(obj))
			// An unchanged update is valid.
			expectErrs(t, Update(obj, proto.Clone(obj).(kinds.Object)))
		})
	}
}

func TestObjectNil(t *testing.T) {
	expectErrs(t, Object(nil), required+"<root>")
	expectErrs(t, Object((*shoalv1.Pod)(nil)), required+"<root>")
	expectErrs(t, Status(nil), required+"<root>")
	expectErrs(t, Update(nil, validPod()), required+"<root>")
}

func TestObjectMeta(t *testing.T) {
	runObjectCases(t, validPod, []mutation[*shoalv1.Pod]{
		{"nil metadata", func(p *shoalv1.Pod) { p.Metadata = nil }, []string{required + "metadata.name", required + "metadata.namespace"}},
		{"name required", func(p *shoalv1.Pod) { p.Metadata.Name = "" }, []string{required + "metadata.name"}},
		{"generate_name instead of name", func(p *shoalv1.Pod) { p.Metadata.Name, p.Metadata.GenerateName = "", "web-" }, nil},
		{"generate_name without dash", func(p *shoalv1.Pod) { p.Metadata.Name, p.Metadata.GenerateName = "", "web" }, nil},
		{"generate_name invalid", func(p *shoalv1.Pod) { p.Metadata.GenerateName = "Web_" }, []string{invalid + "metadata.generate_name"}},
		{"generate_name invalid without name", func(p *shoalv1.Pod) { p.Metadata.Name, p.Metadata.GenerateName = "", "-web-" }, []string{invalid + "metadata.generate_name"}},
		{"name not a subdomain", func(p *shoalv1.Pod) { p.Metadata.Name = "Web_1" }, []string{invalid + "metadata.name"}},
		{"name with dots is a subdomain", func(p *shoalv1.Pod) { p.Metadata.Name = "web.1" }, nil},
		{"name too long", func(p *shoalv1.Pod) { p.Metadata.Name = strings.Repeat("a", 254) }, []string{invalid + "metadata.name"}},
		{"name of 253", func(p *shoalv1.Pod) { p.Metadata.Name = strings.Repeat("a.", 126) + "a" }, nil},
		{"namespace required", func(p *shoalv1.Pod) { p.Metadata.Namespace = "" }, []string{required + "metadata.namespace"}},
		{"namespace not a label", func(p *shoalv1.Pod) { p.Metadata.Namespace = "team.a" }, []string{invalid + "metadata.namespace"}},
		{"label key invalid", func(p *shoalv1.Pod) { p.Metadata.Labels["bad key"] = "x" }, []string{invalid + "metadata.labels"}},
		{"label key prefix invalid", func(p *shoalv1.Pod) { p.Metadata.Labels["Example.com/x"] = "x" }, []string{invalid + "metadata.labels"}},
		{"label value invalid", func(p *shoalv1.Pod) { p.Metadata.Labels["app"] = "web!" }, []string{invalid + "metadata.labels[app]"}},
		{"label value too long", func(p *shoalv1.Pod) { p.Metadata.Labels["app"] = strings.Repeat("w", 64) }, []string{invalid + "metadata.labels[app]"}},
		{"annotation key invalid", func(p *shoalv1.Pod) { p.Metadata.Annotations["no spaces"] = "" }, []string{invalid + "metadata.annotations"}},
		{"annotation values are free", func(p *shoalv1.Pod) { p.Metadata.Annotations["x"] = strings.Repeat("\x00 ", 1000) }, nil},
		{"annotations too large", func(p *shoalv1.Pod) {
			p.Metadata.Annotations["big"] = strings.Repeat("x", MaxAnnotationsBytes)
		}, []string{tooLong + "metadata.annotations"}},
		{"annotations at the limit", func(p *shoalv1.Pod) {
			p.Metadata.Annotations = map[string]string{"big": strings.Repeat("x", MaxAnnotationsBytes-3)}
		}, nil},
		{"finalizer invalid", func(p *shoalv1.Pod) { p.Metadata.Finalizers = append(p.Metadata.Finalizers, "a/b/c") }, []string{invalid + "metadata.finalizers[1]"}},
		{"finalizer empty", func(p *shoalv1.Pod) { p.Metadata.Finalizers[0] = "" }, []string{required + "metadata.finalizers[0]"}},
		{"owner reference incomplete", func(p *shoalv1.Pod) {
			p.Metadata.OwnerReferences = append(p.Metadata.OwnerReferences, &shoalv1.OwnerReference{})
		}, []string{
			required + "metadata.owner_references[2].kind",
			required + "metadata.owner_references[2].name",
			required + "metadata.owner_references[2].uid",
		}},
		{"two controllers", func(p *shoalv1.Pod) { p.Metadata.OwnerReferences[1].Controller = true }, []string{invalid + "metadata.owner_references[1].controller"}},
		{"server fields are not validated", func(p *shoalv1.Pod) {
			p.Metadata.Uid, p.Metadata.ResourceVersion, p.Metadata.Generation = "not a uuid", "not a number", -3
		}, nil},
		{"object too large", func(p *shoalv1.Pod) {
			p.Spec.Containers[0].Args = []string{strings.Repeat("x", MaxObjectBytes)}
		}, []string{tooLong + "<root>"}},
	})
}

func TestObjectNameRules(t *testing.T) {
	tests := []struct {
		name string
		obj  kinds.Object
		want []string
	}{
		{"namespace name is a label", &shoalv1.Namespace{Metadata: meta("team.a", "")}, []string{invalid + "metadata.name"}},
		{"namespace name may start with a digit", &shoalv1.Namespace{Metadata: meta("1team", "")}, nil},
		{"namespace with a namespace", &shoalv1.Namespace{Metadata: meta("team-a", "default")}, []string{forbidden + "metadata.namespace"}},
		{"node with a namespace", &shoalv1.Node{Metadata: meta("node-1", "default")}, []string{forbidden + "metadata.namespace"}},
		{"node name is a subdomain", &shoalv1.Node{Metadata: meta("node-1.rack-2.example.com", "")}, nil},
		{"node name invalid", &shoalv1.Node{Metadata: meta("node_1", "")}, []string{invalid + "metadata.name"}},
		{"service name is a DNS-1035 label", func() kinds.Object { s := validService(); s.Metadata.Name = "1greeter"; return s }(), []string{invalid + "metadata.name"}},
		{"service name without dots", func() kinds.Object { s := validService(); s.Metadata.Name = "greeter.v1"; return s }(), []string{invalid + "metadata.name"}},
		{"service generate_name", func() kinds.Object {
			s := validService()
			s.Metadata.Name, s.Metadata.GenerateName = "", "9svc-"
			return s
		}(), []string{invalid + "metadata.generate_name"}},
		{"lease without namespace", &shoalv1.Lease{Metadata: meta("l", "")}, []string{required + "metadata.namespace"}},
		{"namespace without name", &shoalv1.Namespace{}, []string{required + "metadata.name"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			expectErrs(t, Object(tc.obj), tc.want...)
		})
	}
}

func TestUndefinedEnums(t *testing.T) {
	runObjectCases(t, validPod, []mutation[*shoalv1.Pod]{
		{"restart policy", func(p *shoalv1.Pod) { p.Spec.RestartPolicy = 9 }, []string{notSupported + "spec.restart_policy"}},
		{"image pull policy", func(p *shoalv1.Pod) { p.Spec.Containers[1].ImagePullPolicy = 7 }, []string{notSupported + "spec.containers[1].image_pull_policy"}},
		{"port protocol", func(p *shoalv1.Pod) { p.Spec.Containers[0].Ports[0].Protocol = -1 }, []string{notSupported + "spec.containers[0].ports[0].protocol"}},
		{"uri scheme", func(p *shoalv1.Pod) {
			p.Spec.Containers[1].ReadinessProbe.GetHttpGet().Scheme = 3
		}, []string{notSupported + "spec.containers[1].readiness_probe.http_get.scheme"}},
		{"toleration operator and effect", func(p *shoalv1.Pod) {
			p.Spec.Tolerations[0].Operator, p.Spec.Tolerations[0].Effect = 3, 4
		}, []string{notSupported + "spec.tolerations[0].operator", notSupported + "spec.tolerations[0].effect"}},
		{"host path type", func(p *shoalv1.Pod) { p.Spec.Volumes[1].GetHostPath().Type = 5 }, []string{notSupported + "spec.volumes[1].host_path.type"}},
		{"storage medium", func(p *shoalv1.Pod) { p.Spec.Volumes[0].GetEmptyDir().Medium = 2 }, []string{notSupported + "spec.volumes[0].empty_dir.medium"}},
		{"node selector operator", func(p *shoalv1.Pod) {
			p.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[0].MatchExpressions[0].Operator = 99
		}, []string{notSupported + "spec.affinity.node_affinity.required_during_scheduling_ignored_during_execution.node_selector_terms[0].match_expressions[0].operator"}},
		{"label selector operator reported once", func(p *shoalv1.Pod) {
			p.Spec.Affinity.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution[0].PodAffinityTerm.LabelSelector.MatchExpressions[0].Operator = 99
		}, []string{notSupported + "spec.affinity.pod_anti_affinity.preferred_during_scheduling_ignored_during_execution[0].pod_affinity_term.label_selector.match_expressions[0].operator"}},
		{"status is not looked at", func(p *shoalv1.Pod) { p.Status.Phase = 99 }, nil},
	})
	t.Run("deployment template", func(t *testing.T) {
		d := validDeployment()
		d.Spec.Template.Spec.Containers[0].ImagePullPolicy = 9
		d.Spec.Strategy.Type = 7
		expectErrs(t, Object(d),
			notSupported+"spec.template.spec.containers[0].image_pull_policy",
			notSupported+"spec.strategy.type")
	})
	t.Run("message names the defined values", func(t *testing.T) {
		p := validPod()
		p.Spec.RestartPolicy = 9
		errs := Object(p)
		if len(errs) != 1 || !strings.Contains(errs[0].Error(), "RESTART_POLICY_ALWAYS") || errs[0].BadValue != int32(9) {
			t.Errorf("errors = %v, want one naming RESTART_POLICY_ALWAYS with bad value 9", errs)
		}
	})
}

func TestObjectSizeErrorPath(t *testing.T) {
	p := validPod()
	p.Spec.Containers[0].Args = []string{strings.Repeat("x", MaxObjectBytes)}
	errs := Object(p)
	if len(errs) != 1 || errs[0].Type != field.ErrorTypeTooLong || errs[0].Field != "" {
		t.Fatalf("errors = %v, want one TooLong at the root", errs)
	}
	if !strings.Contains(errs[0].Error(), "1048576") {
		t.Errorf("error %q does not give the limit", errs[0])
	}
}
