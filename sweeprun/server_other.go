//go:build !unix

package sweeprun

import (
	"context"
	"errors"
	"time"
)

var errNoUnix = errors.New("sweep --run needs a Unix system (process groups)")

type server struct {
	exited chan struct{}
	status string
}

func startServer(line string, vars []string, logPath string) (*server, error) { return nil, errNoUnix }
func (s *server) alive() bool                                                 { return false }
func (s *server) stop(grace time.Duration)                                    {}
func (s *server) groupAlive() bool                                            { return false }
func (s *server) waitReady(ctx context.Context, base string, paths []string, timeout time.Duration) (string, error) {
	return StatusServerFailed, errNoUnix
}
func freePort(host string) (int, error) { return 0, errNoUnix }
func logTail(path string, n int) string { return "" }
