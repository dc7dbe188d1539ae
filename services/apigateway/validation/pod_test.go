package validation

import (
	"strings"
	"testing"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
)

const (
	c0 = "spec.containers[0]"
	c1 = "spec.containers[1]"
)

func TestPodContainers(t *testing.T) {
	runObjectCases(t, validPod, []mutation[*shoalv1.Pod]{
		{"nil spec", func(p *shoalv1.Pod) { p.Spec = nil }, []string{required + "spec.containers"}},
		{"no containers", func(p *shoalv1.Pod) { p.Spec.Containers = nil }, []string{required + "spec.containers"}},
		{"container name required", func(p *shoalv1.Pod) { p.Spec.Containers[0].Name = "" }, []string{required + c0 + ".name"}},
		{"container name not a label", func(p *shoalv1.Pod) { p.Spec.Containers[0].Name = "App" }, []string{invalid + c0 + ".name"}},
		{"container name with dots", func(p *shoalv1.Pod) { p.Spec.Containers[0].Name = "a.b" }, []string{invalid + c0 + ".name"}},
		{"container names unique", func(p *shoalv1.Pod) { p.Spec.Containers[1].Name = "app" }, []string{duplicate + c1 + ".name"}},
		{"image required", func(p *shoalv1.Pod) { p.Spec.Containers[0].Image = "" }, []string{required + c0 + ".image"}},
		{"image without whitespace", func(p *shoalv1.Pod) { p.Spec.Containers[0].Image = " greeter" }, []string{invalid + c0 + ".image"}},
		{"nil container", func(p *shoalv1.Pod) { p.Spec.Containers[1] = nil }, []string{required + c1 + ".name", required + c1 + ".image"}},
	})
}

func TestPodPorts(t *testing.T) {
	port := func(p *shoalv1.Pod, c, i int) *shoalv1.ContainerPort { return p.Spec.Containers[c].Ports[i] }
	runObjectCases(t, validPod, []mutation[*shoalv1.Pod]{
		{"container_port required", func(p *shoalv1.Pod) { port(p, 0, 0).ContainerPort = 0 }, []string{required + c0 + ".ports[0].container_port"}},
		{"container_port too large", func(p *shoalv1.Pod) { port(p, 0, 0).ContainerPort = 65536 }, []string{invalid + c0 + ".ports[0].container_port"}},
		{"container_port negative", func(p *shoalv1.Pod) { port(p, 0, 0).ContainerPort = -1 }, []string{invalid + c0 + ".ports[0].container_port"}},
		{"container_port max", func(p *shoalv1.Pod) { port(p, 0, 0).ContainerPort = 65535 }, nil},
		{"host_port negative", func(p *shoalv1.Pod) { port(p, 1, 0).HostPort = -1 }, []string{invalid + c1 + ".ports[0].host_port"}},
		{"host_port too large", func(p *shoalv1.Pod) { port(p, 1, 0).HostPort = 65536 }, []string{invalid + c1 + ".ports[0].host_port"}},
		{"host_port zero", func(p *shoalv1.Pod) { port(p, 1, 0).HostPort = 0 }, nil},
		{"port name not IANA", func(p *shoalv1.Pod) { port(p, 0, 0).Name = "GRPC" }, []string{invalid + c0 + ".ports[0].name"}},
		{"port name too long", func(p *shoalv1.Pod) { port(p, 0, 0).Name = "abcdefghijklmnop" }, []string{invalid + c0 + ".ports[0].name"}},
		{"port name needs a letter", func(p *shoalv1.Pod) { port(p, 0, 0).Name = "8080" }, []string{invalid + c0 + ".ports[0].name"}},
		{"port names unique in the pod", func(p *shoalv1.Pod) { port(p, 1, 0).Name = "grpc" }, []string{duplicate + c1 + ".ports[0].name"}},
		{"container port and protocol unique in the pod", func(p *shoalv1.Pod) { port(p, 1, 0).ContainerPort = 50051 }, []string{duplicate + c1 + ".ports[0].container_port"}},
		{"same port on another protocol", func(p *shoalv1.Pod) {
			port(p, 1, 0).ContainerPort, port(p, 1, 0).Protocol = 50051, shoalv1.Protocol_PROTOCOL_UDP
		}, nil},
		{"same container in one container", func(p *shoalv1.Pod) {
			p.Spec.Containers[0].Ports = append(p.Spec.Containers[0].Ports, &shoalv1.ContainerPort{ContainerPort: 50051, Protocol: shoalv1.Protocol_PROTOCOL_TCP})
		}, []string{duplicate + c0 + ".ports[1].container_port"}},
		{"host port and protocol unique", func(p *shoalv1.Pod) {
			p.Spec.Containers[1].Ports = append(p.Spec.Containers[1].Ports, &shoalv1.ContainerPort{ContainerPort: 9090, HostPort: 8080})
		}, []string{duplicate + c1 + ".ports[1].host_port"}},
		{"host_ip invalid", func(p *shoalv1.Pod) { port(p, 1, 0).HostIp = "1.2.3" }, []string{invalid + c1 + ".ports[0].host_ip"}},
		{"host_ip valid", func(p *shoalv1.Pod) { port(p, 1, 0).HostIp = "127.0.0.1" }, nil},
	})
}

