package printers

import (
	"fmt"
	"io"
	"maps"
	"sort"
	"strings"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/observability"
	"github.com/shoalmesh/shoal/sdk/go/kinds"
	"sigs.k8s.io/yaml"
)

// traceID is the trace id of a W3C traceparent ("" when malformed).
func traceID(traceparent string) string {
	parts := strings.Split(traceparent, "-")
	if len(parts) != 4 || len(parts[1]) != 32 {
		return ""
	}
	return parts[1]
}

// Describe prints an object the way kubectl describe does: its metadata,
// the few facts people look for first, the whole spec and status, and the
// events about it (oldest first).
func (t *Table) Describe(w io.Writer, obj kinds.Object, events []*shoalv1.Event) error {
	m := obj.GetMetadata()
	d := describer{w: w}
	d.field("Name", m.GetName())
	if m.GetNamespace() != "" {
		d.field("Namespace", m.GetNamespace())
	}
	d.lines("Labels", pairs(m.GetLabels(), "="))
	annotations := maps.Clone(m.GetAnnotations())
	delete(annotations, LastAppliedAnnotation) // as kubectl describe hides its own
	d.lines("Annotations", pairs(annotations, ": "))
	d.field("CreationTimestamp", timestamp(m.GetCreationTimestamp()))
	if id := traceID(m.GetAnnotations()[observability.TraceAnnotation]); id != "" {
		// The trace of the request that created or last changed the spec:
		// look it up in the tracing backend (Jaeger: /trace/<id>).
		d.field("Trace", id)
	}
	if ts := m.GetDeletionTimestamp(); ts != nil {
		d.field("DeletionTimestamp", timestamp(ts))
	}
	for _, o := range m.GetOwnerReferences() {
		if o.GetController() {
			d.field("Controlled By", o.GetKind()+"/"+o.GetName())
		}
	}
	t.summary(&d, obj)
	for _, part := range []string{"spec", "status"} {
		msg := kinds.Spec(obj)
		if part == "status" {
			msg = kinds.Status(obj)
		}
		if !msg.IsValid() || proto.Size(msg.Interface()) == 0 {
			continue
		}
		if err := d.yaml(strings.ToUpper(part[:1])+part[1:], msg.Interface()); err != nil {
			return err
		}
	}
	d.events(t, events)
	return d.err
}

// DescribeTemplate prints a pod template (rollout history --revision).
func DescribeTemplate(w io.Writer, tmpl *shoalv1.PodTemplateSpec) error {
	d := describer{w: w, indent: "  ", width: 14}
	d.lines("Labels", pairs(tmpl.GetMetadata().GetLabels(), "="))
	d.lines("Annotations", pairs(tmpl.GetMetadata().GetAnnotations(), ": "))
	d.printf("  Containers:\n")
	for _, c := range tmpl.GetSpec().GetContainers() {
		d.printf("   %s:\n", c.GetName())
		cd := describer{w: w, indent: "    ", width: 12}
		cd.field("Image", c.GetImage())
		if len(c.GetCommand()) > 0 {
			cd.field("Command", strings.Join(c.GetCommand(), " "))
		}
		if len(c.GetArgs()) > 0 {
			cd.field("Args", strings.Join(c.GetArgs(), " "))
		}
		if cd.err != nil {
			return cd.err
		}
	}
	return d.err
}

