// Package printers prints Shoal objects the way kubectl does: tables with
// kubectl's columns per kind (wide adds more), and whole objects as YAML or
// JSON Shoal documents that `shoalctl apply` reads back.
package printers

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"
	"k8s.io/apimachinery/pkg/util/duration"

	"github.com/shoalmesh/shoal/sdk/go/kinds"
)

// Table prints objects as kubectl's tables.
type Table struct {
	// Now is the clock ages are measured against; tests fix it.
	Now func() time.Time
	// Wide adds the -o wide columns.
	Wide bool
	// WithNamespace adds a NAMESPACE column first (-A).
	WithNamespace bool
	// NoHeaders leaves the header row out.
	NoHeaders bool
}

// columns are one kind's table.
type columns struct {
	header, wide []string
	// row returns the cells of header and, when wide, of wide after them.
	row func(t *Table, obj kinds.Object) []string
}

// Header is the header row for a kind.
func (t *Table) Header(kind string) []string {
	c := columnsOf(kind)
	h := append([]string(nil), c.header...)
	if t.Wide {
		h = append(h, c.wide...)
	}
	if t.WithNamespace {
		h = append([]string{"NAMESPACE"}, h...)
	}
	return h
}

// Row is one object's row.
func (t *Table) Row(obj kinds.Object) []string {
	c := columnsOf(string(obj.ProtoReflect().Descriptor().Name()))
	cells := c.row(t, obj)
	n := len(c.header)
	if t.Wide {
		n += len(c.wide)
	}
	cells = cells[:min(n, len(cells))]
	if t.WithNamespace {
		cells = append([]string{obj.GetMetadata().GetNamespace()}, cells...)
	}
	return cells
}

// Print writes the table of objs (all of one kind), sorted by namespace and
// name as kubectl lists them (events by time).
func (t *Table) Print(w io.Writer, kind string, objs []kinds.Object) error {
	tw := NewTabWriter(w)
	if !t.NoHeaders {
		writeRow(tw, t.Header(kind))
	}
	for _, r := range t.Rows(kind, objs) {
		writeRow(tw, r)
	}
	return tw.Flush()
}

// NewTabWriter aligns columns as kubectl does (three spaces between).
func NewTabWriter(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 8, 3, ' ', 0)
}

func writeRow(w io.Writer, cells []string) {
	fmt.Fprintln(w, strings.Join(cells, "\t"))
}

// Age is kubectl's age of a timestamp: 5s, 3m20s, 2d4h, <unknown>.
func (t *Table) Age(ts *timestamppb.Timestamp) string {
	if ts == nil {
		return "<unknown>"
	}
	return Since(t.now(), ts.AsTime())
}

// Since is the human duration from then to now.
func Since(now, then time.Time) string {
	if then.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(now.Sub(then))
}

func (t *Table) now() time.Time {
	if t.Now == nil {
		return time.Now()
	}
	return t.Now()
}

// none is kubectl's placeholder for an empty cell.
func none(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}

// Stream prints a table row by row (get -w): rows are padded to the widest
// cell seen so far in each column, so later rows line up with the first.
type Stream struct {
	w      io.Writer
	widths []int
}

// NewStream starts a streamed table whose first rows (header and initial
// objects) set the column widths.
func NewStream(w io.Writer, first [][]string) *Stream {
	s := &Stream{w: w}
	for _, r := range first {
		s.grow(r)
	}
	return s
}

func (s *Stream) grow(cells []string) {
	for i, c := range cells {
		if i >= len(s.widths) {
			s.widths = append(s.widths, 0)
		}
		s.widths[i] = max(s.widths[i], len(c))
	}
}

// Row prints one row.
func (s *Stream) Row(cells []string) error {
	s.grow(cells)
	var b strings.Builder
	for i, c := range cells {
		if i == len(cells)-1 {
			b.WriteString(c)
			break
		}
		b.WriteString(c + strings.Repeat(" ", s.widths[i]-len(c)+3))
	}
	b.WriteString("\n")
	_, err := io.WriteString(s.w, b.String())
	return err
}

// Rows are the cells of objs in Print's order, for a Stream.
func (t *Table) Rows(kind string, objs []kinds.Object) [][]string {
	sorted := append([]kinds.Object(nil), objs...)
	sort.SliceStable(sorted, func(i, j int) bool {
		a, b := sorted[i].GetMetadata(), sorted[j].GetMetadata()
		if a.GetNamespace() != b.GetNamespace() {
			return a.GetNamespace() < b.GetNamespace()
		}
		return a.GetName() < b.GetName()
	})
	if kind == "Event" {
		sortEvents(sorted)
	}
	rows := make([][]string, len(sorted))
	for i, o := range sorted {
		rows[i] = t.Row(o)
	}
	return rows
}
