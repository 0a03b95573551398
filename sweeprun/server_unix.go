//go:build unix

package sweeprun

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// server is one started server: a shell running the command, leader of its own process
// group, so that stopping the group stops every process it started (workers, runners).
type server struct {
	cmd     *exec.Cmd
	pgid    int
	stdin   io.Closer     // held open while the server runs; closed on stop
	exited  chan struct{} // closed once the leader has exited
	status  string        // "exit status 1", "signal: killed", … once exited
	logPath string
	logFile *os.File
}

// startServer runs line with /bin/sh in a new process group, with vars added to the
// environment and stdout and stderr appended to logPath.
func startServer(line string, vars []string, logPath string) (*server, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command("/bin/sh", "-c", line)
	cmd.Env = append(os.Environ(), vars...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = procAttr()
	// The server's stdin is a pipe that only closes when the server is stopped or this
	// process dies: a server may take its end as the signal to leave.
	stdin, err := cmd.StdinPipe()
	if err != nil {
		logf.Close()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	s := &server{cmd: cmd, pgid: cmd.Process.Pid, stdin: stdin, exited: make(chan struct{}), logPath: logPath, logFile: logf}
	go func() {
		err := cmd.Wait()
		if err != nil {
			s.status = err.Error()
		} else {
			s.status = "exit status 0"
		}
		close(s.exited)
	}()
	return s, nil
}

// alive reports whether the leader has not exited.
func (s *server) alive() bool {
	select {
	case <-s.exited:
		return false
	default:
		return true
	}
}

// stop sends the process group SIGTERM, waits up to grace for the leader to exit, then
// sends the group SIGKILL (which also ends any process of the group left behind by a
// leader that did exit), and closes the log.
func (s *server) stop(grace time.Duration) {
	syscall.Kill(-s.pgid, syscall.SIGTERM)
	t := time.NewTimer(grace)
	select {
	case <-s.exited:
	case <-t.C:
	}
	t.Stop()
	syscall.Kill(-s.pgid, syscall.SIGKILL)
	<-s.exited
	// SIGKILL is delivered asynchronously: wait until the group is gone (its last
	// members, orphaned, are reaped by init), for at most groupWait.
	for end := time.Now().Add(groupWait); s.groupAlive() && time.Now().Before(end); {
		time.Sleep(10 * time.Millisecond)
	}
	s.stdin.Close()
	s.logFile.Close()
}

// groupWait bounds the wait for a killed process group to disappear.
const groupWait = 5 * time.Second

// groupAlive reports whether any process of the server's group is still running
// (zombies, dead and waiting to be reaped, do not count where /proc tells them apart).
func (s *server) groupAlive() bool {
	if syscall.Kill(-s.pgid, 0) != nil {
		return false
	}
	return groupRunning(s.pgid)
}

// waitReady polls base+path for each of paths in turn until one answers 200, the server
// exits, timeout passes or ctx ends. It returns "" when ready, else a status and an error.
func (s *server) waitReady(ctx context.Context, base string, paths []string, timeout time.Duration) (string, error) {
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{Proxy: http.ProxyFromEnvironment, DisableKeepAlives: true}} // loopback is never proxied
	deadline := time.Now().Add(timeout)
	poll := 100 * time.Millisecond
	for {
		for _, p := range paths {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+p, nil)
			if resp, err := client.Do(req); err == nil {
				io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return "", nil
				}
			}
		}
		select {
		case <-ctx.Done():
			return StatusInterrupted, ctx.Err()
		case <-s.exited:
			return StatusServerFailed, fmt.Errorf("server exited before it was ready (%s)", s.status)
		case <-time.After(poll):
		}
		if time.Now().After(deadline) {
			return StatusNotReady, fmt.Errorf("server not ready within %s (polled %s)", timeout, strings.Join(paths, ", "))
		}
		poll = min(2*poll, time.Second)
	}
}

// freePort returns a TCP port on host that was free a moment ago.
func freePort(host string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// logTail returns the last n lines of the file at path.
func logTail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
