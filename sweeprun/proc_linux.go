//go:build linux

package sweeprun

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// procAttr puts the server in a process group of its own and, on Linux, has the kernel
// kill its leader if this process dies without stopping it.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// groupRunning reports whether a process of group pgid is in a state other than zombie
// (Z) or dead (X), reading /proc/PID/stat: "pid (comm) state ppid pgrp …". It answers
// true when /proc cannot be read.
func groupRunning(pgid int) bool {
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil || len(stats) == 0 {
		return true
	}
	for _, p := range stats {
		b, err := os.ReadFile(p)
		if err != nil {
			continue // exited meanwhile
		}
		i := strings.LastIndexByte(string(b), ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) < 3 {
			continue
		}
		if g, _ := strconv.Atoi(f[2]); g == pgid && f[0] != "Z" && f[0] != "X" {
			return true
		}
	}
	return false
}