func TestPodResources(t *testing.T) {
	res := func(p *shoalv1.Pod) *shoalv1.ResourceRequirements { return p.Spec.Containers[0].Resources }
	runObjectCases(t, validPod, []mutation[*shoalv1.Pod]{
		{"negative cpu request", func(p *shoalv1.Pod) { res(p).Requests.CpuMillis = -1 }, []string{invalid + c0 + ".resources.requests.cpu_millis"}},
		{"negative memory limit", func(p *shoalv1.Pod) { res(p).Limits.MemoryBytes = -1 }, []string{invalid + c0 + ".resources.limits.memory_bytes"}},
		{"request above limit", func(p *shoalv1.Pod) { res(p).Requests.MemoryBytes = 256 << 20 }, []string{invalid + c0 + ".resources.requests.memory_bytes"}},
		{"cpu request above limit", func(p *shoalv1.Pod) { res(p).Requests.CpuMillis = 201 }, []string{invalid + c0 + ".resources.requests.cpu_millis"}},
		{"request equal to limit", func(p *shoalv1.Pod) { res(p).Requests.CpuMillis = 200 }, nil},
		{"no limit", func(p *shoalv1.Pod) { res(p).Limits = nil }, nil},
		{"limit without request", func(p *shoalv1.Pod) { res(p).Requests = nil }, nil},
	})
}

func TestPodProbes(t *testing.T) {
	lp := c0 + ".liveness_probe"
	rp := c1 + ".readiness_probe"
	runObjectCases(t, validPod, []mutation[*shoalv1.Pod]{
		{"no handler", func(p *shoalv1.Pod) { p.Spec.Containers[0].LivenessProbe.Handler = nil }, []string{required + lp}},
		{"exec without command", func(p *shoalv1.Pod) {
			p.Spec.Containers[1].LivenessProbe.GetExec().Command = nil
		}, []string{required + c1 + ".liveness_probe.exec.command"}},
		{"grpc port required", func(p *shoalv1.Pod) { p.Spec.Containers[0].LivenessProbe.GetGrpc().Port = 0 }, []string{required + lp + ".grpc.port"}},
		{"grpc port too large", func(p *shoalv1.Pod) { p.Spec.Containers[0].LivenessProbe.GetGrpc().Port = 70000 }, []string{invalid + lp + ".grpc.port"}},
		{"tcp port unset", func(p *shoalv1.Pod) {
			p.Spec.Containers[0].ReadinessProbe.GetTcpSocket().Port = nil
		}, []string{required + c0 + ".readiness_probe.tcp_socket.port"}},
		{"tcp port empty IntOrString", func(p *shoalv1.Pod) {
			p.Spec.Containers[0].ReadinessProbe.GetTcpSocket().Port = &shoalv1.IntOrString{}
		}, []string{required + c0 + ".readiness_probe.tcp_socket.port"}},
		{"tcp port number zero", func(p *shoalv1.Pod) {
			p.Spec.Containers[0].ReadinessProbe.GetTcpSocket().Port = intOrStr(0)
		}, []string{invalid + c0 + ".readiness_probe.tcp_socket.port"}},
		{"tcp port name invalid", func(p *shoalv1.Pod) {
			p.Spec.Containers[0].ReadinessProbe.GetTcpSocket().Port = intOrStr("Grpc_Port")
		}, []string{invalid + c0 + ".readiness_probe.tcp_socket.port"}},
		{"http port too large", func(p *shoalv1.Pod) {
			p.Spec.Containers[1].ReadinessProbe.GetHttpGet().Port = intOrStr(65536)
		}, []string{invalid + rp + ".http_get.port"}},
		{"http header name invalid", func(p *shoalv1.Pod) {
			p.Spec.Containers[1].ReadinessProbe.GetHttpGet().HttpHeaders[0].Name = "X Probe"
		}, []string{invalid + rp + ".http_get.http_headers[0].name"}},
		{"negative timings", func(p *shoalv1.Pod) {
			pr := p.Spec.Containers[1].ReadinessProbe
			pr.InitialDelaySeconds, pr.TimeoutSeconds, pr.PeriodSeconds, pr.SuccessThreshold, pr.FailureThreshold = -1, -1, -1, -1, -1
		}, []string{
			invalid + rp + ".initial_delay_seconds",
			invalid + rp + ".timeout_seconds",
			invalid + rp + ".period_seconds",
			invalid + rp + ".success_threshold",
			invalid + rp + ".failure_threshold",
		}},
		{"liveness success threshold must be 1", func(p *shoalv1.Pod) { p.Spec.Containers[0].LivenessProbe.SuccessThreshold = 2 }, []string{invalid + lp + ".success_threshold"}},
	})
}

