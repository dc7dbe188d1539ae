package validation

import (
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
)

// envFieldPaths are the pod fields an environment variable may take its
// value from.
var envFieldPaths = []string{
	"metadata.name", "metadata.namespace", "metadata.uid",
	"spec.node_name", "status.pod_ip", "status.host_ip",
}

var portRange = validation.InclusiveRangeError(1, 65535)

// portSet tracks ports across the containers of one pod: they share a
// network namespace, so a port and protocol can be taken only once.
type portSet struct {
	names     map[string]bool
	container map[string]bool // "8080/PROTOCOL_TCP"
	host      map[string]bool
}

// protocolKey treats UNSPECIFIED as TCP, its default.
func protocolKey(port int32, proto shoalv1.Protocol) string {
	if proto == shoalv1.Protocol_PROTOCOL_UNSPECIFIED {
		proto = shoalv1.Protocol_PROTOCOL_TCP
	}
	return strconv.Itoa(int(port)) + "/" + proto.String()
}

func validateContainers(containers []*shoalv1.Container, volumes map[string]bool, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	names := map[string]bool{}
	ports := &portSet{names: map[string]bool{}, container: map[string]bool{}, host: map[string]bool{}}
	for i, c := range containers {
		cp := p.Index(i)
		if name := c.GetName(); name != "" && names[name] {
			errs = append(errs, field.Duplicate(cp.Child("name"), name))
		} else {
			errs = append(errs, requiredName(isLabel, name, cp.Child("name"))...)
			names[name] = true
		}
		switch img := c.GetImage(); {
		case img == "":
			errs = append(errs, field.Required(cp.Child("image"), ""))
		case strings.TrimSpace(img) != img:
			errs = append(errs, field.Invalid(cp.Child("image"), img, "must not have leading or trailing whitespace"))
		}
		errs = append(errs, validateContainerPorts(c.GetPorts(), ports, cp.Child("ports"))...)
		errs = append(errs, validateEnv(c.GetEnv(), cp.Child("env"))...)
		errs = append(errs, validateResources(c.GetResources(), cp.Child("resources"))...)
		errs = append(errs, validateProbe(c.GetLivenessProbe(), true, cp.Child("liveness_probe"))...)
		errs = append(errs, validateProbe(c.GetReadinessProbe(), false, cp.Child("readiness_probe"))...)
		errs = append(errs, validateVolumeMounts(c.GetVolumeMounts(), volumes, cp.Child("volume_mounts"))...)
	}
	return errs
}

func validateContainerPorts(ports []*shoalv1.ContainerPort, seen *portSet, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, port := range ports {
		pp := p.Index(i)
		if name := port.GetName(); name != "" {
			if msgs := isPortName(name); len(msgs) > 0 {
				errs = append(errs, field.Invalid(pp.Child("name"), name, strings.Join(msgs, "; ")))
			} else if seen.names[name] {
				errs = append(errs, field.Duplicate(pp.Child("name"), name))
			}
			seen.names[name] = true
		}
		switch n := port.GetContainerPort(); {
		case n == 0:
			errs = append(errs, field.Required(pp.Child("container_port"), ""))
		case n < 1 || n > 65535:
			errs = append(errs, field.Invalid(pp.Child("container_port"), n, portRange))
		default:
			key := protocolKey(n, port.GetProtocol())
			if seen.container[key] {
				errs = append(errs, field.Duplicate(pp.Child("container_port"), key))
			}
			seen.container[key] = true
		}
		switch n := port.GetHostPort(); {
		case n < 0 || n > 65535:
			errs = append(errs, field.Invalid(pp.Child("host_port"), n, validation.InclusiveRangeError(0, 65535)))
		case n > 0:
			key := protocolKey(n, port.GetProtocol())
			if seen.host[key] {
				errs = append(errs, field.Duplicate(pp.Child("host_port"), key))
			}
			seen.host[key] = true
		}
		if ip := port.GetHostIp(); ip != "" {
			errs = append(errs, validation.IsValidIP(pp.Child("host_ip"), ip)...)
		}
	}
	return errs
}

func validateEnv(env []*shoalv1.EnvVar, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, e := range env {
		ep := p.Index(i)
		if e.GetName() == "" {
			errs = append(errs, field.Required(ep.Child("name"), ""))
		} else if msgs := validation.IsRelaxedEnvVarName(e.GetName()); len(msgs) > 0 {
			errs = append(errs, field.Invalid(ep.Child("name"), e.GetName(), strings.Join(msgs, "; ")))
		}
		if e.GetValueFrom() == nil {
			continue
		}
		vp := ep.Child("value_from")
		if e.GetValue() != "" {
			errs = append(errs, field.Invalid(vp, "", "may not be specified when value is not empty"))
		}
		fp := vp.Child("field_path")
		switch f := e.GetValueFrom().GetFieldPath(); {
		case f == "":
			errs = append(errs, field.Required(fp, ""))
		case !slices.Contains(envFieldPaths, f):
			errs = append(errs, field.NotSupported(fp, f, envFieldPaths))
		}
	}
	return errs
}

