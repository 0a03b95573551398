//go:build unix

package estimator

import (
	"syscall"
	"testing"
)

// cpuNanos is the process's CPU time so far (user + system, all threads), ns.
func cpuNanos() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// cpuMeter reports a benchmark's CPU time per unit beside its wall time: on a loaded machine
// ns/op counts the time other processes held the core, the CPU time does not.
type cpuMeter struct{ start int64 }

func startCPU() cpuMeter { return cpuMeter{cpuNanos()} }

// report adds "cpu-ns/<unit>" for n units (n ≤ 0: b.N operations).
func (m cpuMeter) report(b *testing.B, n int64, unit string) {
	if n <= 0 {
		n = int64(b.N)
	}
	if m.start > 0 && n > 0 {
		b.ReportMetric(float64(cpuNanos()-m.start)/float64(n), "cpu-ns/"+unit)
	}
}
