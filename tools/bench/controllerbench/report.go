package controllerbench

import (
	"bytes"
	"fmt"
	"io"
	"time"

	"github.com/shoalmesh/shoal/tools/bench/report"
)

// DocumentID is the section id of these results in a Markdown file.
const DocumentID = "controller"

// Title heads the section.
const Title = "Controller"

func seconds(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }

// cores is CPU time per wall time: how many cores were busy on average.
func cores(cpu, wall time.Duration) string {
	if wall <= 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2f", cpu.Seconds()/wall.Seconds())
}

// Tables renders the result.
func (r *Result) Tables() []*report.Table {
	t := &report.Table{
		Title: fmt.Sprintf("%d-replica Deployment on %d fake nodes", r.Config.Replicas, r.Config.Nodes),
		Columns: []string{"phase", "time", "controller CPU", "controller cores", "controller peak RSS", "controller RSS after",
			"controller writes", "event writes", "apigateway CPU"},
	}
	for _, p := range r.Phases {
		t.AddRow(p.Name, seconds(p.Duration), seconds(p.ControllerCPU), cores(p.ControllerCPU, p.Duration),
			report.MiB(p.ControllerPeakRSS), report.MiB(p.ControllerEndRSS),
			fmt.Sprint(p.Writes), fmt.Sprint(p.EventWrites), seconds(p.GatewayCPU))
	}
	t.Notes = []string{
		"Time runs from the Create/Update call to the first watch event after which every pod is bound and ready " +
			"(on the new image, with no other pod left) and the Deployment's status says the rollout is complete.",
		"Controller CPU is user + system time of the controller process over the phase; cores = CPU / time.",
		"Controller writes: its Create/Update/UpdateStatus/Delete calls to the gateway during the phase (pods, ReplicaSets, statuses; events counted apart), from its own gRPC client metrics.",
	}
	return []*report.Table{t}
}

func (r *Result) conditions() []string {
	return []string{
		fmt.Sprintf("Controller: `bin/controller` as a subprocess, leader-elected, --workers %d; RSS when leading with empty caches: %s",
			r.Config.ControllerWorkers, report.MiB(r.ControllerIdleRSS)),
		"apigateway: `bin/apigateway` as a subprocess, embedded etcd (fsync on)",
		"Scheduler: " + r.Scheduler,
		fmt.Sprintf("Node side: fakeagent in the benchmark process (%d nodes of %d pods; a pod is Running and Ready as soon as it is bound; %d status workers)",
			r.Config.Nodes, r.Config.PodsPerNode, r.Config.AgentWorkers),
		"All of it shares the machine's cores",
	}
}

// Document is the run as a report section with id DocumentID, for
// report.Document.WriteText and WriteMarkdownFile.
func (r *Result) Document() *report.Document {
	return &report.Document{
		ID:         DocumentID,
		Title:      Title,
		Date:       r.Date,
		Machine:    r.Machine,
		Load:       r.Load,
		Conditions: r.conditions(),
		Tables:     r.Tables(),
	}
}

// Markdown renders the "Controller" section alone (no markers).
func (r *Result) Markdown() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "## %s\n\n", Title)
	fmt.Fprintf(&b, "- Date: %s\n", r.Date.UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(&b, "- Machine: %s\n", r.Machine)
	fmt.Fprintf(&b, "- Load average at start (1, 5, 15 min): %s\n", r.Load)
	for _, c := range r.conditions() {
		fmt.Fprintf(&b, "- %s\n", c)
	}
	b.WriteString("\n")
	for _, t := range r.Tables() {
		_ = t.WriteMarkdown(&b)
	}
	return b.Bytes()
}

// WriteText prints the result for a terminal.
func (r *Result) WriteText(w io.Writer) error { return r.Document().WriteText(w) }