func TestPodEnv(t *testing.T) {
	env := func(p *shoalv1.Pod, i int) *shoalv1.EnvVar { return p.Spec.Containers[0].Env[i] }
	runObjectCases(t, validPod, []mutation[*shoalv1.Pod]{
		{"name required", func(p *shoalv1.Pod) { env(p, 1).Name = "" }, []string{required + c0 + ".env[1].name"}},
		{"name without '='", func(p *shoalv1.Pod) { env(p, 1).Name = "A=B" }, []string{invalid + c0 + ".env[1].name"}},
		{"relaxed names", func(p *shoalv1.Pod) { env(p, 1).Name = "1st.var-name:x" }, nil},
		{"field path unsupported", func(p *shoalv1.Pod) { env(p, 0).ValueFrom.FieldPath = "spec.hostname" }, []string{notSupported + c0 + ".env[0].value_from.field_path"}},
		{"field path required", func(p *shoalv1.Pod) { env(p, 0).ValueFrom.FieldPath = "" }, []string{required + c0 + ".env[0].value_from.field_path"}},
		{"every field path", func(p *shoalv1.Pod) {
			for _, f := range envFieldPaths {
				p.Spec.Containers[0].Env = append(p.Spec.Containers[0].Env,
					&shoalv1.EnvVar{Name: "X", ValueFrom: &shoalv1.EnvVarSource{FieldPath: f}})
			}
		}, nil},
		{"value and value_from", func(p *shoalv1.Pod) { env(p, 0).Value = "x" }, []string{invalid + c0 + ".env[0].value_from"}},
	})
}

