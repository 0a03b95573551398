package bench

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestProxyFromEnvironment: with HTTP_PROXY set, requests to a non-loopback host go
// through the proxy. The run happens in a child process because net/http reads the
// proxy environment once per process.
func TestProxyFromEnvironment(t *testing.T) {
	if os.Getenv("ROOFLINE_PROXY_CHILD") != "" {
		cfg := Config{URL: "http://llm.invalid:8000", Model: "m", Concurrency: 1, NumRequests: 2, InputLen: 2, OutputLen: 1}
		recs, err := Run(context.Background(), cfg, nil)
		s := Summarize(recs, Options{})
		fmt.Printf("completed=%d err=%v\n", s.Completed, err)
		return
	}
	var seen []string
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, r.Method+" "+r.URL.String()) // absolute URI: a proxy request
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\" a\"}}]}\n\n")
		fmt.Fprint(w, "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":2,\"completion_tokens\":1}}\n\ndata: [DONE]\n\n")
	}))
	defer proxy.Close()
	cmd := exec.Command(os.Args[0], "-test.run=^TestProxyFromEnvironment$")
	cmd.Env = append(os.Environ(), "ROOFLINE_PROXY_CHILD=1", "HTTP_PROXY="+proxy.URL, "http_proxy="+proxy.URL, "NO_PROXY=", "no_proxy=")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(string(out), "completed=2 err=<nil>") || len(seen) != 2 || !strings.HasPrefix(seen[0], "POST http://llm.invalid:8000/v1/chat/completions") {
		t.Errorf("child: %s; proxy saw %q", out, seen)
	}
}