// validateResources requires non-negative amounts and, where a request and
// a limit are both set (non-zero), request <= limit.
func validateResources(r *shoalv1.ResourceRequirements, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	type amount struct {
		name       string
		req, limit int64
	}
	for _, a := range []amount{
		{"cpu_millis", r.GetRequests().GetCpuMillis(), r.GetLimits().GetCpuMillis()},
		{"memory_bytes", r.GetRequests().GetMemoryBytes(), r.GetLimits().GetMemoryBytes()},
	} {
		reqPath := p.Child("requests", a.name)
		if a.req < 0 {
			errs = append(errs, field.Invalid(reqPath, a.req, mustBeNonNegative))
		}
		if a.limit < 0 {
			errs = append(errs, field.Invalid(p.Child("limits", a.name), a.limit, mustBeNonNegative))
		}
		if a.req > 0 && a.limit > 0 && a.req > a.limit {
			errs = append(errs, field.Invalid(reqPath, a.req,
				fmt.Sprintf("must be less than or equal to the limit (%d)", a.limit)))
		}
	}
	return errs
}

// validateProbe checks a probe: exactly one handler, valid ports, and
// non-negative timings. A liveness probe's success threshold must be 1.
func validateProbe(probe *shoalv1.Probe, liveness bool, p *field.Path) field.ErrorList {
	if probe == nil {
		return nil
	}
	var errs field.ErrorList
	switch probe.GetHandler().(type) {
	case *shoalv1.Probe_Exec:
		if len(probe.GetExec().GetCommand()) == 0 {
			errs = append(errs, field.Required(p.Child("exec", "command"), ""))
		}
	case *shoalv1.Probe_TcpSocket:
		errs = append(errs, validatePortNumOrName(probe.GetTcpSocket().GetPort(), p.Child("tcp_socket", "port"))...)
	case *shoalv1.Probe_HttpGet:
		hp := p.Child("http_get")
		errs = append(errs, validatePortNumOrName(probe.GetHttpGet().GetPort(), hp.Child("port"))...)
		for i, h := range probe.GetHttpGet().GetHttpHeaders() {
			if msgs := validation.IsHTTPHeaderName(h.GetName()); len(msgs) > 0 {
				errs = append(errs, field.Invalid(hp.Child("http_headers").Index(i).Child("name"), h.GetName(), strings.Join(msgs, "; ")))
			}
		}
	case *shoalv1.Probe_Grpc:
		errs = append(errs, validatePortNumber(probe.GetGrpc().GetPort(), p.Child("grpc", "port"))...)
	default:
		errs = append(errs, field.Required(p, "must specify exactly one handler: exec, tcp_socket, http_get or grpc"))
	}
	for _, n := range []struct {
		name  string
		value int32
	}{
		{"initial_delay_seconds", probe.GetInitialDelaySeconds()},
		{"timeout_seconds", probe.GetTimeoutSeconds()},
		{"period_seconds", probe.GetPeriodSeconds()},
		{"success_threshold", probe.GetSuccessThreshold()},
		{"failure_threshold", probe.GetFailureThreshold()},
	} {
		if n.value < 0 {
			errs = append(errs, field.Invalid(p.Child(n.name), n.value, mustBeNonNegative))
		}
	}
	if liveness && probe.GetSuccessThreshold() > 1 {
		errs = append(errs, field.Invalid(p.Child("success_threshold"), probe.GetSuccessThreshold(), "must be 1 for a liveness probe"))
	}
	return errs
}

// validatePortNumber requires a port number 1-65535.
func validatePortNumber(n int32, p *field.Path) field.ErrorList {
	switch {
	case n == 0:
		return field.ErrorList{field.Required(p, "")}
	case n < 1 || n > 65535:
		return field.ErrorList{field.Invalid(p, n, portRange)}
	}
	return nil
}

// validatePortNumOrName requires a port number 1-65535 or an IANA service
// name (a named container port).
func validatePortNumOrName(port *shoalv1.IntOrString, p *field.Path) field.ErrorList {
	switch v := port.GetValue().(type) {
	case *shoalv1.IntOrString_IntValue:
		if v.IntValue < 1 || v.IntValue > 65535 {
			return field.ErrorList{field.Invalid(p, v.IntValue, portRange)}
		}
	case *shoalv1.IntOrString_StrValue:
		if msgs := isPortName(v.StrValue); len(msgs) > 0 {
			return field.ErrorList{field.Invalid(p, v.StrValue, strings.Join(msgs, "; "))}
		}
	default:
		return field.ErrorList{field.Required(p, "a port number or name is required")}
	}
	return nil
}

func validateVolumeMounts(mounts []*shoalv1.VolumeMount, volumes map[string]bool, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	paths := map[string]bool{}
	for i, m := range mounts {
		mp := p.Index(i)
		switch name := m.GetName(); {
		case name == "":
			errs = append(errs, field.Required(mp.Child("name"), ""))
		case !volumes[name]:
			errs = append(errs, field.NotFound(mp.Child("name"), name))
		}
		pp := mp.Child("mount_path")
		switch mountPath := m.GetMountPath(); {
		case mountPath == "":
			errs = append(errs, field.Required(pp, ""))
		case !path.IsAbs(mountPath):
			errs = append(errs, field.Invalid(pp, mountPath, "must be an absolute path"))
		case paths[path.Clean(mountPath)]:
			errs = append(errs, field.Duplicate(pp, mountPath))
		default:
			paths[path.Clean(mountPath)] = true
		}
		if sub := m.GetSubPath(); sub != "" {
			sp := mp.Child("sub_path")
			if path.IsAbs(sub) {
				errs = append(errs, field.Invalid(sp, sub, "must be a relative path"))
			} else if hasBackstep(sub) {
				errs = append(errs, field.Invalid(sp, sub, "must not contain '..'"))
			}
		}
	}
	return errs
}