func TestPodVolumes(t *testing.T) {
	runObjectCases(t, validPod, []mutation[*shoalv1.Pod]{
		{"name required", func(p *shoalv1.Pod) {
			p.Spec.Volumes[0].Name = ""
			p.Spec.Containers[0].VolumeMounts = nil
			p.Spec.Containers[1].VolumeMounts = p.Spec.Containers[1].VolumeMounts[1:]
		}, []string{required + "spec.volumes[0].name"}},
		{"name not a label", func(p *shoalv1.Pod) { p.Spec.Volumes[1].Name = "Logs" }, []string{
			invalid + "spec.volumes[1].name", notFound + c1 + ".volume_mounts[1].name",
		}},
		{"names unique", func(p *shoalv1.Pod) { p.Spec.Volumes[1].Name = "data" }, []string{
			duplicate + "spec.volumes[1].name", notFound + c1 + ".volume_mounts[1].name",
		}},
		{"no source", func(p *shoalv1.Pod) { p.Spec.Volumes[0].Source = nil }, []string{required + "spec.volumes[0]"}},
		{"host path required", func(p *shoalv1.Pod) { p.Spec.Volumes[1].GetHostPath().Path = "" }, []string{required + "spec.volumes[1].host_path.path"}},
		{"host path absolute", func(p *shoalv1.Pod) { p.Spec.Volumes[1].GetHostPath().Path = "var/log" }, []string{invalid + "spec.volumes[1].host_path.path"}},
		{"host path without ..", func(p *shoalv1.Pod) { p.Spec.Volumes[1].GetHostPath().Path = "/var/../etc" }, []string{invalid + "spec.volumes[1].host_path.path"}},
		{"empty dir size negative", func(p *shoalv1.Pod) { p.Spec.Volumes[0].GetEmptyDir().SizeLimitBytes = -1 }, []string{invalid + "spec.volumes[0].empty_dir.size_limit_bytes"}},
		{"mount of a missing volume", func(p *shoalv1.Pod) { p.Spec.Containers[0].VolumeMounts[0].Name = "cache" }, []string{notFound + c0 + ".volume_mounts[0].name"}},
		{"mount name required", func(p *shoalv1.Pod) { p.Spec.Containers[0].VolumeMounts[0].Name = "" }, []string{required + c0 + ".volume_mounts[0].name"}},
		{"mount path required", func(p *shoalv1.Pod) { p.Spec.Containers[0].VolumeMounts[0].MountPath = "" }, []string{required + c0 + ".volume_mounts[0].mount_path"}},
		{"mount path absolute", func(p *shoalv1.Pod) { p.Spec.Containers[0].VolumeMounts[0].MountPath = "data" }, []string{invalid + c0 + ".volume_mounts[0].mount_path"}},
		{"mount paths unique per container", func(p *shoalv1.Pod) { p.Spec.Containers[1].VolumeMounts[1].MountPath = "/data/" }, []string{duplicate + c1 + ".volume_mounts[1].mount_path"}},
		{"same path in two containers", func(p *shoalv1.Pod) { p.Spec.Containers[1].VolumeMounts[1].MountPath = "/data2" }, nil},
		{"sub path relative", func(p *shoalv1.Pod) { p.Spec.Containers[1].VolumeMounts[1].SubPath = "/x" }, []string{invalid + c1 + ".volume_mounts[1].sub_path"}},
		{"sub path without ..", func(p *shoalv1.Pod) { p.Spec.Containers[1].VolumeMounts[1].SubPath = "a/../../b" }, []string{invalid + c1 + ".volume_mounts[1].sub_path"}},
	})
}

func TestPodScheduling(t *testing.T) {
	tol := func(p *shoalv1.Pod, i int) *shoalv1.Toleration { return p.Spec.Tolerations[i] }
	runObjectCases(t, validPod, []mutation[*shoalv1.Pod]{
		{"exists takes no value", func(p *shoalv1.Pod) { tol(p, 1).Value = "x" }, []string{invalid + "spec.tolerations[1].value"}},
		{"empty key needs exists", func(p *shoalv1.Pod) { tol(p, 0).Key = "" }, []string{invalid + "spec.tolerations[0].operator"}},
		{"empty key with unspecified operator", func(p *shoalv1.Pod) {
			tol(p, 0).Key, tol(p, 0).Operator = "", shoalv1.TolerationOperator_TOLERATION_OPERATOR_UNSPECIFIED
		}, []string{invalid + "spec.tolerations[0].operator"}},
		{"toleration seconds need NO_EXECUTE", func(p *shoalv1.Pod) { tol(p, 0).TolerationSeconds = ptr[int64](10) }, []string{invalid + "spec.tolerations[0].effect"}},
		{"toleration seconds with any effect", func(p *shoalv1.Pod) {
			tol(p, 2).Effect = shoalv1.TaintEffect_TAINT_EFFECT_UNSPECIFIED
		}, []string{invalid + "spec.tolerations[2].effect"}},
		{"toleration key invalid", func(p *shoalv1.Pod) { tol(p, 0).Key = "a b" }, []string{invalid + "spec.tolerations[0].key"}},
		{"toleration value invalid", func(p *shoalv1.Pod) { tol(p, 0).Value = "a b" }, []string{invalid + "spec.tolerations[0].value"}},
		{"node selector key", func(p *shoalv1.Pod) { p.Spec.NodeSelector["a b"] = "x" }, []string{invalid + "spec.node_selector"}},
		{"node selector value", func(p *shoalv1.Pod) { p.Spec.NodeSelector["disk"] = "s s d" }, []string{invalid + "spec.node_selector[disk]"}},
		{"grace period negative", func(p *shoalv1.Pod) { p.Spec.TerminationGracePeriodSeconds = ptr[int64](-1) }, []string{invalid + "spec.termination_grace_period_seconds"}},
		{"grace period zero", func(p *shoalv1.Pod) { p.Spec.TerminationGracePeriodSeconds = ptr[int64](0) }, nil},
		{"node name invalid", func(p *shoalv1.Pod) { p.Spec.NodeName = "Node_1" }, []string{invalid + "spec.node_name"}},
		{"node name valid", func(p *shoalv1.Pod) { p.Spec.NodeName = "node-1.example.com" }, nil},
		{"hostname not a label", func(p *shoalv1.Pod) { p.Spec.Hostname = "web.1" }, []string{invalid + "spec.hostname"}},
	})
}

