package manifest

import (
	"encoding/json"
	"fmt"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"
	"k8s.io/apimachinery/pkg/api/resource"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/sdk/go/kinds"
)

// APIVersion is the apiVersion of Shoal's own documents.
const APIVersion = "shoal.io/v1"

// target is the Shoal kind a document becomes, and an optional rewrite of
// the document's tree before it is walked.
type target struct {
	kind    kinds.Kind
	rewrite func(tree map[string]any)
}

// kubernetesKinds are the Kubernetes apiVersion/kind pairs Shoal accepts.
var kubernetesKinds = []struct {
	apiVersion, kind, shoalKind string
	rewrite                     func(map[string]any)
}{
	{"v1", "Pod", "Pod", nil},
	{"v1", "Service", "Service", nil},
	{"v1", "Namespace", "Namespace", nil},
	{"v1", "ReplicationController", "ReplicaSet", replicationController},
	{"apps/v1", "Deployment", "Deployment", nil},
	{"apps/v1", "ReplicaSet", "ReplicaSet", nil},
}

func resolveKind(apiVersion, kind string) (target, bool) {
	if apiVersion == APIVersion {
		k, ok := kinds.ByName(kind)
		return target{kind: k}, ok
	}
	for _, kk := range kubernetesKinds {
		if kk.apiVersion == apiVersion && kk.kind == kind {
			k, _ := kinds.ByName(kk.shoalKind)
			return target{kind: k, rewrite: kk.rewrite}, true
		}
	}
	return target{}, false
}

func supportedKinds() string {
	byVersion := map[string][]string{}
	var order []string
	for _, kk := range kubernetesKinds {
		if _, ok := byVersion[kk.apiVersion]; !ok {
			order = append(order, kk.apiVersion)
		}
		byVersion[kk.apiVersion] = append(byVersion[kk.apiVersion], kk.kind)
	}
	var parts []string
	for _, v := range order {
		parts = append(parts, v+" "+strings.Join(byVersion[v], ", "))
	}
	return "supported: " + strings.Join(parts, "; ") + "; " + APIVersion + " any Shoal kind"
}

// replicationController turns a v1 ReplicationController's map selector into
// a LabelSelector; like Kubernetes, a missing selector is the template's
// labels.
func replicationController(tree map[string]any) {
	spec, ok := tree["spec"].(map[string]any)
	if !ok {
		return
	}
	sel, has := spec["selector"]
	if !has || sel == nil {
		tmpl, _ := spec["template"].(map[string]any)
		meta, _ := tmpl["metadata"].(map[string]any)
		if labels, ok := meta["labels"]; ok {
			sel = labels
		}
	}
	if sel != nil {
		spec["selector"] = map[string]any{"matchLabels": sel}
	}
}

// handler converts a value into a message, or (returning false) leaves it to
// the generic walk.
type handler func(c *converter, m protoreflect.Message, v any, path string) bool

// keyHandler converts the value of one key that has no field of its own
// name.
type keyHandler func(c *converter, m protoreflect.Message, v any, path string)

// messageHandlers translate whole values into messages of a type.
var messageHandlers = map[protoreflect.FullName]handler{
	"shoal.v1.IntOrString": intOrString,
}

// keyRules are the keys of a message that are translated, ignored, or
// accepted at one value, instead of being matched to a field.
var keyRules = map[protoreflect.FullName]map[string]keyHandler{
	"shoal.v1.ObjectMeta": {
		// Server-set: ignored, as kubectl apply does.
		"uid": ignore, "resourceVersion": ignore, "creationTimestamp": ignore,
		"generation": ignore, "managedFields": ignore, "selfLink": ignore,
		"deletionTimestamp": ignore, "deletionGracePeriodSeconds": ignore,
	},
	"shoal.v1.OwnerReference": {"apiVersion": ignore},
	"shoal.v1.ResourceList": {
		"cpu":    quantity("cpu_millis", (*resource.Quantity).MilliValue),
		"memory": quantity("memory_bytes", (*resource.Quantity).Value),
	},
	"shoal.v1.EmptyDirVolumeSource": {"sizeLimit": quantity("size_limit_bytes", (*resource.Quantity).Value)},
	"shoal.v1.EnvVarSource":         {"fieldRef": fieldRef},
	"shoal.v1.ServicePort":          {"appProtocol": appProtocol},
	"shoal.v1.ServiceSpec": {
		"type":            acceptOnly("ClusterIP"),
		"sessionAffinity": acceptOnly("None"),
	},
	"shoal.v1.PodSpec": {
		"dnsPolicy":     acceptOnly("ClusterFirst"),
		"schedulerName": acceptOnly("default-scheduler"),
	},
	"shoal.v1.Container": {
		"terminationMessagePath":   acceptOnly("/dev/termination-log"),
		"terminationMessagePolicy": acceptOnly("File"),
	},
}

