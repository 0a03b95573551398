//go:build unix && !linux

package sweeprun

import "syscall"

// procAttr puts the server in a process group of its own.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// groupRunning: without /proc, a group that still answers kill(-pgid, 0) counts as running.
func groupRunning(pgid int) bool { return true }
