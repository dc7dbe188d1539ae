package report

import (
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
	"time"
)

// Table is one block of results.
type Table struct {
	Title   string
	Columns []string
	Rows    [][]string
	// Notes are printed under the table (targets met or missed, caveats).
	Notes []string
}

// AddRow appends a row; cells are already formatted.
func (t *Table) AddRow(cells ...string) { t.Rows = append(t.Rows, cells) }

// WriteText prints the table with aligned columns.
func (t *Table) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "== %s\n", t.Title)
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(t.Columns, "\t")+"\t")
	for _, r := range t.Rows {
		fmt.Fprintln(tw, strings.Join(r, "\t")+"\t")
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, n := range t.Notes {
		fmt.Fprintf(&b, "  * %s\n", n)
	}
	b.WriteString("\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteMarkdown prints the table as a GitHub-flavoured Markdown table under
// a level-3 heading.
func (t *Table) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "### %s\n\n", t.Title)
	b.WriteString(mdRow(t.Columns))
	sep := make([]string, len(t.Columns))
	for i := range sep {
		// Left-align the first (label) column, right-align the figures.
		sep[i] = "---:"
		if i == 0 {
			sep[i] = "---"
		}
	}
	b.WriteString("|" + strings.Join(sep, "|") + "|\n")
	for _, r := range t.Rows {
		b.WriteString(mdRow(r))
	}
	if len(t.Notes) > 0 {
		b.WriteString("\n")
		for _, n := range t.Notes {
			fmt.Fprintf(&b, "- %s\n", n)
		}
	}
	b.WriteString("\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func mdRow(cells []string) string {
	esc := make([]string, len(cells))
	for i, c := range cells {
		// A bare | would split the cell.
		esc[i] = " " + strings.ReplaceAll(c, "|", `\|`) + " "
	}
	return "|" + strings.Join(esc, "|") + "|\n"
}

// Millis formats a latency in milliseconds with a precision that suits its
// size: sub-millisecond figures keep their microseconds.
func Millis(d time.Duration) string {
	ms := float64(d) / float64(time.Millisecond)
	switch {
	case ms < 10:
		return fmt.Sprintf("%.2f ms", ms)
	case ms < 100:
		return fmt.Sprintf("%.1f ms", ms)
	default:
		return fmt.Sprintf("%.0f ms", ms)
	}
}

// Micros formats a small cost (CPU time per operation) in microseconds.
func Micros(d time.Duration) string {
	return fmt.Sprintf("%.0f us", float64(d)/float64(time.Microsecond))
}

// Rate formats a throughput in operations per second.
func Rate(opsPerSec float64) string {
	if opsPerSec < 100 {
		return fmt.Sprintf("%.1f/s", opsPerSec)
	}
	return fmt.Sprintf("%.0f/s", opsPerSec)
}

// Ratio formats a dimensionless ratio; NaN (no baseline) is "n/a".
func Ratio(r float64) string {
	if math.IsNaN(r) || math.IsInf(r, 0) {
		return "n/a"
	}
	return fmt.Sprintf("%.2f", r)
}

// MiB formats a byte count in mebibytes.
func MiB(bytes int64) string {
	return fmt.Sprintf("%.0f MiB", float64(bytes)/(1<<20))
}

// Verdict phrases a target check for a note: the figure, the target and,
// when missed, a plain MISSED so that nobody reads past it.
func Verdict(what, figure, target string, met bool) string {
	if met {
		return fmt.Sprintf("%s = %s: target %s met", what, figure, target)
	}
	return fmt.Sprintf("%s = %s: target %s MISSED", what, figure, target)
}
