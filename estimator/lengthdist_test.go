package estimator_test

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"roofline/estimator"
	"roofline/hardware"
	"roofline/models"
)

// TestParseLengthDist: each form reads as written; a histogram file skips its header.
func TestParseLengthDist(t *testing.T) {
	u, err := estimator.ParseLengthDist("uniform:100:300")
	if err != nil || u.Kind != "uniform" || u.Min != 100 || u.Max != 300 {
		t.Errorf("uniform: %+v, %v", u, err)
	}
	n, err := estimator.ParseLengthDist("normal:512:64")
	if err != nil || n.Kind != "normal" || n.Mean != 512 || n.Std != 64 {
		t.Errorf("normal: %+v, %v", n, err)
	}
	f := filepath.Join(t.TempDir(), "h.csv")
	os.WriteFile(f, []byte("tokens,weight\n100,1\n1000,3\n"), 0o644)
	h, err := estimator.ParseLengthDist("hist:" + f)
	if err != nil || h.Kind != "histogram" || len(h.Values) != 2 || h.Values[1] != 1000 || h.Weights[1] != 3 {
		t.Errorf("hist: %+v, %v", h, err)
	}
	for _, bad := range []string{"uniform:1", "zipf:1:2", "hist:" + filepath.Join(t.TempDir(), "none.csv"), "uniform:1.5:3", "uniform:1:NaN"} {
		if _, err := estimator.ParseLengthDist(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// TestSetLengthDists: a range ratio draws both sides around their lengths; an explicit
// distribution overrides one side; a ratio of 1 or more, or a bad spec, names its flag.
func TestSetLengthDists(t *testing.T) {
	w := estimator.Workload{InputLen: 1000, OutputLen: 100}
	if err := w.SetLengthDists(0.5, "", "uniform:10:20"); err != nil {
		t.Fatal(err)
	}
	if w.InputDist == nil || w.OutputDist == nil || w.OutputDist.Kind != "uniform" || w.OutputDist.Max != 20 {
		t.Errorf("dists %+v / %+v", w.InputDist, w.OutputDist)
	}
	// NaN or infinite parameters passed the checks and hung the sampler (estimate never
	// returned); each must be refused.
	dir := t.TempDir()
	for i, c := range []string{"normal:NaN:1", "normal:100:NaN", "normal:Inf:1", "hist:100,NaN", "hist:100,+Inf"} {
		spec := c
		if rest, ok := strings.CutPrefix(c, "hist:"); ok {
			f := filepath.Join(dir, strings.Repeat("h", i+1)+".csv")
			os.WriteFile(f, []byte("tokens,weight\n"+rest+"\n"), 0o644)
			spec = "hist:" + f
		}
		w := estimator.Workload{Kind: estimator.Concurrency, InputLen: 1000, OutputLen: 100, Concurrency: 1}
		err := w.SetLengthDists(0, spec, "")
		if err == nil {
			err = w.Validate()
		}
		if err == nil || !strings.Contains(err.Error(), "length distribution") {
			t.Errorf("%s: error %v, want the length distribution refused", c, err)
		}
	}
	for _, c := range []struct {
		r        float64
		in, want string
	}{{1, "", "--random-range-ratio"}, {0, "zipf:1:2", "--input-dist"}} {
		if err := (&estimator.Workload{InputLen: 10, OutputLen: 10}).SetLengthDists(c.r, c.in, ""); err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%v %q: %v, want an error naming %s", c.r, c.in, err, c.want)
		}
	}
	// A histogram file without rows, or bounds the wrong way round, parse but cannot be
	// drawn from: the error named neither flag ("histogram length distribution: need as
	// many weights as values").
	empty := filepath.Join(dir, "empty.csv")
	os.WriteFile(empty, nil, 0o644)
	for _, c := range []struct{ in, out, want string }{
		{"hist:" + empty, "", `--input-dist "hist:` + empty + `": histogram length distribution`},
		{"", "uniform:20:10", `--output-dist "uniform:20:10": uniform length distribution [20, 10]`},
	} {
		if err := (&estimator.Workload{InputLen: 10, OutputLen: 10}).SetLengthDists(0, c.in, c.out); err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%q %q: %v, want an error starting %s", c.in, c.out, err, c.want)
		}
	}
}

// TestLengthsBounded: lengths near the int range overflowed in input+output (and in a
// decode step's tokens+1) and passed the max_model_len checks as negative numbers: estimate
// reported "does not fit" with needs < available, step printed -8115298139 s. Both are
// refused at MaxTokens (2^30 tokens); 2^30 itself passes the bound.
func TestLengthsBounded(t *testing.T) {
	const huge = math.MaxInt64
	for _, tc := range []struct {
		in, out int
		ok      bool
	}{{huge, 10, false}, {10, huge, false}, {estimator.MaxTokens + 1, 1, false}, {estimator.MaxTokens, 1, true}} {
		w := estimator.Workload{Kind: estimator.Concurrency, Concurrency: 1, InputLen: tc.in, OutputLen: tc.out}
		err := w.Validate()
		if (err == nil) != tc.ok || (err != nil && !strings.Contains(err.Error(), "must be ≤ 1073741824 tokens")) {
			t.Errorf("input %d, output %d: %v; want ok %v", tc.in, tc.out, err, tc.ok)
		}
	}
	m, err := models.LoadCatalogue("meta-llama/Llama-3.1-8B-Instruct")
	if err != nil {
		t.Fatal(err)
	}
	cat, err := hardware.Load()
	if err != nil {
		t.Fatal(err)
	}
	g, err := cat.Lookup("H100")
	if err != nil {
		t.Fatal(err)
	}
	d, err := estimator.New(estimator.Spec{Model: m, GPU: g})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.CheckStep("decode", 1, huge); err == nil || !strings.Contains(err.Error(), "--tokens 9223372036854775807: must be ≤ 1073741824") {
		t.Errorf("decode step of %d tokens: %v", huge, err)
	}
}
