package estimator

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// TestSimToRealStepBudget checks the step model against the GPU time the measured vLLM 0.15.1
// serving stages had (data/validation/vllm_sim2real_train.csv, dense models on H100 SXM).
// Under continuous batching the GPU runs a step whenever a sequence is running, so one second
// of a stage is its steps end to end:
//
//	running batch B = rate · mean E2E                  (Little's law, sequences)
//	step time     T = (mean E2E − mean TTFT)/(output_len − 1)       (ms; the study's TPOT)
//	needed GPU ms per s = (1000/T) · T_decode(B) + rate · P(B)
//
// with T_decode(B) the step model's decode step of B sequences at the mean context
// (input + output/2) and P(B) what one prompt's uncached tokens add to such a step (the mixed
// step: one GEMM over decode and prefill rows, attention apart). A stage the model describes
// needs ~1000 ms per s. At the 11 stages below 20 req/s it needs 933–1092 (held here within
// ±12%); at the three 20 req/s stages 1101–1301, which is why it predicts them at or past
// saturation: their steps leave 0.6–6.6 ms per prompt where P is 5.7–21.7 ms.
//
// For a run's two stages (rates r0 < r1, in req/ms) the decode step does not shrink as the
// batch grows and grows at least by the added sequences' KV reads at the datasheet bandwidth
// (ΔKV), so T1·(1 − r1·P) ≥ T0·(1 − r0·P) + ΔKV bounds the time per prompt P from the
// measurements alone. It is logged next to what the prompt adds under the ideal profile
// (datasheet peaks, no fixed costs): in the Llama-2-70B, CodeLlama-34B and Mistral-Nemo runs
// the bound (7.4, 5.1, 4.3 ms) is below even that (15.1, 10.9, 5.2 ms), so their second stage
// cannot have computed the rows' full uncached prompt for every request. Logged with -v;
// README, section Accuracy.
func TestSimToRealStepBudget(t *testing.T) {
	f, err := os.Open(filepath.Join("..", "data", "validation", "vllm_sim2real_train.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	type stage struct {
		rec             []string
		e2e, ttft, rate float64
	}
	stages := map[string]*stage{}
	re := regexp.MustCompile(`^(.*-s\d+)-(e2e|ttft)_ms_mean$`)
	for _, r := range recs[1:] {
		m := re.FindStringSubmatch(r[col["id"]])
		if m == nil || r[col["weight_dtype"]] == "fp8" || r[col["tp"]] == "" {
			continue // the FP8 MoE runs are priced by moe_gemm_efficiency_by_dtype, fitted on them
		}
		s := stages[m[1]]
		if s == nil {
			s = &stage{rec: r}
			stages[m[1]] = s
		}
		v, _ := strconv.ParseFloat(r[col["value"]], 64)
		if m[2] == "e2e" {
			s.e2e = v
		} else {
			s.ttft = v
		}
		s.rate, _ = strconv.ParseFloat(r[col["request_rate"]], 64)
	}
	var ids []string
	for id := range stages {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	atoi := func(r []string, k string) int { v, _ := strconv.Atoi(r[col[k]]); return v }
	type point struct{ rate, T, B float64 }
	first := map[string]point{} // run → its first (lower-rate) stage
	checked := 0
	for _, id := range ids {
		s := stages[id]
		in, out, pre := atoi(s.rec, "input_len"), atoi(s.rec, "output_len"), atoi(s.rec, "prefix_len")
		if s.ttft > 10*s.e2e/float64(out) {
			continue // saturated (TTFT of minutes): no steady state to budget
		}
		d := mustDeploy(t, Spec{Model: mustModel(t, s.rec[col["model"]]), GPU: mustGPU(t, s.rec[col["gpu"]]), TP: atoi(s.rec, "tp"),
			Profile: MustEngine("vllm"), MaxModelLen: 4096, MaxNumSeqs: atoi(s.rec, "max_num_seqs"), MaxNumBatchedTokens: atoi(s.rec, "max_num_batched_tokens")})
		B := s.rate * s.e2e / 1e3
		T := (s.e2e - s.ttft) / float64(out-1)
		var dec Batch
		dec.Uniform.N, dec.Uniform.Ctx = int(B+0.5), in+out/2
		td := d.StepSeconds(&dec) * 1e3
		cached := pre / 16 * 16 // whole 16-token blocks of the shared system prompt
		mix := dec
		mix.Prefill = []Chunk{{New: in - cached, Past: cached}}
		P := d.StepSeconds(&mix)*1e3 - td
		need := 1000/T*td + s.rate*P
		left := (1000 - 1000/T*td) / s.rate // ms per prompt the measured steps leave
		t.Logf("%-52s %4.0f req/s  B %5.1f  T %5.2f ms  T_decode %5.2f ms  P %5.2f ms  needs %4.0f GPU-ms/s  leaves %5.1f ms per prompt", id, s.rate, B, T, td, P, need, left)
		// Two stages of one run: the decode step cannot shrink as the batch grows, and grows at
		// least by the added sequences' KV reads at the datasheet bandwidth (ΔKV), so
		// T1·(1 − r1·P) ≥ T0·(1 − r0·P) + ΔKV bounds the time per prompt P (r in req/ms).
		run := id[:strings.LastIndex(id, "-s")]
		if p, ok := first[run]; ok && s.rate > p.rate {
			dkv := (B - p.B) * float64(in+out/2) * float64(d.KVBytesPerToken()) / float64(d.GPU.MemoryBandwidth) * 1e3
			pmax := (T - p.T - dkv) / (s.rate*T/1e3 - p.rate*p.T/1e3)
			// The same prompt added to the decode step under the ideal profile (datasheet
			// peaks, no fixed costs; the prompt's GEMM rows share the decode's weight reads).
			spec := d.Spec
			spec.Profile = MustEngine("ideal")
			di := mustDeploy(t, spec)
			pIdeal := (di.StepSeconds(&mix) - di.StepSeconds(&dec)) * 1e3
			t.Logf("%-52s the two stages allow at most %.1f ms per prompt (ΔKV %.2f ms); at datasheet peaks the prompt adds %.1f ms to the step (vllm profile %.1f ms)", run, pmax, dkv, pIdeal, P)
		} else {
			first[run] = point{s.rate, T, B}
		}
		if s.rate < 20 {
			checked++
			if need < 880 || need > 1120 {
				t.Errorf("%s: the step model needs %.0f GPU-ms per second at the measured operating point, want 1000 ± 12%%", id, need)
			}
		}
	}
	if checked < 11 {
		t.Errorf("checked %d stages below 20 req/s, want the file's 11 unsaturated dense ones", checked)
	}
}
