//go:build schedbench

package schedulerbench

import (
	"context"
	"os"
	"strconv"
	"testing"
)

// TEMPORARY runner (deleted after the figures are in docs/benchmarks.md).
func TestBenchRun(t *testing.T) {
	cfg := NewConfig()
	if s := os.Getenv("SIZES"); s != "" {
		sizes, err := ParseSizes(s)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Sizes = sizes
	}
	cfg.Progress = os.Stderr
	cfg.CPUProfile = os.Getenv("CPUPROFILE")
	cfg.EtcdNoFsync = os.Getenv("NOFSYNC") != ""
	if v := os.Getenv("CONC"); v != "" {
		cfg.CreateConcurrency, _ = strconv.Atoi(v)
	}
	if v := os.Getenv("BINDS"); v != "" {
		cfg.MaxInFlightBinds, _ = strconv.Atoi(v)
	}
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	_ = res.WriteText(os.Stdout)
	os.WriteFile("/tmp/schedbench/section.md", res.Markdown(), 0o644)
}
