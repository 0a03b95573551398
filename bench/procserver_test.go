package bench

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// The timing test runs its server in a child process (this test binary, started again
// with timingServerEnv set), so that the client's and the server's goroutines and
// garbage collections do not share one Go runtime: in one process, 16 streams waking
// on the same tick delay each other by a millisecond or two, which is not what a
// client meets against a real server.
const timingServerEnv = "ROOFLINE_BENCH_TIMING_SERVER" // "ttft itl tokens", e.g. "50ms 10ms 32"

func TestMain(m *testing.M) {
	if spec := os.Getenv(timingServerEnv); spec != "" {
		if err := serveTimingProcess(spec); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// serveTimingProcess is the child: it serves the script on a loopback port, prints the
// server's URL on stdout, answers GET /observed with what it did, and exits when its
// stdin closes (the parent ended).
func serveTimingProcess(spec string) error {
	var s script
	var ttft, itl string
	if _, err := fmt.Sscan(spec, &ttft, &itl, &s.tokens); err != nil {
		return fmt.Errorf("%s=%q: %v", timingServerEnv, spec, err)
	}
	var err error
	if s.ttft, err = time.ParseDuration(ttft); err != nil {
		return err
	}
	if s.itl, err = time.ParseDuration(itl); err != nil {
		return err
	}
	ts := &testServer{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /observed", func(w http.ResponseWriter, r *http.Request) {
		t, i := ts.observedMeans()
		json.NewEncoder(w).Encode(observedReply{Requests: ts.n.Load(), TTFTMs: t, ITLMs: i})
	})
	mux.Handle("/", ts.handler(s))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	fmt.Printf("http://%s\n", l.Addr())
	go func() { io.Copy(io.Discard, os.Stdin); os.Exit(0) }()
	return http.Serve(l, mux)
}

type observedReply struct {
	Requests      int64
	TTFTMs, ITLMs float64
}

// procServer is the parent's handle on a child timing server.
type procServer struct{ URL string }

// newProcServer starts a child timing server and stops it when the test ends.
func newProcServer(t *testing.T, ttft, itl time.Duration, tokens int) *procServer {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%v %v %d", timingServerEnv, ttft, itl, tokens))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close(); cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "http://") {
		t.Fatalf("timing server did not start: %q, %v", line, err)
	}
	return &procServer{URL: strings.TrimSpace(line)}
}

// observed returns the child's request count and its own mean TTFT and ITL in ms.
func (p *procServer) observed(t *testing.T) observedReply {
	t.Helper()
	resp, err := http.Get(p.URL + "/observed")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var o observedReply
	if err := json.NewDecoder(resp.Body).Decode(&o); err != nil {
		t.Fatal(err)
	}
	return o
}
