// Package procstat reads a process's CPU time and resident memory from
// /proc, for the benchmarks that report what a service costs.
package procstat

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// UserHZ is the unit of the CPU times in /proc/<pid>/stat. The kernel fixes
// it at 100 for user space on every architecture Linux supports
// (sysconf(_SC_CLK_TCK)), whatever CONFIG_HZ is.
const UserHZ = 100

// RSS is the resident set size of pid, in bytes.
func RSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	return parseVmRSS(b)
}

// parseVmRSS reads the VmRSS line ("VmRSS:   123456 kB") of
// /proc/<pid>/status.
func parseVmRSS(status []byte) (int64, error) {
	for line := range strings.SplitSeq(string(status), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "VmRSS:" {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				return 0, fmt.Errorf("procstat: VmRSS %q: %w", f[1], err)
			}
			return kb << 10, nil
		}
	}
	return 0, errors.New("procstat: no VmRSS in /proc status")
}

// CPU is the CPU time pid has used so far, user plus system.
func CPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return parseStatCPU(b)
}

// parseStatCPU reads utime and stime (fields 14 and 15) of /proc/<pid>/stat.
// The second field, the command name, may itself contain spaces and
// parentheses, so fields are counted from the last ')'.
func parseStatCPU(stat []byte) (time.Duration, error) {
	end := bytes.LastIndexByte(stat, ')')
	if end < 0 {
		return 0, errors.New("procstat: malformed /proc stat")
	}
	// After ") " come fields 3 (state), 4, ...; utime is field 14.
	f := strings.Fields(string(stat[end+1:]))
	const utime, stime = 14 - 3, 15 - 3
	if len(f) <= stime {
		return 0, errors.New("procstat: short /proc stat")
	}
	var ticks int64
	for _, i := range []int{utime, stime} {
		v, err := strconv.ParseInt(f[i], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("procstat: /proc stat field %d: %w", i+3, err)
		}
		ticks += v
	}
	return time.Duration(ticks) * time.Second / UserHZ, nil
}
