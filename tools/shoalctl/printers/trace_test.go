package printers

import (
	"bytes"
	"strings"
	"testing"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/observability"
)

func TestDescribeShowsTheTrace(t *testing.T) {
	cases := []struct {
		traceparent, want string
	}{
		{"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "4bf92f3577b34da6a3ce929d0e0e4736"},
		{"garbage", ""},
		{"", ""},
	}
	for _, tc := range cases {
		if got := traceID(tc.traceparent); got != tc.want {
			t.Errorf("traceID(%q) = %q, want %q", tc.traceparent, got, tc.want)
		}
	}
	pod := &shoalv1.Pod{Metadata: &shoalv1.ObjectMeta{Name: "web-0", Namespace: "default",
		Annotations: map[string]string{observability.TraceAnnotation: cases[0].traceparent}}}
	var out bytes.Buffer
	if err := (&Table{}).Describe(&out, pod, nil); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "Trace:") || !strings.Contains(out.String(), cases[0].want) {
		t.Fatalf("describe output lacks the trace id:\n%s", out.String())
	}
}
