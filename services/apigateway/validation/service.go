package validation

import (
	"fmt"
	"strings"

	"google.golang.org/protobuf/types/known/durationpb"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/sdk/go/selector"
)

// headlessClusterIP makes a service without a virtual IP.
const headlessClusterIP = "None"

func validateServiceSpec(spec *shoalv1.ServiceSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	errs = append(errs, selector.ValidateLabels(spec.GetSelector(), p.Child("selector"))...)
	ports := spec.GetPorts()
	if len(ports) == 0 {
		errs = append(errs, field.Required(p.Child("ports"), "at least one port is required"))
	}
	names := map[string]bool{}
	portKeys := map[string]bool{}
	for i, port := range ports {
		pp := p.Child("ports").Index(i)
		errs = append(errs, portName(port.GetName(), len(ports) > 1, names, pp.Child("name"))...)
		if n := port.GetPort(); n < 1 || n > 65535 {
			errs = append(errs, field.Invalid(pp.Child("port"), n, portRange))
		} else {
			proto := port.GetProtocol()
			if proto == shoalv1.ServiceProtocol_SERVICE_PROTOCOL_UNSPECIFIED {
				proto = shoalv1.ServiceProtocol_SERVICE_PROTOCOL_TCP
			}
			key := fmt.Sprintf("%d/%s", n, proto)
			if portKeys[key] {
				errs = append(errs, field.Duplicate(pp.Child("port"), n))
			}
			portKeys[key] = true
		}
		if port.GetTargetPort().GetValue() != nil { // unset defaults to port
			errs = append(errs, validatePortNumOrName(port.GetTargetPort(), pp.Child("target_port"))...)
		}
	}
	if ip := spec.GetClusterIp(); ip != "" && ip != headlessClusterIP {
		if verrs := validation.IsValidIP(p.Child("cluster_ip"), ip); len(verrs) > 0 {
			errs = append(errs, field.Invalid(p.Child("cluster_ip"), ip, `must be empty, "None" or a valid IP address`))
		}
	}
	lp := p.Child("load_balancing")
	lb := spec.GetLoadBalancing()
	ringHash := lb.GetPolicy() == shoalv1.LoadBalancerPolicy_LOAD_BALANCER_POLICY_RING_HASH
	switch h := lb.GetHashHeader(); {
	case h == "" && ringHash:
		errs = append(errs, field.Required(lp.Child("hash_header"), "required when policy is LOAD_BALANCER_POLICY_RING_HASH"))
	case h != "" && !ringHash:
		errs = append(errs, field.Forbidden(lp.Child("hash_header"), "only allowed when policy is LOAD_BALANCER_POLICY_RING_HASH"))
	case h != "":
		if msgs := validation.IsHTTPHeaderName(h); len(msgs) > 0 {
			errs = append(errs, field.Invalid(lp.Child("hash_header"), h, strings.Join(msgs, "; ")))
		}
	}
	errs = append(errs, validateDuration(spec.GetTimeout(), p.Child("timeout"))...)
	if rp := spec.GetRetryPolicy(); rp != nil {
		rpp := p.Child("retry_policy")
		if rp.GetAttempts() < 0 {
			errs = append(errs, field.Invalid(rpp.Child("attempts"), rp.GetAttempts(), mustBeNonNegative))
		}
		errs = append(errs, validateDuration(rp.GetPerTryTimeout(), rpp.Child("per_try_timeout"))...)
		for i, on := range rp.GetRetryOn() {
			if on == "" {
				errs = append(errs, field.Required(rpp.Child("retry_on").Index(i), ""))
			}
		}
	}
	return errs
}

// validateDuration requires a well-formed, non-negative duration (nil is
// fine: unset).
func validateDuration(d *durationpb.Duration, p *field.Path) field.ErrorList {
	if d == nil {
		return nil
	}
	if err := d.CheckValid(); err != nil {
		return field.ErrorList{field.Invalid(p, d.String(), err.Error())}
	}
	if d.AsDuration() < 0 {
		return field.ErrorList{field.Invalid(p, d.AsDuration().String(), mustBeNonNegative)}
	}
	return nil
}

func validateEndpointsSpec(spec *shoalv1.EndpointsSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, a := range spec.GetAddresses() {
		ap := p.Child("addresses").Index(i)
		if a.GetIp() == "" {
			errs = append(errs, field.Required(ap.Child("ip"), ""))
		} else {
			errs = append(errs, validation.IsValidIP(ap.Child("ip"), a.GetIp())...)
		}
		errs = append(errs, optionalName(isSubdomain, a.GetNodeName(), ap.Child("node_name"))...)
		errs = append(errs, optionalName(isLabel, a.GetHostname(), ap.Child("hostname"))...)
	}
	ports := spec.GetPorts()
	names := map[string]bool{}
	for i, port := range ports {
		pp := p.Child("ports").Index(i)
		errs = append(errs, portName(port.GetName(), len(ports) > 1, names, pp.Child("name"))...)
		if n := port.GetPort(); n < 1 || n > 65535 {
			errs = append(errs, field.Invalid(pp.Child("port"), n, portRange))
		}
	}
	return errs
}

// portName checks a service or endpoints port name: a DNS label, unique,
// and required when there are several ports.
func portName(name string, several bool, seen map[string]bool, p *field.Path) field.ErrorList {
	switch {
	case name == "" && several:
		return field.ErrorList{field.Required(p, "required when there is more than one port")}
	case name == "":
		return nil
	case seen[name]:
		return field.ErrorList{field.Duplicate(p, name)}
	}
	seen[name] = true
	return checkName(isLabel, name, p)
}