func ignore(*converter, protoreflect.Message, any, string) {}

// acceptOnly accepts a Kubernetes field at the one value Shoal implements
// (its Kubernetes default) and refuses any other.
func acceptOnly(value string) keyHandler {
	return func(c *converter, _ protoreflect.Message, v any, path string) {
		if s, ok := v.(string); ok && s == value {
			return
		}
		c.fail(path, "Unsupported value: %s: supported values: %q", describeValue(v), value)
	}
}

// intOrString takes a bare number or string; an object is Shoal's own
// {intValue|strValue} form.
func intOrString(c *converter, m protoreflect.Message, v any, path string) bool {
	fields := m.Descriptor().Fields()
	switch x := v.(type) {
	case json.Number:
		val, ok := c.scalar(fields.ByName("int_value"), x, path)
		if ok {
			m.Set(fields.ByName("int_value"), val)
		}
		return true
	case string:
		m.Set(fields.ByName("str_value"), protoreflect.ValueOfString(x))
		return true
	}
	return false
}

// quantity parses a Kubernetes resource quantity ("500m", "128Mi", 2) into
// an integer field, with get choosing the unit (MilliValue for CPU).
func quantity(field protoreflect.Name, get func(*resource.Quantity) int64) keyHandler {
	return func(c *converter, m protoreflect.Message, v any, path string) {
		if v == nil {
			return
		}
		text := numberText(v)
		q, err := resource.ParseQuantity(text)
		if text == "" || err != nil {
			c.fail(path, "Invalid value: %s: expected a quantity such as 500m, 128Mi or 2", describeValue(v))
			return
		}
		if q.Sign() < 0 {
			c.fail(path, "Invalid value: %s: must be greater than or equal to 0", describeValue(v))
			return
		}
		m.Set(m.Descriptor().Fields().ByName(field), protoreflect.ValueOfInt64(get(&q)))
	}
}

// kubernetesFieldPaths are Kubernetes' spellings of the pod fields an
// environment variable may come from; Shoal spells them with proto names.
var kubernetesFieldPaths = map[string]string{
	"spec.nodeName": "spec.node_name",
	"status.podIP":  "status.pod_ip",
	"status.hostIP": "status.host_ip",
}

// fieldRef is Kubernetes' valueFrom.fieldRef{fieldPath}.
func fieldRef(c *converter, m protoreflect.Message, v any, path string) {
	if v == nil {
		return
	}
	obj, ok := v.(map[string]any)
	if !ok {
		c.fail(path, "Invalid value: %s: expected an object", describeValue(v))
		return
	}
	for _, key := range sortedKeys(obj) {
		val := obj[key]
		switch key {
		case "apiVersion":
			if val != "v1" {
				c.fail(join(path, key), "Unsupported value: %s: supported values: \"v1\"", describeValue(val))
			}
		case "fieldPath":
			s, ok := val.(string)
			if !ok {
				c.fail(join(path, key), "Invalid value: %s: expected a string", describeValue(val))
				continue
			}
			if p, ok := kubernetesFieldPaths[s]; ok {
				s = p
			}
			m.Set(m.Descriptor().Fields().ByName("field_path"), protoreflect.ValueOfString(s))
		default:
			c.unsupported(join(path, key))
		}
	}
}

// appProtocols are the Service appProtocol values Shoal's mesh speaks.
var appProtocols = map[string]shoalv1.ServiceProtocol{
	"grpc":              shoalv1.ServiceProtocol_SERVICE_PROTOCOL_GRPC,
	"http":              shoalv1.ServiceProtocol_SERVICE_PROTOCOL_HTTP,
	"http2":             shoalv1.ServiceProtocol_SERVICE_PROTOCOL_HTTP,
	"kubernetes.io/h2c": shoalv1.ServiceProtocol_SERVICE_PROTOCOL_HTTP,
	"tcp":               shoalv1.ServiceProtocol_SERVICE_PROTOCOL_TCP,
}

// appProtocol sets a service port's protocol from Kubernetes' appProtocol;
// it wins over `protocol: TCP`.
func appProtocol(c *converter, m protoreflect.Message, v any, path string) {
	if v == nil {
		return
	}
	s, _ := v.(string)
	p, ok := appProtocols[strings.ToLower(s)]
	if !ok {
		c.fail(path, "Unsupported value: %s: supported values: \"grpc\", \"http\", \"http2\", \"kubernetes.io/h2c\", \"tcp\"", describeValue(v))
		return
	}
	m.Set(m.Descriptor().Fields().ByName("protocol"), protoreflect.ValueOfEnum(protoreflect.EnumNumber(p)))
}

// String makes Document print usefully in test failures.
func (d Document) String() string { return fmt.Sprintf("%s %s", d.Describe(), kinds.Key(d.Object)) }