func (t *Table) summary(d *describer, obj kinds.Object) {
	switch o := obj.(type) {
	case *shoalv1.Pod:
		row := podRow(t, o)
		d.field("Node", none(o.GetSpec().GetNodeName()))
		d.field("Status", row[2])
		d.field("IP", none(o.GetStatus().GetPodIp()))
		d.field("Ready", row[1])
		d.field("Restarts", row[3])
		for _, c := range o.GetSpec().GetContainers() {
			d.field("Container "+c.GetName(), c.GetImage())
		}
	case *shoalv1.Deployment:
		st := o.GetStatus()
		d.field("Selector", Selector(o.GetSpec().GetSelector()))
		d.field("Replicas", fmt.Sprintf("%d desired | %d updated | %d total | %d available | %d unavailable",
			Replicas(o.GetSpec().Replicas), st.GetUpdatedReplicas(), st.GetReplicas(), st.GetAvailableReplicas(), st.GetUnavailableReplicas()))
		strategy := "RollingUpdate"
		if o.GetSpec().GetStrategy().GetType() == shoalv1.DeploymentStrategyType_DEPLOYMENT_STRATEGY_TYPE_RECREATE {
			strategy = "Recreate"
		}
		d.field("StrategyType", strategy)
		if o.GetSpec().GetPaused() {
			d.field("Paused", "true")
		}
	case *shoalv1.ReplicaSet:
		st := o.GetStatus()
		d.field("Selector", Selector(o.GetSpec().GetSelector()))
		d.field("Replicas", fmt.Sprintf("%d current / %d desired", st.GetReplicas(), Replicas(o.GetSpec().Replicas)))
		d.field("Pods Status", fmt.Sprintf("%d Ready / %d Available", st.GetReadyReplicas(), st.GetAvailableReplicas()))
	case *shoalv1.Service:
		d.field("Selector", none(formatMap(o.GetSpec().GetSelector())))
		d.field("Type", "ClusterIP")
		d.field("IP", none(o.GetSpec().GetClusterIp()))
		d.field("Port(s)", ServicePorts(o.GetSpec().GetPorts()))
	case *shoalv1.Node:
		row := nodeRow(t, o)
		d.field("Status", row[1])
		d.field("Roles", row[2])
		d.field("Unschedulable", fmt.Sprint(o.GetSpec().GetUnschedulable()))
	}
}

// describer writes aligned "Key:  value" lines and remembers the first
// write error.
type describer struct {
	w      io.Writer
	indent string
	width  int // of the key column; keyWidth when 0
	err    error
}

const keyWidth = 20

// LastAppliedAnnotation is apply's record of the manifest (see package
// apply), which describe leaves out.
const LastAppliedAnnotation = "shoal.io/last-applied-configuration"

func (d *describer) keyWidth() int {
	if d.width == 0 {
		return keyWidth
	}
	return d.width
}

func (d *describer) printf(format string, args ...any) {
	if d.err == nil {
		_, d.err = fmt.Fprintf(d.w, format, args...)
	}
}

func (d *describer) field(key, value string) {
	d.printf("%s%-*s%s\n", d.indent, d.keyWidth(), key+":", value)
}

func (d *describer) lines(key string, values []string) {
	if len(values) == 0 {
		d.field(key, "<none>")
		return
	}
	d.field(key, values[0])
	for _, v := range values[1:] {
		d.printf("%s%-*s%s\n", d.indent, d.keyWidth(), "", v)
	}
}

// yaml prints a message as indented YAML under a heading.
func (d *describer) yaml(heading string, msg proto.Message) error {
	js, err := protojson.Marshal(msg)
	if err != nil {
		return err
	}
	out, err := yaml.JSONToYAML(js)
	if err != nil {
		return err
	}
	d.printf("%s:\n", heading)
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		d.printf("  %s\n", line)
	}
	return nil
}

func (d *describer) events(t *Table, events []*shoalv1.Event) {
	if len(events) == 0 {
		d.printf("Events:%s<none>\n", strings.Repeat(" ", keyWidth-len("Events:")))
		return
	}
	sorted := append([]*shoalv1.Event(nil), events...)
	sort.SliceStable(sorted, func(i, j int) bool { return EventTime(sorted[i]).Before(EventTime(sorted[j])) })
	d.printf("Events:\n")
	tw := NewTabWriter(d.w)
	fmt.Fprintln(tw, "  Type\tReason\tAge\tFrom\tMessage")
	fmt.Fprintln(tw, "  ----\t------\t----\t----\t-------")
	for _, e := range sorted {
		age := Since(t.now(), EventTime(e))
		if n := e.GetSpec().GetCount(); n > 1 {
			age = fmt.Sprintf("%s (x%d over %s)", age, n, Since(t.now(), e.GetSpec().GetFirstTimestamp().AsTime()))
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", EventType(e), e.GetSpec().GetReason(), age,
			none(e.GetSpec().GetSource().GetComponent()), e.GetSpec().GetMessage())
	}
	if err := tw.Flush(); err != nil && d.err == nil {
		d.err = err
	}
}

func pairs(m map[string]string, sep string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k + sep + m[k]
	}
	return out
}

func timestamp(ts *timestamppb.Timestamp) string {
	if ts == nil {
		return "<unknown>"
	}
	return ts.AsTime().UTC().Format(time.RFC1123Z)
}
