package xdsbench

import (
	"bytes"
	"fmt"
	"slices"
	"time"

	"github.com/shoalmesh/shoal/tools/bench/report"
)

// Markdown renders the result as the "xDS" section of docs/benchmarks.md.
func (r *Result) Markdown() []byte {
	var b bytes.Buffer
	c := r.Config
	fmt.Fprintf(&b, "## xDS\n\n")
	fmt.Fprintf(&b, "- Date: %s\n", r.Start.UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(&b, "- Machine: %s\n", report.ThisMachine())
	fmt.Fprintf(&b, "- Load average at start: %s\n", report.LoadAverage())
	fmt.Fprintf(&b, "- %d proxyless grpc-go clients (one ADS stream and node id each), %d endpoint flips per server, xds --debounce %v\n", c.Streams, c.Changes, c.Debounce)
	fmt.Fprintf(&b, "- Clients in processes of their own, each with its own heap and GC (in production every client is its own process): %s per server, the same for both, %s. They share the cores with the servers, so a server's push competes with its clients' threads, as it would not with clients on other machines\n\n", procsPhrase(c.Streams, c.ClientProcs), maxProcsPhrase(c.ClientMaxProcs))
	t := report.Table{Title: "Convergence after an Endpoints change", Columns: []string{"server", "push p50", "push p99", "push max", "ack p50", "ack p99", "ack max", "client p50", "client p99", "client max", "RSS", "CPU per change"}}
	for _, s := range []ServerResult{r.Bare, r.XDS} {
		t.AddRow(s.Name, report.Millis(pct(s.Push, 50)), report.Millis(pct(s.Push, 99)), report.Millis(pct(s.Push, 100)),
			report.Millis(pct(s.Ack, 50)), report.Millis(pct(s.Ack, 99)), report.Millis(pct(s.Ack, 100)),
			report.Millis(pct(s.Client, 50)), report.Millis(pct(s.Client, 99)), report.Millis(pct(s.Client, 100)),
			report.MiB(s.RSS), report.Millis(s.CPUPerChange))
	}
	_ = t.WriteMarkdown(&b)
	b.WriteString("\n")
	bareE2E, xdsE2E := pct(r.Bare.Client, 100), pct(r.XDS.Client, 100)
	fmt.Fprintf(&b, "- %s\n", report.Verdict("end to end no slower than the bare server (client max)", report.Millis(xdsE2E), "<= "+report.Millis(bareE2E), xdsE2E <= bareE2E))
	fmt.Fprintf(&b, "- %s\n", report.Verdict("client p99", report.Millis(pct(r.XDS.Client, 99)), "< 1 s", pct(r.XDS.Client, 99) < time.Second))
	half := r.Bare.CPUPerChange / 2
	fmt.Fprintf(&b, "- %s\n", report.Verdict("CPU per change", report.Millis(r.XDS.CPUPerChange), "<= half the bare server's ("+report.Millis(half)+")", r.XDS.CPUPerChange <= half))
	return b.Bytes()
}

// maxProcsPhrase says what GOMAXPROCS the client processes run with.
func maxProcsPhrase(n int) string {
	if n <= 0 {
		return "each with Go's default GOMAXPROCS (every core)"
	}
	return fmt.Sprintf("each with GOMAXPROCS=%d (as in a pod with a CPU limit of %d)", n, n)
}

// procsPhrase says how n clients are split into k processes: "8 processes
// of 125 clients", "3 processes of 1-2 clients".
func procsPhrase(n, k int) string {
	_, count := split(n, k)
	lo, hi := slices.Min(count), slices.Max(count)
	plural := "es"
	if k == 1 {
		plural = ""
	}
	if lo == hi {
		return fmt.Sprintf("%d process%s of %d clients", k, plural, lo)
	}
	return fmt.Sprintf("%d process%s of %d-%d clients", k, plural, lo, hi)
}
