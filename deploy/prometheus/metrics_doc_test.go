package prometheus_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// repoRoot is the module root, seen from this package's directory.
const repoRoot = "../.."

var (
	// A metric name as a Go string literal.
	nameLiteral = regexp.MustCompile(`"(shoal_[a-z0-9_]*[a-z0-9])"`)
	// A constant holding a name prefix ("shoal_workqueue_"), and its uses.
	prefixConst = regexp.MustCompile(`(\w+)\s*=\s*"(shoal_[a-z0-9_]+_)"`)
	// Identifiers in a PromQL expression (recording rules contain ':').
	promqlIdent = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*`)
)

// exportedMetrics scans the non-test Go code for the names of Shoal's
// metrics: string literals, plus prefix constants joined with a literal.
func exportedMetrics(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{} // name -> file
	err := filepath.WalkDir(repoRoot, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case "gen", "node_modules", ".git", ".run", "bin":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		// Benchmarks read metrics; they define none.
		if strings.Contains(filepath.ToSlash(path), "/tools/bench/") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		src := string(b)
		rel, _ := filepath.Rel(repoRoot, path)
		for _, m := range nameLiteral.FindAllStringSubmatch(src, -1) {
			out[m[1]] = rel
		}
		for _, m := range prefixConst.FindAllStringSubmatch(src, -1) {
			use := regexp.MustCompile(regexp.QuoteMeta(m[1]) + `\s*\+\s*"([a-z0-9_]+)"`)
			for _, u := range use.FindAllStringSubmatch(src, -1) {
				out[m[2]+u[1]] = rel
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestMetricsDocumented: docs/metrics.md names every metric the code
// defines, so the list stays accurate as services add metrics.
func TestMetricsDocumented(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join(repoRoot, "docs", "metrics.md"))
	if err != nil {
		t.Fatal(err)
	}
	metrics := exportedMetrics(t)
	if len(metrics) < 20 {
		t.Fatalf("found only %d metric names in the code; the scan is broken: %v", len(metrics), metrics)
	}
	var missing []string
	for name, file := range metrics {
		if !strings.Contains(string(doc), "`"+name+"`") {
			missing = append(missing, name+" (defined in "+file+")")
		}
	}
	sort.Strings(missing)
	for _, m := range missing {
		t.Errorf("docs/metrics.md does not describe %s: add its type, labels and meaning", m)
	}
}

// TestRulesUseKnownMetrics: every Shoal metric the SLO rules read is one
// the code defines, or is listed under "Missing metrics" in
// docs/metrics.md; a typo in a rule would otherwise record nothing, forever.
func TestRulesUseKnownMetrics(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join(repoRoot, "docs", "metrics.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, missingSection, ok := strings.Cut(string(doc), "## Missing metrics")
	if !ok {
		t.Fatal(`docs/metrics.md has no "## Missing metrics" section`)
	}
	rules, err := filepath.Glob(filepath.Join("rules", "*.yml"))
	if err != nil || len(rules) == 0 {
		t.Fatalf("no rule files: %v", err)
	}
	metrics := exportedMetrics(t)
	for _, file := range rules {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range promqlIdent.FindAllString(string(b), -1) {
			if !strings.HasPrefix(id, "shoal_") || strings.Contains(id, ":") {
				continue
			}
			base := id
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				if s, ok := strings.CutSuffix(id, suffix); ok && metrics[id] == "" {
					base = s
				}
			}
			if metrics[base] == "" && !strings.Contains(missingSection, "`"+base+"`") {
				t.Errorf("%s reads %s, which no service defines and docs/metrics.md does not list as missing", file, id)
			}
		}
	}
}
