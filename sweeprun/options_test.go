package sweeprun_test

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	"roofline/bench"
	"roofline/sweeprun"
)

// TestCountAndDryRun: two server configurations × two client configurations, one server
// refused, is two runs; the dry run prints the refused one with its reason and each
// client's bench command.
func TestCountAndDryRun(t *testing.T) {
	o := sweeprun.Options{Bench: bench.Config{Model: "m", InputLen: 8, OutputLen: 4},
		Clients: []sweeprun.Params{{{Name: "concurrency", Value: "1"}}, {{Name: "concurrency", Value: "4"}}}}
	plan := []sweeprun.Config{{Index: 1, Command: "srv a"}, {Index: 2, Command: "srv b", Skip: "needs 8 GPUs"}}
	runs, refused := o.CountRuns(plan)
	if runs != 2 || refused != 1 {
		t.Errorf("CountRuns = %d runs, %d refused; want 2, 1", runs, refused)
	}
	var b bytes.Buffer
	o.WriteDryRun(&b, plan, "", "", nil)
	for _, want := range []string{"[1] srv a", "bench --model m --input-len 8 --output-len 4 --concurrency 4", "[2] srv b\n    refused: needs 8 GPUs"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("dry run lacks %q:\n%s", want, b.String())
		}
	}
	if err := o.CheckClients(); err != nil {
		t.Errorf("CheckClients: %v", err)
	}
}

// TestCheck: each bad option is refused with its flag's name.
func TestCheck(t *testing.T) {
	ok := sweeprun.Options{ReadyTimeout: time.Minute, Grace: time.Second}
	if err := ok.Check(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		set  func(*sweeprun.Options)
		want string
	}{
		{func(o *sweeprun.Options) { o.Grace = 0 }, "--grace"},
		{func(o *sweeprun.Options) { o.Rest = -time.Second }, "--rest"},
		{func(o *sweeprun.Options) { o.ReadyPaths = []string{"health"} }, "--ready-path"},
		{func(o *sweeprun.Options) { o.ServerEnv = []sweeprun.Params{{{Name: "A-B", Value: "1"}}} }, "--server-env A-B"},
	} {
		o := ok
		c.set(&o)
		if err := o.Check(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %v, want one naming %s", err, c.want)
		}
	}
	noLen := sweeprun.Options{Bench: bench.Config{Model: "m"}, Clients: []sweeprun.Params{{}}}
	if err := noLen.CheckClients(); err == nil || !strings.Contains(err.Error(), "--input-len") {
		t.Errorf("no lengths: %v", err)
	}
}

// TestLoadGrid: a concurrency list becomes one client configuration per value; a rate list
// likewise with request_rate; a bad list names its flag.
func TestLoadGrid(t *testing.T) {
	g, err := sweeprun.LoadGrid("8,32", "")
	if err != nil || len(g) != 2 || g[1].String() != "concurrency=32" {
		t.Errorf("concurrency: %v, %v", g, err)
	}
	g, err = sweeprun.LoadGrid("", "0.5")
	if err != nil || len(g) != 1 || g[0].String() != "request_rate=0.5" {
		t.Errorf("rate: %v, %v", g, err)
	}
	if _, err := sweeprun.LoadGrid("", "x"); err == nil || !strings.HasPrefix(err.Error(), "--request-rate") {
		t.Errorf("bad rate: %v", err)
	}
}

// WriteDryRun prints what sweep --dry-run shows: each server command and the roofline bench
// command of each client configuration, here two loads of the --concurrency list 8,32.
func ExampleOptions_WriteDryRun() {
	clients, err := sweeprun.LoadGrid("8,32", "")
	if err != nil {
		panic(err)
	}
	o := sweeprun.Options{Dir: "out", Bench: bench.Config{Model: "m", InputLen: 1000, OutputLen: 200, NumRequests: 100}, Clients: clients}
	plan := []sweeprun.Config{{Index: 1, Command: "vllm serve m --port $PORT"}}
	o.WriteDryRun(os.Stdout, plan, "", "", nil)
	// Output:
	// roofline sweep --dry-run: 1 server configurations × 2 client configurations = 2 runs
	//
	// [1] vllm serve m --port $PORT
	//     bench --model m --input-len 1000 --output-len 200 --concurrency 8 --num-requests 100
	//     bench --model m --input-len 1000 --output-len 200 --concurrency 32 --num-requests 100
	//
	// $PORT is a free port picked at each start; results would go to out/results.jsonl
}

// TestParseGridsAndNoPrediction: each grid lands in its field and a bad one names its flag;
// NoPrediction gives its reason for every run; --server-bin needs --framework.
func TestParseGridsAndNoPrediction(t *testing.T) {
	var o sweeprun.Options
	if err := o.ParseGrids("tp_size=[1,2]", "concurrency=8", "A=[1,2]"); err != nil || len(o.ServerArgs) != 2 || len(o.Clients) != 1 || len(o.ServerEnv) != 2 {
		t.Errorf("grids: %+v, %v", o, err)
	}
	if err := o.ParseGrids("tp_size=[1", "", ""); err == nil || !strings.HasPrefix(err.Error(), "--server-args") {
		t.Errorf("bad grid: %v", err)
	}
	if s, why := sweeprun.NoPrediction("no --model")(nil, bench.Config{}, nil); s != nil || why != "no --model" {
		t.Errorf("NoPrediction: %v, %q", s, why)
	}
	l := sweeprun.Launcher{Template: "srv {port}", Bin: "x"}
	if err := l.Validate(); err == nil || !strings.HasPrefix(err.Error(), "--server-bin") {
		t.Errorf("--server-bin with a template: %v", err)
	}
}
