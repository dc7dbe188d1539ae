package defaults

import (
	"testing"

	"google.golang.org/protobuf/proto"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/sdk/go/kinds"
	"github.com/shoalmesh/shoal/services/apigateway/validation"
)

func objMeta(name, namespace string) *shoalv1.ObjectMeta {
	return &shoalv1.ObjectMeta{Name: name, Namespace: namespace}
}

// minimalObjects is the least a client sends for each kind.
func minimalObjects() map[string]kinds.Object {
	podSpec := func() *shoalv1.PodSpec {
		return &shoalv1.PodSpec{Containers: []*shoalv1.Container{{
			Name: "app", Image: "greeter",
			Ports:          []*shoalv1.ContainerPort{{ContainerPort: 50051}},
			ReadinessProbe: &shoalv1.Probe{Handler: &shoalv1.Probe_HttpGet{HttpGet: &shoalv1.HTTPGetAction{Path: "/", Port: intVal(50051)}}},
			LivenessProbe:  &shoalv1.Probe{Handler: &shoalv1.Probe_Grpc{Grpc: &shoalv1.GRPCAction{Port: 50051}}},
		}}}
	}
	template := func() *shoalv1.PodTemplateSpec {
		return &shoalv1.PodTemplateSpec{Metadata: &shoalv1.ObjectMeta{Labels: map[string]string{"app": "greeter"}}, Spec: podSpec()}
	}
	selector := func() *shoalv1.LabelSelector {
		return &shoalv1.LabelSelector{MatchLabels: map[string]string{"app": "greeter"}}
	}
	return map[string]kinds.Object{
		"Namespace": &shoalv1.Namespace{Metadata: objMeta("team-a", "")},
		"Node":      &shoalv1.Node{Metadata: objMeta("node-1", "")},
		"Pod":       &shoalv1.Pod{Metadata: objMeta("greeter-1", "default"), Spec: podSpec()},
		"Service": &shoalv1.Service{Metadata: objMeta("greeter", "default"), Spec: &shoalv1.ServiceSpec{
			Selector: map[string]string{"app": "greeter"},
			Ports:    []*shoalv1.ServicePort{{Port: 50051}},
		}},
		"Endpoints":     &shoalv1.Endpoints{Metadata: objMeta("greeter", "default")},
		"ReplicaSet":    &shoalv1.ReplicaSet{Metadata: objMeta("greeter-abc", "default"), Spec: &shoalv1.ReplicaSetSpec{Selector: selector(), Template: template()}},
		"Deployment":    &shoalv1.Deployment{Metadata: objMeta("greeter", "default"), Spec: &shoalv1.DeploymentSpec{Selector: selector(), Template: template()}},
		"Lease":         &shoalv1.Lease{Metadata: objMeta("scheduler", "shoal-system")},
		"Event":         &shoalv1.Event{Metadata: objMeta("greeter-1.abc", "default"), Spec: &shoalv1.EventSpec{InvolvedObject: &shoalv1.ObjectReference{Kind: "Pod", Name: "greeter-1"}}},
		"ResourceQuota": &shoalv1.ResourceQuota{Metadata: objMeta("compute", "default")},
	}
}

// TestDefaultedObjectsAreValid: defaults never produce an invalid object
// out of a valid minimal one, for every kind.
func TestDefaultedObjectsAreValid(t *testing.T) {
	objs := minimalObjects()
	for _, k := range kinds.All() {
		t.Run(k.Name, func(t *testing.T) {
			obj, ok := objs[k.Name]
			if !ok {
				t.Fatalf("no minimal %s", k.Name)
			}
			if errs := validation.Object(obj); len(errs) > 0 {
				t.Fatalf("minimal %s is invalid before defaulting: %v", k.Name, errs)
			}
			Apply(obj)
			if errs := validation.Object(obj); len(errs) > 0 {
				t.Errorf("defaulted %s is invalid: %v", k.Name, errs)
			}
			if errs := validation.Status(obj); len(errs) > 0 {
				t.Errorf("defaulted %s has an invalid status: %v", k.Name, errs)
			}
		})
	}
}

// TestDefaultsFillWhatValidationNeeds: a Service whose only port has no
// target port, a deployment with a rolling update of zero unavailable and
// no surge: valid once defaulted.
func TestDefaultsFillWhatValidationNeeds(t *testing.T) {
	d := minimalObjects()["Deployment"].(*shoalv1.Deployment)
	d.Spec.Strategy = &shoalv1.DeploymentStrategy{RollingUpdate: &shoalv1.RollingUpdateDeployment{MaxUnavailable: intVal(0)}}
	Apply(d)
	if errs := validation.Object(d); len(errs) > 0 {
		t.Errorf("defaulted deployment is invalid: %v", errs)
	}
	if got := d.GetSpec().GetStrategy().GetRollingUpdate().GetMaxSurge().GetStrValue(); got != "25%" {
		t.Errorf("max_surge = %q, want 25%%", got)
	}
}

// FuzzApply decodes arbitrary bytes into every kind: Apply never panics, is
// idempotent, and validation of the result never panics.
func FuzzApply(f *testing.F) {
	for _, obj := range minimalObjects() {
		b, err := proto.Marshal(obj)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, k := range kinds.All() {
			obj := k.New()
			if err := proto.Unmarshal(data, obj); err != nil {
				continue
			}
			Apply(obj)
			once := proto.Clone(obj)
			Apply(obj)
			if !proto.Equal(once, obj) {
				t.Fatalf("%s: Apply is not idempotent", k.Name)
			}
			validation.Object(obj)
		}
	})
}
