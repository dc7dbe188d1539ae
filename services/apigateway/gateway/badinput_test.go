package gateway_test

import (
	"context"
	"strings"
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/sdk/go/client"
	"github.com/shoalmesh/shoal/services/apigateway/gatewaytest"
)

func badPod(edit func(p *shoalv1.Pod)) *shoalv1.Pod {
	p := gatewaytest.Pod("bad", "p", map[string]string{"app": "web"})
	edit(p)
	return p
}

func badObj[T proto.Message](kind string, edit func(T)) T {
	o := gatewaytest.Object(kind, "bad", "obj").(T)
	edit(o)
	return o
}

// TestBadInput sends malformed requests; each must fail with the right code
// and a BadRequest naming the field, and write nothing.
func TestBadInput(t *testing.T) {
	env := gatewaytest.Start(t)
	ctx := ctxT(t)
	mustCreateNamespace(t, env, "bad")
	pods := client.For[*shoalv1.Pod](env.Conn)
	nodes := client.For[*shoalv1.Node](env.Conn)
	nss := client.For[*shoalv1.Namespace](env.Conn)
	svcs := client.For[*shoalv1.Service](env.Conn)
	rss := client.For[*shoalv1.ReplicaSet](env.Conn)
	deps := client.For[*shoalv1.Deployment](env.Conn)
	eps := client.For[*shoalv1.Endpoints](env.Conn)
	events := client.For[*shoalv1.Event](env.Conn)
	quotas := client.For[*shoalv1.ResourceQuota](env.Conn)
	leases := client.For[*shoalv1.Lease](env.Conn)
	existing, err := pods.Create(ctx, gatewaytest.Pod("bad", "existing", nil))
	if err != nil {
		t.Fatal(err)
	}
	stale := proto.Clone(existing).(*shoalv1.Pod)
	existing.Metadata.Labels = map[string]string{"v": "2"}
	if _, err := pods.Update(ctx, existing); err != nil {
		t.Fatal(err)
	}
	stale.Metadata.Labels = map[string]string{"v": "stale"}
	pc := shoalv1.NewPodServiceClient(env.Conn)
	neg := int64(-5)
	createPod := func(p *shoalv1.Pod) func(context.Context) error {
		return func(ctx context.Context) error { _, err := pods.Create(ctx, p); return err }
	}
	huge := strings.Repeat("x", 300<<10)

	cases := []struct {
		name  string
		call  func(context.Context) error
		code  codes.Code
		field string // a BadRequest field path with this prefix must be present ("" = no detail expected)
	}{
		{"pod without name", createPod(badPod(func(p *shoalv1.Pod) { p.Metadata.Name = "" })), codes.InvalidArgument, "metadata.name"},
		{"pod name not a DNS name", createPod(badPod(func(p *shoalv1.Pod) { p.Metadata.Name = "Bad_Name" })), codes.InvalidArgument, "metadata.name"},
		{"pod name too long", createPod(badPod(func(p *shoalv1.Pod) { p.Metadata.Name = strings.Repeat("a", 254) })), codes.InvalidArgument, "metadata.name"},
		{"pod without namespace", createPod(badPod(func(p *shoalv1.Pod) { p.Metadata.Namespace = "" })), codes.InvalidArgument, "metadata.namespace"},
		{"node with a namespace", func(ctx context.Context) error {
			n := gatewaytest.Node("n1")
			n.Metadata.Namespace = "bad"
			_, err := nodes.Create(ctx, n)
			return err
		}, codes.InvalidArgument, "metadata.namespace"},
		{"namespace with a namespace", func(ctx context.Context) error {
			n := gatewaytest.Namespace("x")
			n.Metadata.Namespace = "bad"
			_, err := nss.Create(ctx, n)
			return err
		}, codes.InvalidArgument, "metadata.namespace"},
		{"namespace name with capitals", func(ctx context.Context) error {
			_, err := nss.Create(ctx, gatewaytest.Namespace("UPPER"))
			return err
		}, codes.InvalidArgument, "metadata.name"},
		{"bad label key", createPod(badPod(func(p *shoalv1.Pod) { p.Metadata.Labels["-bad"] = "x" })), codes.InvalidArgument, "metadata.labels"},
		{"bad label value", createPod(badPod(func(p *shoalv1.Pod) { p.Metadata.Labels["app"] = strings.Repeat("v", 64) })), codes.InvalidArgument, "metadata.labels"},
		{"bad annotation key", createPod(badPod(func(p *shoalv1.Pod) { p.Metadata.Annotations = map[string]string{"a b": "x"} })), codes.InvalidArgument, "metadata.annotations"},
		{"annotations too large", createPod(badPod(func(p *shoalv1.Pod) { p.Metadata.Annotations = map[string]string{"big": huge} })), codes.InvalidArgument, "metadata.annotations"},
		{"object too large", createPod(badPod(func(p *shoalv1.Pod) {
			for i := 0; i < 5; i++ {
				p.Spec.Containers[0].Env = append(p.Spec.Containers[0].Env, &shoalv1.EnvVar{Name: "BIG" + strings.Repeat("X", i), Value: huge})
			}
		})), codes.InvalidArgument, ""},
		{"bad generate_name", createPod(badPod(func(p *shoalv1.Pod) { p.Metadata.Name = ""; p.Metadata.GenerateName = "Bad_" })), codes.InvalidArgument, "metadata.generate_name"},
		{"two controller owners", createPod(badPod(func(p *shoalv1.Pod) {
			p.Metadata.OwnerReferences = []*shoalv1.OwnerReference{
				{Kind: "ReplicaSet", Name: "a", Uid: "1", Controller: true}, {Kind: "ReplicaSet", Name: "b", Uid: "2", Controller: true}}
		})), codes.InvalidArgument, "metadata.owner_references"},
		{"pod without containers", createPod(badPod(func(p *shoalv1.Pod) { p.Spec.Containers = nil })), codes.InvalidArgument, "spec.containers"},
		{"container without image", createPod(badPod(func(p *shoalv1.Pod) { p.Spec.Containers[0].Image = "" })), codes.InvalidArgument, "spec.containers[0].image"},
		{"container name not a DNS label", createPod(badPod(func(p *shoalv1.Pod) { p.Spec.Containers[0].Name = "Web_1" })), codes.InvalidArgument, "spec.containers[0].name"},
		{"duplicate container names", createPod(badPod(func(p *shoalv1.Pod) {
			p.Spec.Containers = append(p.Spec.Containers, proto.Clone(p.Spec.Containers[0]).(*shoalv1.Container))
		})), codes.InvalidArgument, "spec.containers[1].name"},
		{"port out of range", createPod(badPod(func(p *shoalv1.Pod) { p.Spec.Containers[0].Ports[0].ContainerPort = 70000 })), codes.InvalidArgument, "spec.containers[0].ports[0].container_port"},
		{"unknown restart policy", createPod(badPod(func(p *shoalv1.Pod) { p.Spec.RestartPolicy = 42 })), codes.InvalidArgument, "spec.restart_policy"},
		{"negative cpu request", createPod(badPod(func(p *shoalv1.Pod) { p.Spec.Containers[0].Resources.Requests.CpuMillis = -1 })), codes.InvalidArgument, "spec.containers[0].resources"},
		{"limit below request", createPod(badPod(func(p *shoalv1.Pod) {
			p.Spec.Containers[0].Resources.Limits = &shoalv1.ResourceList{CpuMillis: 10}
		})), codes.InvalidArgument, "spec.containers[0].resources"},
		{"mount of a missing volume", createPod(badPod(func(p *shoalv1.Pod) {
			p.Spec.Containers[0].VolumeMounts = []*shoalv1.VolumeMount{{Name: "nope", MountPath: "/data"}}
		})), codes.InvalidArgument, "spec.containers[0].volume_mounts[0]"},
		{"relative host path", createPod(badPod(func(p *shoalv1.Pod) {
			p.Spec.Volumes = []*shoalv1.Volume{{Name: "h", Source: &shoalv1.Volume_HostPath{HostPath: &shoalv1.HostPathVolumeSource{Path: "relative/dir"}}}}
		})), codes.InvalidArgument, "spec.volumes[0]"},
		{"toleration Exists with a value", createPod(badPod(func(p *shoalv1.Pod) {
			p.Spec.Tolerations = []*shoalv1.Toleration{{Key: "k", Operator: shoalv1.TolerationOperator_TOLERATION_OPERATOR_EXISTS, Value: "v"}}
		})), codes.InvalidArgument, "spec.tolerations[0]"},
		{"negative grace period", createPod(badPod(func(p *shoalv1.Pod) { p.Spec.TerminationGracePeriodSeconds = proto.Int64(-1) })), codes.InvalidArgument, "spec.termination_grace_period_seconds"},
		{"probe without handler", createPod(badPod(func(p *shoalv1.Pod) { p.Spec.Containers[0].LivenessProbe = &shoalv1.Probe{PeriodSeconds: 5} })), codes.InvalidArgument, "spec.containers[0].liveness_probe"},
		{"service without ports", func(ctx context.Context) error {
			_, err := svcs.Create(ctx, badObj("Service", func(s *shoalv1.Service) { s.Spec.Ports = nil }))
			return err
		}, codes.InvalidArgument, "spec.ports"},
		{"service port 0", func(ctx context.Context) error {
			_, err := svcs.Create(ctx, badObj("Service", func(s *shoalv1.Service) { s.Spec.Ports[0].Port = 0 }))
			return err
		}, codes.InvalidArgument, "spec.ports[0].port"},
		{"malformed cluster IP", func(ctx context.Context) error {
			_, err := svcs.Create(ctx, badObj("Service", func(s *shoalv1.Service) { s.Spec.ClusterIp = "1.2.3" }))
			return err
		}, codes.InvalidArgument, "spec.cluster_ip"},
		{"cluster IP outside the range", func(ctx context.Context) error {
			_, err := svcs.Create(ctx, badObj("Service", func(s *shoalv1.Service) { s.Spec.ClusterIp = "192.168.7.7" }))
			return err
		}, codes.InvalidArgument, "spec.cluster_ip"},
		{"ring hash without header", func(ctx context.Context) error {
			_, err := svcs.Create(ctx, badObj("Service", func(s *shoalv1.Service) {
				s.Spec.LoadBalancing = &shoalv1.LoadBalancing{Policy: shoalv1.LoadBalancerPolicy_LOAD_BALANCER_POLICY_RING_HASH}
			}))
			return err
		}, codes.InvalidArgument, "spec.load_balancing.hash_header"},
		{"unknown load balancer policy", func(ctx context.Context) error {
			_, err := svcs.Create(ctx, badObj("Service", func(s *shoalv1.Service) { s.Spec.LoadBalancing = &shoalv1.LoadBalancing{Policy: 9} }))
			return err
		}, codes.InvalidArgument, "spec.load_balancing.policy"},
		{"negative replicas", func(ctx context.Context) error {
			_, err := rss.Create(ctx, badObj("ReplicaSet", func(r *shoalv1.ReplicaSet) { r.Spec.Replicas = proto.Int32(-1) }))
			return err
		}, codes.InvalidArgument, "spec.replicas"},
		{"selector not matching template", func(ctx context.Context) error {
			_, err := rss.Create(ctx, badObj("ReplicaSet", func(r *shoalv1.ReplicaSet) { r.Spec.Template.Metadata.Labels = map[string]string{"app": "other"} }))
			return err
		}, codes.InvalidArgument, "spec.template.metadata.labels"},
		{"missing selector", func(ctx context.Context) error {
			_, err := rss.Create(ctx, badObj("ReplicaSet", func(r *shoalv1.ReplicaSet) { r.Spec.Selector = nil }))
			return err
		}, codes.InvalidArgument, "spec.selector"},
		{"template with a bad container", func(ctx context.Context) error {
			_, err := deps.Create(ctx, badObj("Deployment", func(d *shoalv1.Deployment) { d.Spec.Template.Spec.Containers[0].Image = "" }))
			return err
		}, codes.InvalidArgument, "spec.template.spec.containers[0].image"},
		{"max surge over 100%", func(ctx context.Context) error {
			_, err := deps.Create(ctx, badObj("Deployment", func(d *shoalv1.Deployment) {
				d.Spec.Strategy = &shoalv1.DeploymentStrategy{RollingUpdate: &shoalv1.RollingUpdateDeployment{MaxSurge: &shoalv1.IntOrString{Value: &shoalv1.IntOrString_StrValue{StrValue: "150%"}}}}
			}))
			return err
		}, codes.InvalidArgument, "spec.strategy.rolling_update.max_surge"},
		{"surge and unavailable both zero", func(ctx context.Context) error {
			zero := &shoalv1.IntOrString{Value: &shoalv1.IntOrString_IntValue{IntValue: 0}}
			_, err := deps.Create(ctx, badObj("Deployment", func(d *shoalv1.Deployment) {
				d.Spec.Strategy = &shoalv1.DeploymentStrategy{RollingUpdate: &shoalv1.RollingUpdateDeployment{MaxSurge: zero, MaxUnavailable: zero}}
			}))
			return err
		}, codes.InvalidArgument, "spec.strategy.rolling_update"},
		{"recreate with rolling update", func(ctx context.Context) error {
			_, err := deps.Create(ctx, badObj("Deployment", func(d *shoalv1.Deployment) {
				d.Spec.Strategy = &shoalv1.DeploymentStrategy{Type: shoalv1.DeploymentStrategyType_DEPLOYMENT_STRATEGY_TYPE_RECREATE, RollingUpdate: &shoalv1.RollingUpdateDeployment{}}
			}))
			return err
		}, codes.InvalidArgument, "spec.strategy.rolling_update"},
		{"endpoint with a bad IP", func(ctx context.Context) error {
			_, err := eps.Create(ctx, badObj("Endpoints", func(e *shoalv1.Endpoints) { e.Spec.Addresses[0].Ip = "10.0.0.300" }))
			return err
		}, codes.InvalidArgument, "spec.addresses[0].ip"},
		{"event without involved object name", func(ctx context.Context) error {
			_, err := events.Create(ctx, badObj("Event", func(e *shoalv1.Event) { e.Spec.InvolvedObject.Name = "" }))
			return err
		}, codes.InvalidArgument, "spec.involved_object.name"},
		{"negative quota", func(ctx context.Context) error {
			_, err := quotas.Create(ctx, badObj("ResourceQuota", func(q *shoalv1.ResourceQuota) { q.Spec.Hard.Pods = proto.Int64(-1) }))
			return err
		}, codes.InvalidArgument, "spec.hard.pods"},
		{"negative lease duration", func(ctx context.Context) error {
			_, err := leases.Create(ctx, badObj("Lease", func(l *shoalv1.Lease) { l.Spec.LeaseDurationSeconds = -3 }))
			return err
		}, codes.InvalidArgument, "spec.lease_duration_seconds"},
		{"create without an object", func(ctx context.Context) error {
			_, err := pc.CreatePod(ctx, &shoalv1.CreatePodRequest{})
			return err
		}, codes.InvalidArgument, "pod"},
		{"get without a name", func(ctx context.Context) error { _, err := pods.Get(ctx, "bad", ""); return err }, codes.InvalidArgument, "name"},
		{"get without a namespace", func(ctx context.Context) error { _, err := pods.Get(ctx, "", "p"); return err }, codes.InvalidArgument, "namespace"},
		{"bad label selector", func(ctx context.Context) error {
			_, err := pods.List(ctx, client.ListOptions{Namespace: "bad", LabelSelector: "app in ("})
			return err
		}, codes.InvalidArgument, "label_selector"},
		{"unknown field selector", func(ctx context.Context) error {
			_, err := pods.List(ctx, client.ListOptions{FieldSelector: "spec.foo=x"})
			return err
		}, codes.InvalidArgument, "field_selector"},
		{"bad page token", func(ctx context.Context) error {
			_, err := pods.List(ctx, client.ListOptions{Namespace: "bad", PageToken: "not-a-token"})
			return err
		}, codes.InvalidArgument, "page_token"},
		{"negative page size", func(ctx context.Context) error {
			_, err := pods.List(ctx, client.ListOptions{PageSize: -1})
			return err
		}, codes.InvalidArgument, "page_size"},
		{"list resource version not a number", func(ctx context.Context) error {
			_, err := pods.List(ctx, client.ListOptions{ResourceVersion: "abc"})
			return err
		}, codes.InvalidArgument, "resource_version"},
		{"watch with a bad selector", func(ctx context.Context) error {
			w, err := pods.Watch(ctx, client.WatchOptions{LabelSelector: "!!"})
			if err != nil {
				return err
			}
			defer w.Close()
			_, err = w.Recv()
			return err
		}, codes.InvalidArgument, "label_selector"},
		{"stale update", func(ctx context.Context) error { _, err := pods.Update(ctx, stale); return err }, codes.Aborted, ""},
		{"update resource version not a number", func(ctx context.Context) error {
			p := proto.Clone(stale).(*shoalv1.Pod)
			p.Metadata.ResourceVersion = "x1"
			_, err := pods.Update(ctx, p)
			return err
		}, codes.InvalidArgument, "metadata.resource_version"},
		{"update of a missing object", func(ctx context.Context) error {
			p := gatewaytest.Pod("bad", "ghost", nil)
			_, err := pods.Update(ctx, p)
			return err
		}, codes.NotFound, ""},
		{"pod in a missing namespace", createPod(gatewaytest.Pod("nowhere", "p", nil)), codes.NotFound, ""},
		{"bind without node", func(ctx context.Context) error {
			_, err := pc.BindPod(ctx, &shoalv1.BindPodRequest{Namespace: "bad", Name: "existing"})
			return err
		}, codes.InvalidArgument, "node_name"},
		{"bind to a bad node name", func(ctx context.Context) error {
			_, err := pc.BindPod(ctx, &shoalv1.BindPodRequest{Namespace: "bad", Name: "existing", NodeName: "Node_1"})
			return err
		}, codes.InvalidArgument, "node_name"},
		{"negative grace on delete", func(ctx context.Context) error {
			_, err := pods.Delete(ctx, "bad", "existing", client.DeleteOptions{GracePeriodSeconds: &neg})
			return err
		}, codes.InvalidArgument, "grace_period_seconds"},
		{"delete with a wrong uid", func(ctx context.Context) error {
			_, err := pods.Delete(ctx, "bad", "existing", client.DeleteOptions{Preconditions: &shoalv1.Preconditions{Uid: "not-the-uid"}})
			return err
		}, codes.FailedPrecondition, ""},
		{"unknown propagation policy", func(ctx context.Context) error {
			_, err := pc.DeletePod(ctx, &shoalv1.DeletePodRequest{Namespace: "bad", Name: "existing", PropagationPolicy: 77})
			return err
		}, codes.InvalidArgument, "propagation_policy"},
		{"immutable pod spec", func(ctx context.Context) error {
			p, err := pods.Get(ctx, "bad", "existing")
			if err != nil {
				return err
			}
			p.Spec.Containers[0].Ports[0].ContainerPort = 8080
			_, err = pods.Update(ctx, p)
			return err
		}, codes.InvalidArgument, "spec"},
	}
	if len(cases) < 40 {
		t.Fatalf("only %d cases", len(cases))
	}
	etcd := env.Gateway.EtcdClient()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before, err := etcd.Get(ctx, "/", clientv3.WithCountOnly())
			if err != nil {
				t.Fatal(err)
			}
			err = tc.call(ctx)
			st, _ := status.FromError(err)
			if st.Code() != tc.code {
				t.Fatalf("code %v (%v), want %v", st.Code(), err, tc.code)
			}
			if tc.field != "" {
				var fields []string
				found := false
				for _, d := range st.Details() {
					if br, ok := d.(*errdetails.BadRequest); ok {
						for _, v := range br.GetFieldViolations() {
							fields = append(fields, v.GetField())
							found = found || strings.HasPrefix(v.GetField(), tc.field)
						}
					}
				}
				if !found {
					t.Fatalf("no BadRequest violation for %q; got %v (%v)", tc.field, fields, err)
				}
			}
			after, err := etcd.Get(ctx, "/", clientv3.WithCountOnly())
			if err != nil {
				t.Fatal(err)
			}
			if after.Header.Revision != before.Header.Revision {
				t.Fatalf("a rejected request wrote to etcd: revision %d -> %d", before.Header.Revision, after.Header.Revision)
			}
		})
	}
}
