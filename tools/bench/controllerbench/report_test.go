package controllerbench

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/shoalmesh/shoal/tools/bench/report"
)

func TestReport(t *testing.T) {
	r := &Result{
		Config: NewConfig(), Date: time.Unix(1_700_000_000, 0), Scheduler: "test", Load: "0.1 0.2 0.3", ControllerIdleRSS: 30 << 20,
		Phases: []Phase{{Name: "create", Duration: 12 * time.Second, ControllerCPU: 6 * time.Second, ControllerPeakRSS: 80 << 20, ControllerEndRSS: 70 << 20, Writes: 2000, EventWrites: 900}},
	}
	md := r.Markdown()
	for _, want := range []string{"## Controller", "| create | 12.00 s | 6.00 s | 0.50 | 80 MiB | 70 MiB | 2000 | 900 |", "empty caches: 30 MiB"} {
		if !bytes.Contains(md, []byte(want)) {
			t.Fatalf("markdown lacks %q:\n%s", want, md)
		}
	}
	doc := r.Document()
	doc.Command = []string{"go", "run", "./tools/bench"}
	out, err := report.Splice([]byte("# Benchmarks\n"), DocumentID, doc.Markdown())
	if err != nil {
		t.Fatal(err)
	}
	begin, end := report.Markers(DocumentID)
	if s := string(out); !strings.Contains(s, begin) || !strings.Contains(s, end) || !strings.Contains(s, "| create |") {
		t.Fatalf("document:\n%s", s)
	}
	var text bytes.Buffer
	if err := r.WriteText(&text); err != nil || !strings.Contains(text.String(), "create") {
		t.Fatalf("text: %v\n%s", err, text.String())
	}
}
