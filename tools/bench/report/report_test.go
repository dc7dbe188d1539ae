package report

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestFormatters(t *testing.T) {
	tests := []struct {
		name string
		got  string
		want string
	}{
		{name: "sub-ms keeps microseconds", got: Millis(450 * time.Microsecond), want: "0.45 ms"},
		{name: "micros", got: Micros(87600 * time.Nanosecond), want: "88 us"},
		{name: "single-digit ms", got: Millis(7250 * time.Microsecond), want: "7.25 ms"},
		{name: "tens of ms", got: Millis(23456 * time.Microsecond), want: "23.5 ms"},
		{name: "hundreds of ms", got: Millis(1234 * time.Millisecond), want: "1234 ms"},
		{name: "slow rate", got: Rate(12.345), want: "12.3/s"},
		{name: "fast rate", got: Rate(12345.6), want: "12346/s"},
		{name: "ratio", got: Ratio(0.4567), want: "0.46"},
		{name: "ratio without baseline", got: Ratio(math.NaN()), want: "n/a"},
		{name: "mebibytes", got: MiB(300 << 20), want: "300 MiB"},
		{name: "target met", got: Verdict("p99", "12 ms", "< 25 ms", true), want: "p99 = 12 ms: target < 25 ms met"},
		{name: "target missed", got: Verdict("p99", "40 ms", "< 25 ms", false), want: "p99 = 40 ms: target < 25 ms MISSED"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("got %q, want %q", tc.got, tc.want)
			}
		})
	}
}

func TestTableRendering(t *testing.T) {
	tbl := &Table{Title: "Ops", Columns: []string{"op", "rate"}, Notes: []string{"noisy"}}
	tbl.AddRow("etcd put", "100/s")
	tbl.AddRow("a|b", "5/s")
	tests := []struct {
		name  string
		write func(*strings.Builder) error
		want  string
	}{
		{
			name:  "text is aligned",
			write: func(b *strings.Builder) error { return tbl.WriteText(b) },
			want: "== Ops\n" +
				"op        rate   \n" +
				"etcd put  100/s  \n" +
				"a|b       5/s    \n" +
				"  * noisy\n\n",
		},
		{
			name:  "markdown escapes pipes",
			write: func(b *strings.Builder) error { return tbl.WriteMarkdown(b) },
			want: "### Ops\n\n" +
				"| op | rate |\n" +
				"|---|---:|\n" +
				"| etcd put | 100/s |\n" +
				"| a\\|b | 5/s |\n" +
				"\n- noisy\n\n",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			if err := tc.write(&b); err != nil {
				t.Fatal(err)
			}
			if b.String() != tc.want {
				t.Errorf("got:\n%s\nwant:\n%s", b.String(), tc.want)
			}
		})
	}
}

func TestSplice(t *testing.T) {
	begin, end := Markers("gw")
	otherBegin, otherEnd := Markers("xds")
	section := begin + "\nNEW\n" + end + "\n"
	other := otherBegin + "\nXDS\n" + otherEnd + "\n"
	tests := []struct {
		name    string
		doc     string
		want    string
		wantErr bool
	}{
		{name: "new file", doc: "", want: section},
		{name: "appended after intro", doc: "# Intro\n", want: "# Intro\n\n" + section},
		{name: "intro without newline", doc: "# Intro", want: "# Intro\n\n" + section},
		{
			name: "replaces earlier run, keeps text around",
			doc:  "# Intro\n\n" + begin + "\nOLD\n" + end + "\n\n## Notes\n",
			want: "# Intro\n\n" + section + "\n## Notes\n",
		},
		{
			name: "leaves other sections alone",
			doc:  "# Intro\n\n" + other + "\n" + begin + "\nOLD\n" + end,
			want: "# Intro\n\n" + other + "\n" + section,
		},
		{name: "appended after another section", doc: other, want: other + "\n" + section},
		{name: "unbalanced markers", doc: end + "\n" + begin, wantErr: true},
		{name: "begin without end", doc: begin + "\nOLD\n", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Splice([]byte(tc.doc), "gw", []byte(section))
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if !tc.wantErr && string(got) != tc.want {
				t.Errorf("got:\n%q\nwant:\n%q", got, tc.want)
			}
		})
	}
}

func TestShellQuote(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{name: "plain", args: []string{"bin/bench", "--watchers=1000,10000"}, want: "bin/bench --watchers=1000,10000"},
		{name: "empty arg", args: []string{"bench", "--metrics-addr", ""}, want: "bench --metrics-addr ''"},
		{name: "space", args: []string{"bench", "a b"}, want: "bench 'a b'"},
		{name: "single quote", args: []string{"it's"}, want: `'it'\''s'`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ShellQuote(tc.args); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestProcParsers(t *testing.T) {
	cpuinfo := "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) CPU @ 2.20GHz\nprocessor\t: 1\nmodel name\t: other\n"
	if got, want := cpuModel([]byte(cpuinfo)), "Intel(R) Xeon(R) CPU @ 2.20GHz"; got != want {
		t.Errorf("cpuModel = %q, want %q", got, want)
	}
	meminfo := "MemTotal:       24684000 kB\nMemFree:        1000 kB\n"
	if got, want := memTotal([]byte(meminfo)), int64(24684000)<<10; got != want {
		t.Errorf("memTotal = %d, want %d", got, want)
	}
	if got := memTotal([]byte("nothing here\n")); got != 0 {
		t.Errorf("memTotal of junk = %d, want 0", got)
	}
}

func TestDocumentMarkdown(t *testing.T) {
	d := &Document{
		ID:         "gw",
		Title:      "bench",
		Date:       time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC),
		Command:    []string{"bin/bench", "--watchers", "1000"},
		Machine:    Machine{CPUs: 2, CPUModel: "Test CPU", MemTotal: 4 << 30, Kernel: "6.1", GoVersion: "go1.26"},
		Load:       "0.10 0.20 0.30",
		Conditions: []string{"quiet."},
		Tables:     []*Table{{Title: "T", Columns: []string{"a"}, Rows: [][]string{{"1"}}}},
	}
	begin, end := Markers("gw")
	want := begin + "\n## bench\n\n" +
		"- Date: 2026-01-02 03:04 UTC\n" +
		"- Machine: 2 CPUs (Test CPU), 4.0 GiB RAM, Linux 6.1, go1.26\n" +
		"- Load average at start (1, 5, 15 min): 0.10 0.20 0.30\n" +
		"- quiet.\n" +
		"- Command: `bin/bench --watchers 1000`\n\n" +
		"### T\n\n| a |\n|---|\n| 1 |\n\n" +
		end + "\n"
	if got := string(d.Markdown()); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}
