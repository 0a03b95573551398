package estimator_test

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"roofline/estimator"
	"roofline/hardware"
)

// FuzzReadSteps: a steps.csv either parses into rows with phase, batch and tokens valid, or errs.
func FuzzReadSteps(f *testing.F) {
	f.Add([]byte("model,gpu,tp,weight_dtype,phase,batch,tokens,ms\nm,H100,1,bf16,decode,8,1024,9.5\n"))
	f.Add([]byte("model,gpu,phase,batch,tokens\nm,g,prefill,0,5\n"))
	f.Add([]byte("model,gpu,phase,batch,tokens,ms\nm,g,decode,1,1,-3\n"))
	f.Add([]byte("model,gpu,tp,phase,batch,tokens,ms\nm,g,0,decode,1,1,NaN\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		rows, err := estimator.ReadSteps(bytes.NewReader(b), "fuzz.csv")
		if err != nil {
			return
		}
		for _, r := range rows {
			if (r.Phase != "prefill" && r.Phase != "decode") || r.Batch < 1 || r.Tokens < 1 || r.TP < 1 || !(r.Ms >= 0) || math.IsInf(r.Ms, 1) {
				t.Fatalf("accepted an invalid row: %+v", r)
			}
		}
	})
}

// TestReadStepsErrors: each bad steps.csv is refused with its file, line and field.
func TestReadStepsErrors(t *testing.T) {
	const head = "model,gpu,tp,weight_dtype,phase,batch,tokens,ms\n"
	for _, c := range []struct{ name, csv, want string }{
		{"empty", "", "s.csv: empty file"},
		{"header only", head, "s.csv: no step rows after the header"},
		{"ms NaN", head + "m,H100,1,bf16,decode,8,100,NaN\n", `s.csv:2: ms "NaN" is not a non-negative number`},
		{"ms +Inf", head + "m,H100,1,bf16,decode,8,100,+Inf\n", `s.csv:2: ms "+Inf"`},
		{"ms negative", head + "m,H100,1,bf16,decode,8,100,-5\n", `s.csv:2: ms "-5"`},
		{"tp 0", head + "m,H100,0,bf16,decode,8,100,5\n", "s.csv:2: tp 0: must be ≥ 1"},
		{"tp -2", head + "m,H100,-2,bf16,decode,8,100,5\n", "s.csv:2: tp -2: must be ≥ 1"},
		{"batch 0", head + "m,H100,1,bf16,decode,0,100,5\n", "s.csv:2: batch and tokens must be ≥ 1"},
		{"phase", head + "m,H100,1,bf16,encode,8,100,5\n", `s.csv:2: phase "encode": allowed values are prefill, decode`},
		// tokens+1 overflowed: the step was priced at -8.1e12 ms and calibrated.
		{"tokens max int", head + "m,H100,1,bf16,decode,1,9223372036854775807,5\n", "s.csv:2: batch 1, tokens 9223372036854775807: at most 1000000 sequences of 1073741824 tokens"},
		{"batch 1e7", head + "m,H100,1,bf16,decode,10000000,100,5\n", "s.csv:2: batch 10000000"},
	} {
		_, err := estimator.ReadSteps(strings.NewReader(c.csv), "s.csv")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
	rows, err := estimator.ReadSteps(strings.NewReader(head+"m,H100,,bf16,decode,8,100,\n"), "s.csv")
	if err != nil || rows[0].TP != 1 || rows[0].Ms != 0 {
		t.Errorf("empty tp and ms: %+v, %v; want tp 1 (the documented default), ms 0", rows, err)
	}
}

// TestStepGroups: rows group by their column; a row without one takes its sample's GPU
// id, or "(checkpoint dtype)" when grouped by dtype.
func TestStepGroups(t *testing.T) {
	rows := []estimator.StepRow{{GPU: "H100", WeightDtype: "fp8"}, {GPU: "", WeightDtype: ""}}
	samples := []estimator.StepSample{{}, {}}
	samples[1].Spec.GPU = &hardware.GPU{ID: "a100-sxm4-80gb"}
	if g := estimator.StepGroups(rows, samples, "gpu"); g[0] != "H100" || g[1] != "a100-sxm4-80gb" {
		t.Errorf("by gpu: %q", g)
	}
	if g := estimator.StepGroups(rows, samples, "dtype"); g[0] != "fp8" || g[1] != "(checkpoint dtype)" {
		t.Errorf("by dtype: %q", g)
	}
}
