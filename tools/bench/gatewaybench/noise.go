package gatewaybench

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/shoalmesh/shoal/tools/bench/procstat"
)

// cpuSnapshot is the machine's CPU use at one moment, split into this
// benchmark (itself and the gateways it started and reaped) and the rest.
type cpuSnapshot struct {
	at    time.Time
	busy  time.Duration // all CPUs, every process, since boot
	steal time.Duration // taken by the hypervisor
	own   time.Duration // this process and its reaped children
}

// takeCPUSnapshot reads /proc/stat and getrusage.
func takeCPUSnapshot() (cpuSnapshot, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return cpuSnapshot{}, err
	}
	busy, steal, err := parseProcStat(b)
	if err != nil {
		return cpuSnapshot{}, err
	}
	var self, children syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &self); err != nil {
		return cpuSnapshot{}, err
	}
	if err := syscall.Getrusage(syscall.RUSAGE_CHILDREN, &children); err != nil {
		return cpuSnapshot{}, err
	}
	own := tv(self.Utime) + tv(self.Stime) + tv(children.Utime) + tv(children.Stime)
	return cpuSnapshot{at: time.Now(), busy: busy, steal: steal, own: own}, nil
}

func tv(t syscall.Timeval) time.Duration { return time.Duration(t.Nano()) }

// parseProcStat reads the aggregate "cpu" line of /proc/stat: busy is every
// non-idle state (user, nice, system, irq, softirq, steal), steal the
// hypervisor's share of it.
func parseProcStat(stat []byte) (busy, steal time.Duration, err error) {
	line, _, _ := strings.Cut(string(stat), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0, 0, errors.New("gatewaybench: no cpu line in /proc/stat")
	}
	var ticks [8]int64 // user nice system idle iowait irq softirq steal
	for i := range ticks {
		if ticks[i], err = strconv.ParseInt(f[i+1], 10, 64); err != nil {
			return 0, 0, fmt.Errorf("gatewaybench: /proc/stat: %w", err)
		}
	}
	toDur := func(t int64) time.Duration { return time.Duration(t) * time.Second / procstat.UserHZ }
	b := ticks[0] + ticks[1] + ticks[2] + ticks[5] + ticks[6] + ticks[7]
	return toDur(b), toDur(ticks[7]), nil
}

// otherLoad describes the CPU that processes other than the benchmark and
// its gateways used between two snapshots: the noise in this run's figures.
// Only gateways already reaped count as the benchmark's own, so take the
// end snapshot after the last gateway has stopped.
func otherLoad(start, end cpuSnapshot) string {
	wall := end.at.Sub(start.at)
	other := max((end.busy-start.busy)-(end.own-start.own), 0)
	return fmt.Sprintf("other processes used %.1f CPU-s over the run's %.0f s (%.2f cores on average); hypervisor steal %.1f s",
		other.Seconds(), wall.Seconds(), other.Seconds()/wall.Seconds(), (end.steal - start.steal).Seconds())
}
