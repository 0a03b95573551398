package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
)

// TestProgressBarOnTerminal runs bench with stderr on a pseudo-terminal: the bar
// (github.com/schollz/progressbar/v3) is redrawn with done/total, rate, elapsed and ETA.
func TestProgressBarOnTerminal(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(60 * time.Millisecond) // slow enough for the 100 ms throttle to redraw
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\" tok\"}}]}\n\n")
		fmt.Fprint(w, "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1}}\n\ndata: [DONE]\n\n")
	}))
	defer srv.Close()
	master, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	defer master.Close()
	var screen bytes.Buffer
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); io.Copy(&screen, master) }()
	var out bytes.Buffer
	e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: tty, getenv: func(string) string { return "" }}
	err = run(context.Background(), e, []string{"bench", "--url", srv.URL, "--model", "m", "--num-requests", "8", "--input-len", "4", "--output-len", "1"})
	tty.Close()
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	s := screen.String()
	// Redrawn in place (carriage returns), every count from an early one to 8/8 shown.
	for _, want := range []string{"\r", "bench", "8/8", "requests/s", "]"} {
		if !strings.Contains(s, want) {
			t.Errorf("terminal output lacks %q:\n%q", want, s)
		}
	}
	if n := len(regexp.MustCompile(`\d/8`).FindAllString(s, -1)); n < 3 {
		t.Errorf("bar drawn %d times, want it updating:\n%q", n, s)
	}
	if !strings.Contains(out.String(), "requests          8 completed") {
		t.Errorf("stdout:\n%s", out.String())
	}
	// --quiet: nothing on the terminal.
	master2, tty2, _ := pty.Open()
	defer master2.Close()
	screen.Reset()
	wg.Add(1)
	go func() { defer wg.Done(); io.Copy(&screen, master2) }()
	e.stderr = tty2
	run(context.Background(), e, []string{"bench", "--url", srv.URL, "--model", "m", "--num-requests", "3", "--input-len", "4", "--output-len", "1", "--quiet"})
	tty2.Close()
	wg.Wait()
	if screen.Len() != 0 {
		t.Errorf("--quiet wrote %q", screen.String())
	}
}
