// Package report renders benchmark results twice from one description: as
// aligned plain-text tables for a terminal and as a Markdown section (with
// the machine, the date and the command line) for docs/benchmarks.md.
//
// A generated section sits between the Markers of its id, so Splice can
// replace the results of the previous run while leaving the hand-written
// text, and other benchmarks' sections, alone.
package report