func TestPodAffinity(t *testing.T) {
	const (
		na     = "spec.affinity.node_affinity"
		req    = na + ".required_during_scheduling_ignored_during_execution.node_selector_terms"
		pref   = na + ".preferred_during_scheduling_ignored_during_execution"
		pa     = "spec.affinity.pod_affinity.required_during_scheduling_ignored_during_execution"
		antiPr = "spec.affinity.pod_anti_affinity.preferred_during_scheduling_ignored_during_execution"
	)
	expr := func(p *shoalv1.Pod) *shoalv1.NodeSelectorRequirement {
		return p.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[0].MatchExpressions[0]
	}
	op := func(name string) shoalv1.NodeSelectorOperator {
		return shoalv1.NodeSelectorOperator(shoalv1.NodeSelectorOperator_value["NODE_SELECTOR_OPERATOR_"+name])
	}
	runObjectCases(t, validPod, []mutation[*shoalv1.Pod]{
		{"no required terms", func(p *shoalv1.Pod) {
			p.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms = nil
		}, []string{required + req}},
		{"operator required", func(p *shoalv1.Pod) { expr(p).Operator = op("UNSPECIFIED") }, []string{required + req + "[0].match_expressions[0].operator"}},
		{"in needs values", func(p *shoalv1.Pod) { expr(p).Values = nil }, []string{required + req + "[0].match_expressions[0].values"}},
		{"not in needs values", func(p *shoalv1.Pod) { expr(p).Operator, expr(p).Values = op("NOT_IN"), nil }, []string{required + req + "[0].match_expressions[0].values"}},
		{"exists takes no values", func(p *shoalv1.Pod) { expr(p).Operator = op("EXISTS") }, []string{forbidden + req + "[0].match_expressions[0].values"}},
		{"does not exist takes no values", func(p *shoalv1.Pod) { expr(p).Operator = op("DOES_NOT_EXIST") }, []string{forbidden + req + "[0].match_expressions[0].values"}},
		{"gt takes one value", func(p *shoalv1.Pod) { expr(p).Operator, expr(p).Values = op("GT"), []string{"1", "2"} }, []string{invalid + req + "[0].match_expressions[0].values"}},
		{"lt needs a value", func(p *shoalv1.Pod) { expr(p).Operator, expr(p).Values = op("LT"), nil }, []string{required + req + "[0].match_expressions[0].values"}},
		{"gt needs an integer", func(p *shoalv1.Pod) { expr(p).Operator, expr(p).Values = op("GT"), []string{"four"} }, []string{invalid + req + "[0].match_expressions[0].values[0]"}},
		{"lt with an integer", func(p *shoalv1.Pod) { expr(p).Operator, expr(p).Values = op("LT"), []string{"-3"} }, nil},
		{"key invalid", func(p *shoalv1.Pod) { expr(p).Key = "a b" }, []string{invalid + req + "[0].match_expressions[0].key"}},
		{"key required", func(p *shoalv1.Pod) { expr(p).Key = "" }, []string{required + req + "[0].match_expressions[0].key"}},
		{"match field key", func(p *shoalv1.Pod) {
			p.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[0].MatchFields[0].Key = "spec.pod_cidr"
		}, []string{notSupported + req + "[0].match_fields[0].key"}},
		{"preferred weight zero", func(p *shoalv1.Pod) {
			p.Spec.Affinity.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution[0].Weight = 0
		}, []string{invalid + pref + "[0].weight"}},
		{"preferred weight above 100", func(p *shoalv1.Pod) {
			p.Spec.Affinity.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution[0].Weight = 101
		}, []string{invalid + pref + "[0].weight"}},
		{"preferred term without preference", func(p *shoalv1.Pod) {
			p.Spec.Affinity.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution[0].Preference = nil
		}, []string{required + pref + "[0].preference"}},
		{"preferred term gt value", func(p *shoalv1.Pod) {
			p.Spec.Affinity.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution[0].Preference.MatchExpressions[0].Values = []string{"4.5"}
		}, []string{invalid + pref + "[0].preference.match_expressions[0].values[0]"}},
		{"pod affinity topology key required", func(p *shoalv1.Pod) {
			p.Spec.Affinity.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution[0].TopologyKey = ""
		}, []string{required + pa + "[0].topology_key"}},
		{"pod affinity topology key invalid", func(p *shoalv1.Pod) {
			p.Spec.Affinity.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution[0].TopologyKey = "a//b"
		}, []string{invalid + pa + "[0].topology_key"}},
		{"pod affinity namespaces", func(p *shoalv1.Pod) {
			p.Spec.Affinity.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution[0].Namespaces[1] = "Infra"
		}, []string{invalid + pa + "[0].namespaces[1]"}},
		{"pod affinity label selector", func(p *shoalv1.Pod) {
			p.Spec.Affinity.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution[0].LabelSelector.MatchLabels["app"] = "c a c h e"
		}, []string{invalid + pa + "[0].label_selector.match_labels[app]"}},
		{"anti affinity weight", func(p *shoalv1.Pod) {
			p.Spec.Affinity.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution[0].Weight = 0
		}, []string{invalid + antiPr + "[0].weight"}},
		{"anti affinity term required", func(p *shoalv1.Pod) {
			p.Spec.Affinity.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution[0].PodAffinityTerm = nil
		}, []string{required + antiPr + "[0].pod_affinity_term"}},
		{"anti affinity topology key", func(p *shoalv1.Pod) {
			p.Spec.Affinity.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution[0].PodAffinityTerm.TopologyKey = ""
		}, []string{required + antiPr + "[0].pod_affinity_term.topology_key"}},
		{"anti affinity selector values", func(p *shoalv1.Pod) {
			p.Spec.Affinity.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution[0].PodAffinityTerm.LabelSelector.MatchExpressions[0].Values = nil
		}, []string{required + antiPr + "[0].pod_affinity_term.label_selector.match_expressions[0].values"}},
		{"anti affinity selector operator", func(p *shoalv1.Pod) {
			p.Spec.Affinity.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution[0].PodAffinityTerm.LabelSelector.MatchExpressions[0].Operator = 0
		}, []string{required + antiPr + "[0].pod_affinity_term.label_selector.match_expressions[0].operator"}},
		{"empty affinity", func(p *shoalv1.Pod) { p.Spec.Affinity = &shoalv1.Affinity{} }, nil},
	})
}

func TestPodErrorMessages(t *testing.T) {
	p := validPod()
	p.Spec.Containers[0].Image = ""
	errs := Object(p)
	if len(errs) != 1 || errs[0].Error() != "spec.containers[0].image: Required value" {
		t.Errorf("errors = %v, want exactly spec.containers[0].image: Required value", errs)
	}
	p = validPod()
	p.Spec.Containers[0].Resources.Requests.CpuMillis = 500
	if errs := Object(p); len(errs) != 1 || !strings.Contains(errs[0].Error(), "limit (200)") {
		t.Errorf("errors = %v, want one naming the limit", errs)
	}
}
