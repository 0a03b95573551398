package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"roofline/report"
)

// Regression tests for the faults a new user found (issue "Verdicts that never lie"): each
// case is an input that used to be accepted with a wrong or meaningless answer. Bad input
// must exit 2 with one line naming the flag (or field) and the allowed values.

const llama8b = "meta-llama/Llama-3.1-8B-Instruct"

// noMaxPosConfig writes a Llama-style config.json without max_position_embeddings.
func noMaxPosConfig(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "data", "models", "meta-llama--Llama-3.1-8B-Instruct.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	delete(m, "max_position_embeddings")
	delete(m, "rope_scaling")
	b, _ = json.Marshal(m)
	p := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestBadFlagsExit2(t *testing.T) {
	est := []string{"estimate", "--model", llama8b, "--gpu", "H100", "--input-len", "100", "--output-len", "10"}
	with := func(base []string, extra ...string) []string { return append(append([]string{}, base...), extra...) }
	c1 := with(est, "--concurrency", "1")
	sweep := []string{"sweep", "--model", llama8b, "--input-len", "100", "--output-len", "10", "--concurrency", "8", "--num-gpus", "1"}
	// accuracy --data on an empty file said "EOF"; on a header alone it printed a summary of
	// 0 rows with exit 0.
	emptyCSV, headerOnlyCSV := filepath.Join(t.TempDir(), "empty.csv"), filepath.Join(t.TempDir(), "header.csv")
	if os.WriteFile(emptyCSV, nil, 0o644) != nil || os.WriteFile(headerOnlyCSV, []byte(accHeader), 0o644) != nil {
		t.Fatal("writing the test CSVs")
	}
	stepsCSV := filepath.Join(t.TempDir(), "steps.csv")
	if os.WriteFile(stepsCSV, []byte("model,gpu,tp,weight_dtype,phase,batch,tokens,ms\n"+llama8b+",H100,1,bf16,decode,8,100,7\n"), 0o644) != nil {
		t.Fatal("writing the steps CSV")
	}
	cases := []struct {
		name string
		args []string
		want string // in the one-line error
	}{
		// Fault 6: NaN/Inf and nonsense parsed by the one float-flag helper.
		{"price NaN", with(c1, "--price-per-gpu-hour", "NaN"), "--price-per-gpu-hour "},
		{"price Inf", with(c1, "--price-per-gpu-hour", "Inf"), `[0, ∞)`},
		{"burstiness 0", with(est, "--request-rate", "2", "--burstiness", "0"), "--burstiness "},
		// --burstiness shapes open-loop arrival gaps (bench refuses it without --request-rate);
		// estimate, sweep and compare ignored it without a word.
		// An --out in a missing directory failed with exit 1 after the whole fit.
		{"calibrate out dir missing", []string{"calibrate", "--steps", stepsCSV, "--out", filepath.Join(t.TempDir(), "no", "p.toml")}, "--out "},
		// The CSV held the baseline without the technique, unlabelled.
		{"technique csv", with(c1, "--spec-method", "eagle", "--output", "csv"), "--output csv: one row of the baseline deployment"},
		// The error asked for both a mean TTFT and a mean TPOT bound; one constraint of any
		// statistic is enough (ttft:p95<500ms alone sweeps).
		{"disagg without SLOs", []string{"sweep", "--model", llama8b, "--gpus", "H100", "--num-gpus", "2", "--input-len", "100", "--output-len", "10", "--disagg"}, "give at least one --constraint"},
		// Near the int range the profiling pass overflowed: estimate said "needs 1095589024 PB
		// per GPU, -1095589024 PB available", sweep "0 fit in memory" and plan "none ≤ 128"
		// GPUs for an 8B model, both with exit 0.
		{"estimate huge token budget", with(c1, "--max-num-batched-tokens", "9223372036854775807"), "--max-num-batched-tokens 9223372036854775807: must be ≤ 1073741824"},
		{"estimate huge max seqs", with(c1, "--max-num-seqs", "2000000", "--max-num-batched-tokens", "4000000"), "--max-num-seqs 2000000: must be ≤ 1000000"},
		{"sweep huge token budget", with(sweep, "--gpus", "H100", "--max-num-batched-tokens", "9223372036854775807"), "--max-num-batched-tokens 9223372036854775807: must be ≤ 1073741824"},
		{"plan huge max seqs", []string{"plan", "--model", llama8b, "--gpus", "H100", "--input-len", "100", "--output-len", "10", "--target-rate", "1", "--max-num-seqs", "9223372036854775807"}, "--max-num-seqs 9223372036854775807: must be ≤ 1000000"},
		{"burstiness closed loop", with(c1, "--burstiness", "0.5"), "--burstiness 0.5: shapes the gaps between open-loop arrivals (--request-rate); a concurrency load has none"},
		{"burstiness static", with(est, "--batch-size", "4", "--burstiness", "3"), "a static load has none"},
		{"sweep burstiness closed loop", with(sweep, "--gpus", "H100", "--burstiness", "0.5"), "--burstiness 0.5: shapes"},
		{"range ratio NaN", with(c1, "--random-range-ratio", "NaN"), "--random-range-ratio "},
		{"gpu util NaN", with(c1, "--gpu-memory-utilization", "NaN"), `(0, 1]`},
		{"gpu util 0", with(c1, "--gpu-memory-utilization", "0"), "--gpu-memory-utilization "},
		{"request rate -Inf", with(est, "--request-rate", "-Inf"), "--request-rate "},
		{"sweep gpu util NaN", with(sweep, "--gpus", "H100", "--gpu-memory-utilization", "NaN"), "--gpu-memory-utilization "},
		{"sweep price Inf", with(sweep, "--gpus", "H100", "--price-per-gpu-hour", "+Inf"), "--price-per-gpu-hour "},
		{"bench burstiness NaN", []string{"bench", "--url", "http://127.0.0.1:1", "--model", "m", "--request-rate", "1", "--burstiness", "NaN"}, "--burstiness "},
		{"plan rate NaN", []string{"plan", "--model", llama8b, "--target-rate", "NaN"}, "--target-rate "},
		{"compare max-error NaN", []string{"compare", "--result", "x.jsonl", "--max-error", "NaN"}, "--max-error "},
		{"validate max-error -1", []string{"validate", "--url", "http://127.0.0.1:1", "--model", "m", "--max-error", "-1"}, "--max-error "},
		{"num-scheduler-steps -1", with(c1, "--num-scheduler-steps", "-1"), "--num-scheduler-steps -1: must be ≥ 0"},
		// Multi-step scheduling is vLLM V0's flag: with the newest vLLM (V1), SGLang or
		// TensorRT-LLM it was taken and spread their per-step host cost over 8 steps.
		// --kv-transfer is the transport of --disagg's KV handoff; alone it was ignored.
		{"kv-transfer without disagg", with(c1, "--kv-transfer", "tcp"), "--kv-transfer tcp: the KV transport between the prefill and decode instances of --disagg"},
		{"sweep kv-transfer without disagg", with(sweep, "--gpus", "H100", "--kv-transfer", "nvlink"), "--kv-transfer nvlink: the KV transport between prefill and decode instances, searched with --disagg"},
		{"num-scheduler-steps with vLLM V1", with(c1, "--num-scheduler-steps", "8"), "--num-scheduler-steps 8: multi-step scheduling is vLLM V0's"},
		{"num-scheduler-steps with sglang", with(c1, "--num-scheduler-steps", "8", "--engine", "sglang"), "releases); sglang >=0.5 has none: allowed 0 or 1"},
		{"step num-scheduler-steps with trtllm", []string{"step", "--model", llama8b, "--gpu", "H100", "--phase", "decode", "--batch", "8", "--tokens", "100", "--engine", "trtllm", "--num-scheduler-steps", "4"}, "--num-scheduler-steps 4: multi-step scheduling is vLLM V0's"},
		// --engine mlc-llm used the default profile silently.
		{"engine mlc-llm", with(c1, "--engine", "mlc-llm"), `--engine "mlc-llm": allowed values are`},
		{"memory engine mlc-llm", []string{"memory", "--model", llama8b, "--gpu", "H100", "--engine", "mlc-llm"}, `--engine "mlc-llm"`},
		{"step engine mlc-llm", []string{"step", "--model", llama8b, "--gpu", "H100", "--phase", "decode", "--batch", "1", "--tokens", "10", "--engine", "mlc-llm"}, `--engine "mlc-llm"`},
		{"calibrate base mlc-llm", []string{"calibrate", "--steps", "x.csv", "--out", filepath.Join(t.TempDir(), "p.toml"), "--base", "mlc-llm"}, `--base "mlc-llm"`},
		// max_model_len beyond the model's context (vLLM refuses it); memory said "min GPUs 0".
		{"max-model-len huge", with(c1, "--max-model-len", "99999999"), `--max-model-len 99999999: must be in [1, 131072]`},
		{"memory max-model-len huge", []string{"memory", "--model", llama8b, "--gpu", "H100", "--max-model-len", "99999999"}, `--max-model-len 99999999`},
		// A token budget below max_num_seqs was reported as "does not fit (needs 43 GB, 75 GB available)".
		{"budget 1", with(c1, "--max-num-batched-tokens", "1"), `--max-num-batched-tokens 1: must be ≥ max_num_seqs`},
		// sweep --gpus H100 --gpu A100: the later silently won.
		{"sweep gpus and gpu", with(sweep, "--gpus", "H100", "--gpu", "A100"), `give --gpus or its alias --gpu, not both`},
		// step took 462,713 s for a batch no KV cache holds (and allocated 100M entries).
		{"step batch huge", []string{"step", "--model", llama8b, "--gpu", "H100", "--phase", "decode", "--batch", "100000000", "--tokens", "1000"}, `KV cache of one replica holds`},
		// Fault 7: 10⁸ simulated requests allocated 8 GB and died with a stack trace.
		{"simulate 1e8 requests", with(est, "--concurrency", "8", "--simulate", "--num-requests", "100000000"), "a simulation holds at most 1000000 requests"},
		// An offline run is simulated without --simulate; dropping the flag does not help it.
		{"offline 2e6 requests", with(est, "--num-requests", "2000000"), "an offline run larger than one batch is always simulated"},
		{"validate 1e8 requests", []string{"validate", "--url", "http://127.0.0.1:1", "--model", "m", "--model-id", llama8b, "--gpu", "H100", "--input-len", "8", "--output-len", "4", "--concurrency", "1", "--num-requests", "100000000"}, "a simulation holds at most"},
		// Found beyond the list: 10¹¹ clients ran out of memory; a negative
		// --num-requests was accepted.
		{"concurrency 1e11", with(est, "--concurrency", "99999999999"), "--concurrency 99999999999: must be in [1, 100000]"},
		{"batch 1e11", with(est, "--batch-size", "99999999999"), "--batch-size 99999999999: must be in [1, 1000000]"},
		{"num-requests -1", with(est, "--concurrency", "2", "--num-requests", "-1"), "--num-requests -1: must be ≥ 1"},
		{"step tokens > max_model_len", []string{"step", "--model", llama8b, "--gpu", "H100", "--phase", "prefill", "--batch", "1", "--tokens", "200000"}, `exceeds max_model_len 131072`},
		// A new user's pass after cmd/roofline was thinned: an explicit 0 on a flag whose unset
		// value 0 means "the default" was read as that default (--pp 0 ran with pp=1), and a
		// stray positional argument or an unknown --kv-transfer without --disagg was ignored.
		{"pp 0", with(c1, "--pp", "0"), "--pp 0: must be ≥ 1"},
		{"tp 0", with(c1, "--tp", "0"), "--tp 0: must be ≥ 1"},
		{"dp 0", with(c1, "--dp", "0"), "--dp 0: must be ≥ 1"},
		{"num-gpus 0", with(c1, "--num-gpus", "0"), "--num-gpus 0: must be ≥ 1"},
		{"max-model-len 0", with(c1, "--max-model-len", "0"), "--max-model-len 0: must be ≥ 1"},
		{"max-num-seqs 0", with(c1, "--max-num-seqs", "0"), "--max-num-seqs 0: must be ≥ 1"},
		{"max-num-batched-tokens 0", with(c1, "--max-num-batched-tokens", "0"), "--max-num-batched-tokens 0: must be ≥ 1"},
		{"nodes 0", with(c1, "--nodes", "0"), "--nodes 0: must be ≥ 1"},
		{"gpus-per-node 0", with(c1, "--gpus-per-node", "0"), "--gpus-per-node 0: must be ≥ 1"},
		{"prefixes 0", with(c1, "--prefixes", "0"), "--prefixes 0: must be ≥ 1"},
		{"prefixes -1 without technique", with(c1, "--prefixes", "-1"), "--prefixes -1: must be ≥ 1"},
		{"spec-tokens 0", with(c1, "--spec-method", "eagle", "--spec-tokens", "0"), "--spec-tokens 0: must be ≥ 1"},
		{"concurrency 0", with(est, "--concurrency", "0"), "--concurrency 0: must be in [1, 100000]"},
		{"batch-size 0", with(est, "--batch-size", "0"), "--batch-size 0: must be in [1, 1000000]"},
		{"memory pp 0", []string{"memory", "--model", llama8b, "--gpu", "H100", "--pp", "0"}, "--pp 0: must be ≥ 1"},
		{"step tp 0", []string{"step", "--model", llama8b, "--gpu", "H100", "--phase", "decode", "--batch", "1", "--tokens", "10", "--tp", "0"}, "--tp 0: must be ≥ 1"},
		{"plan target-users 0", []string{"plan", "--model", llama8b, "--target-users", "0", "--input-len", "100", "--output-len", "10"}, "--target-users 0: must be ≥ 1"},
		{"kv-transfer foo", with(c1, "--kv-transfer", "foo"), `--kv-transfer "foo": allowed values are nvlink, rdma, tcp`},
		{"estimate positional", with(c1, "extra"), `estimate: unexpected argument "extra"`},
		{"memory positional", []string{"memory", "--model", llama8b, "--gpu", "H100", "tp=2"}, `memory: unexpected argument "tp=2"`},
		{"sweep positional", with(sweep, "--gpus", "H100", "extra"), `sweep: unexpected argument "extra"`},
		{"sweep max-model-len 0", with(sweep, "--gpus", "H100", "--max-model-len", "0"), "--max-model-len 0: must be ≥ 1"},
		{"sweep gpus-available -1", with(sweep, "--gpus", "H100", "--dry-run", "--framework", "vllm", "--gpus-available", "-1"), "--gpus-available -1: must be ≥ 0"},
		{"nodes ignored", with(c1, "--num-gpus", "8", "--tp", "8", "--nodes", "2"), "--nodes 2: 8 GPUs at 8 per node fill 1 node(s)"},
		{"models show kv int4", []string{"models", "show", llama8b, "--kv-dtype", "int4"}, `--kv-dtype "int4": allowed values are bf16, fp16, fp8`},
		{"accuracy empty CSV", []string{"accuracy", "--data", emptyCSV}, "empty.csv: empty file (want the header: id,source,model,gpu,"},
		{"accuracy header only", []string{"accuracy", "--data", headerOnlyCSV}, "header.csv: no measurement rows after the header"},
		// --burstiness 1e-300 at 5 req/s: every drawn gap rounded to 0 and the run was reported
		// overloaded at a fifth of capacity (estimator.MinBurstiness says why 0.01 to 100).
		{"burstiness 1e-300", with(est, "--request-rate", "5", "--burstiness", "1e-300"), "--burstiness 1e-300: allowed values are 0.01 to 100"},
		{"burstiness 1e300", with(est, "--request-rate", "5", "--burstiness", "1e300"), "--burstiness 1e+300: allowed values are 0.01 to 100"},
		{"sweep burstiness 0.001", []string{"sweep", "--model", llama8b, "--gpus", "H100", "--num-gpus", "1", "--input-len", "100", "--output-len", "10", "--request-rate", "5", "--burstiness", "0.001"}, "--burstiness 0.001: allowed values are 0.01 to 100"},
		// Values that describe no real deployment were priced: 100,000 replicas, 8 GPUs on
		// nodes of 3 (3 + 3 + 2), 10^30 GB of host memory.
		{"dp 100000", with(c1, "--dp", "100000"), "--dp 100000: allowed values are 1 to 4096 replicas"},
		{"gpus-per-node 3 of 8", with(c1, "--num-gpus", "8", "--gpus-per-node", "3"), "--gpus-per-node 3: 8 GPUs do not fill whole nodes of 3"},
		{"kv-offload 1e30GB", with(c1, "--kv-offload", "cpu:1e30GB"), "--kv-offload cpu:1e+27TB: allowed values are up to 1.5TB"},
		{"plan max-replicas 5000", []string{"plan", "--model", llama8b, "--target-rate", "5", "--input-len", "100", "--output-len", "10", "--max-replicas", "5000"}, "--max-replicas 5000: allowed values are 1 to 4096"},
		{"accuracy header only, skipping", []string{"accuracy", "--skip-bad-rows", "--data", headerOnlyCSV}, "no measurement rows"},
		// TensorRT-LLM has no AMD build (its support matrix lists NVIDIA GPUs only): DeepSeek-R1
		// on 8 MI355X under --engine trtllm was predicted like any other deployment.
		{"trtllm on MI355X", []string{"estimate", "--model", "deepseek-ai/DeepSeek-R1", "--gpu", "MI355X", "--num-gpus", "8", "--tp", "8", "--engine", "trtllm", "--input-len", "1024", "--output-len", "1024", "--concurrency", "4"}, "--engine trtllm: TensorRT-LLM runs on NVIDIA GPUs only; mi355x's vendor is AMD"},
		// Every GPU of a sweep or plan refused for the engine: nothing was predicted, yet both
		// exited 0 with an empty ranking and "relax a constraint" (no constraint was given).
		{"sweep trtllm on MI300X only", []string{"sweep", "--model", llama8b, "--gpus", "MI300X", "--engine", "trtllm", "--input-len", "1000", "--output-len", "200", "--concurrency", "8"}, "--engine trtllm: TensorRT-LLM runs on NVIDIA GPUs only; mi300x's vendor is AMD"},
		{"plan trtllm on AMD only", []string{"plan", "--model", llama8b, "--gpus", "MI300X,MI325X", "--engine", "trtllm", "--input-len", "1000", "--output-len", "200", "--target-rate", "10"}, "no GPU of --gpus runs the engine: nothing to rank"},
		{"sweep trtllm fp4 on H100 only", []string{"sweep", "--model", llama8b, "--gpus", "H100", "--num-gpus", "1", "--weight-dtype", "fp4", "--engine", "trtllm", "--input-len", "1000", "--output-len", "200", "--concurrency", "8"}, "no configuration of the sweep can run: nothing to rank"},
		// sweep --disagg said "the model fits no instance of TP ≤ --max-tp on this GPU".
		{"sweep disagg trtllm on MI300X", []string{"sweep", "--disagg", "--model", llama8b, "--gpu", "MI300X", "--num-gpus", "2", "--engine", "trtllm", "--input-len", "1000", "--output-len", "200", "--constraint", "ttft:p95<2000ms"}, "--engine trtllm: TensorRT-LLM runs on NVIDIA GPUs only; mi300x's vendor is AMD"},
		{"plan trtllm fp4 on H100 only", []string{"plan", "--model", llama8b, "--gpus", "H100", "--weight-dtype", "fp4", "--engine", "trtllm", "--input-len", "1000", "--output-len", "200", "--target-rate", "8"}, "--weight-dtype fp4 with --engine trtllm: TensorRT-LLM's FP4 (NVFP4) kernels need FP4 tensor cores (Blackwell) and h100-sxm5-80gb has none"},
		// TensorRT-LLM's NVFP4 kernels need Blackwell FP4 tensor cores: DeepSeek-R1 in fp4 on
		// 8 H200 under trtllm was predicted 1.28x faster per GPU than fp8 (median over the matrix).
		{"trtllm fp4 on H200", []string{"estimate", "--model", "deepseek-ai/DeepSeek-R1", "--gpu", "H200", "--num-gpus", "8", "--tp", "8", "--engine", "trtllm", "--weight-dtype", "fp4", "--input-len", "1024", "--output-len", "1024", "--concurrency", "4"}, "--weight-dtype fp4 with --engine trtllm: TensorRT-LLM's FP4 (NVFP4) kernels need FP4 tensor cores (Blackwell)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			stdout, stderr, code := runCLI(t, c.args...)
			if code != 2 || !strings.Contains(stderr, c.want) || strings.Count(stderr, "\n") != 1 {
				t.Errorf("exit %d, stderr %q, stdout %.200q: want exit 2 and one line containing %q", code, stderr, stdout, c.want)
			}
		})
	}
}

// Fault 10: a config.json without max_position_embeddings gave max_model_len 0 and skipped
// every length check.
func TestNoMaxPositionEmbeddingsNeedsMaxModelLen(t *testing.T) {
	cfg := noMaxPosConfig(t)
	_, stderr, code := runCLI(t, "estimate", "--model", cfg, "--gpu", "H100", "--input-len", "100", "--output-len", "10", "--concurrency", "1")
	if code != 2 || !strings.Contains(stderr, "give --max-model-len") {
		t.Errorf("exit %d, %q: want exit 2 asking for --max-model-len", code, stderr)
	}
	out, stderr, code := runCLI(t, "estimate", "--model", cfg, "--gpu", "H100", "--input-len", "100", "--output-len", "10", "--concurrency", "1", "--max-model-len", "4096", "--output", "json")
	if code != 0 {
		t.Fatalf("with --max-model-len: exit %d, %s", code, stderr)
	}
	var r struct {
		Server struct {
			MaxModelLen int `json:"max_model_len"`
		} `json:"server_config"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil || r.Server.MaxModelLen != 4096 {
		t.Errorf("max_model_len %d (%v), want 4096", r.Server.MaxModelLen, err)
	}
}

// Fault 8: T4 and V100 have no bf16 (datasheets: FP16 tensor cores only); engines run 16-bit
// checkpoints in fp16 there (vLLM casts bf16 to float16 below compute capability 8.0).
func TestNoBF16GPURunsFP16(t *testing.T) {
	for _, gpu := range []string{"T4", "V100"} {
		for _, extra := range [][]string{nil, {"--weight-dtype", "fp16", "--kv-dtype", "fp16"}} {
			args := append([]string{"estimate", "--model", "meta-llama/Llama-3.2-1B-Instruct", "--gpu", gpu, "--input-len", "100", "--output-len", "10",
				"--concurrency", "1", "--max-model-len", "4096", "--output", "json"}, extra...)
			out, stderr, code := runCLI(t, args...)
			if code != 0 {
				t.Errorf("%s %v: exit %d, %s", gpu, extra, code, stderr)
				continue
			}
			var r struct {
				Server   report.ServerInfo `json:"server_config"`
				Warnings []string          `json:"warnings"`
			}
			if err := json.Unmarshal([]byte(out), &r); err != nil {
				t.Fatal(err)
			}
			if r.Server.ComputeDtype != "fp16" || r.Server.KVDtype != "fp16" || r.Server.WeightDtype != "fp16" {
				t.Errorf("%s %v: dtypes %+v, want fp16 everywhere", gpu, extra, r.Server)
			}
			if extra == nil && !strings.Contains(strings.Join(r.Warnings, "\n"), "has no bf16") {
				t.Errorf("%s: warnings %q do not say the checkpoint runs in fp16", gpu, r.Warnings)
			}
		}
	}
}

// Fault 9: two rows fitted seven parameters and reported a small error without a warning.
func TestCalibrateUnderDeterminedWarns(t *testing.T) {
	dir := t.TempDir()
	steps := filepath.Join(dir, "steps.csv")
	os.WriteFile(steps, []byte("model,gpu,tp,weight_dtype,phase,batch,tokens,ms\n"+
		llama8b+",H100,1,bf16,prefill,1,1000,60\n"+llama8b+",H100,1,bf16,decode,8,1000,8\n"), 0o644)
	out, stderr, code := runCLI(t, "calibrate", "--steps", steps, "--out", filepath.Join(dir, "p.toml"))
	if code != 0 || !strings.Contains(out, "warning: under-determined") {
		t.Errorf("exit %d, stderr %q, stdout %q: want a warning that the fit is under-determined", code, stderr, out)
	}
}

// Output slips: step --steps --output json gave batch, tokens, ms and tp as strings; step
// help mentioned --num-gpus, a flag step does not have.
func TestStepOutputSlips(t *testing.T) {
	steps := filepath.Join(t.TempDir(), "steps.csv")
	os.WriteFile(steps, []byte("model,gpu,tp,weight_dtype,phase,batch,tokens,ms\n"+llama8b+",H100,1,bf16,decode,8,1000,8\n"+llama8b+",H100,1,bf16,decode,8,1000,\n"), 0o644)
	out, stderr, code := runCLI(t, "step", "--steps", steps, "--output", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var rows []map[string]any
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"tp", "batch", "tokens", "ms"} {
		if _, ok := rows[0][k].(float64); !ok {
			t.Errorf("%s = %#v, want a JSON number", k, rows[0][k])
		}
	}
	if rows[1]["ms"] != nil {
		t.Errorf("empty ms = %#v, want null", rows[1]["ms"])
	}
	_, help, _ := runCLI(t, "step", "--help")
	if strings.Contains(help, "num-gpus") {
		t.Errorf("step help mentions num-gpus:\n%s", help)
	}
}

// Every float flag goes through floatVar/floatFlag (flagvalue.go), which rejects NaN, ±Inf
// and out-of-range values; a plain pflag float flag would accept "NaN".
func TestEveryFloatFlagUsesTheHelper(t *testing.T) {
	files, _ := filepath.Glob("*.go")
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(b), "\n") {
			for _, bad := range []string{".Float64(", ".Float64Var(", ".Float64P(", ".Float64VarP(", ".Float32(", ".Float32Var(", ".Float64Slice("} {
				if strings.Contains(line, bad) && !strings.Contains(line, "json.Number") {
					t.Errorf("%s:%d: %s: use flagvalue.Float or flagvalue.NewFloat", f, i+1, strings.TrimSpace(line))
				}
			}
		}
	}
}

const accHeader = "id,source,model,gpu,num_gpus,tp,pp,dp,ep,engine,weight_dtype,kv_dtype,input_len,output_len,prefix_len,workload,concurrency,request_rate,batch_size,num_requests,max_num_seqs,max_num_batched_tokens,gpu_memory_utilization,metric,value\n"

// Fault 3: a group whose rows could not be predicted (here an offline row without input
// length, as MLPerf rows have) showed 0.0% error; it has no error at all.
func TestAccuracyGroupWithoutPredictionsIsNull(t *testing.T) {
	f := filepath.Join(t.TempDir(), "unpredictable.csv")
	os.WriteFile(f, []byte(accHeader+"U-1,test,"+llama8b+",H100,1,1,1,1,1,vllm,bf16,,,290,,offline,,,,,,,,output_tok_s,100\n"), 0o644)
	out, stderr, code := runCLI(t, "accuracy", "--data", f, "--output", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var j struct {
		Rows    []map[string]any `json:"rows"`
		Summary map[string]any   `json:"summary"`
	}
	if err := json.Unmarshal([]byte(out), &j); err != nil {
		t.Fatal(err)
	}
	if j.Rows[0]["predicted"] != nil {
		t.Fatalf("row predicted: %v (the test needs an unpredictable row)", j.Rows[0])
	}
	for _, k := range []string{"median_ape_pct", "mean_ape_pct", "p90_ape_pct", "bias_pct"} {
		if v, ok := j.Summary["overall"].(map[string]any)[k]; !ok || v != nil {
			t.Errorf("overall %s = %v, want null", k, v)
		}
	}
	table, _, _ := runCLI(t, "accuracy", "--data", f)
	if strings.Contains(table, "0.0") || !strings.Contains(table, "—") {
		t.Errorf("table shows a number for a group without predictions:\n%s", table)
	}
}

// Fault 4: bad rows were predicted (NaN APE, 540,639% for a negative value, a 3-GPU row
// predicted as tp·pp·dp = 2) or exited 0 with the reason only under --rows.
func TestAccuracyBadRows(t *testing.T) {
	good := "G-1,test," + llama8b + ",H100,1,1,1,1,1,vllm,bf16,,1000,200,,concurrency,16,,,,,,,ttft_ms_mean,40\n"
	bad := []struct{ row, field string }{
		{"B-1,test," + llama8b + ",H100,1,1,1,1,1,vllm,bf16,,1000,200,,concurrency,16,,,,,,,ttft_ms_mean,NaN\n", ":2: value"},
		{"B-2,test," + llama8b + ",H100,1,1,1,1,1,vllm,bf16,,1000,200,,concurrency,16,,,,,,,ttft_ms_mean,-5\n", ":2: value"},
		{"B-3,test," + llama8b + ",H100,3,2,1,1,1,vllm,bf16,,1000,200,,concurrency,16,,,,,,,ttft_ms_mean,40\n", ":2: num_gpus"},
		{"B-4,test," + llama8b + ",Z9000,1,1,1,1,1,vllm,bf16,,1000,200,,concurrency,16,,,,,,,ttft_ms_mean,40\n", ":2: gpu"},
		{"B-5,test," + llama8b + ",H100,1,1,1,1,1,vllm,bf16,,1000,200,,concurrency,16,,,,,,,ttft_ms_p42,40\n", ":2: metric"},
		// The rest were unpredicted with a reason shown only under --rows, some naming an
		// estimate flag (--concurrency 0) instead of the column; data/validation/README.md
		// lists the workloads and what each needs.
		{"B-6,test," + llama8b + ",H100,1,1,1,1,1,vllm,bf16,,1000,200,,closedloop,16,,,,,,,ttft_ms_mean,40\n", ":2: workload"},
		{"B-7,test," + llama8b + ",H100,1,1,1,1,1,vllm,bf16,,1000,200,,concurrency,,,,,,,,ttft_ms_mean,40\n", ":2: concurrency"},
		{"B-8,test," + llama8b + ",H100,1,1,1,1,1,vllm,bf16,,1000,200,,rate,,,,100,,,,ttft_ms_mean,40\n", ":2: request_rate"},
		{"B-9,test," + llama8b + ",H100,1,1,1,1,1,vllm,bf17,,1000,200,,concurrency,16,,,,,,,ttft_ms_mean,40\n", ":2: weight_dtype"},
		{"B-10,test," + llama8b + ",H100,1,1,1,1,1,vllm,bf16,int4,1000,200,,concurrency,16,,,,,,,ttft_ms_mean,40\n", ":2: kv_dtype"},
	}
	dir := t.TempDir()
	all := accHeader + good
	for i, b := range bad {
		f := filepath.Join(dir, fmt.Sprintf("bad%d.csv", i))
		os.WriteFile(f, []byte(accHeader+b.row), 0o644)
		_, stderr, code := runCLI(t, "accuracy", "--data", f, "--output", "json")
		if code != 2 || !strings.Contains(stderr, f+b.field) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%s: exit %d, %q: want exit 2 naming %s", strings.TrimSpace(b.row), code, stderr, f+b.field)
		}
		all += b.row
	}
	f := filepath.Join(dir, "mixed.csv")
	os.WriteFile(f, []byte(all), 0o644)
	out, stderr, code := runCLI(t, "accuracy", "--data", f, "--output", "json", "--skip-bad-rows")
	var j struct {
		Rows    []map[string]any `json:"rows"`
		Skipped []map[string]any `json:"skipped_rows"`
	}
	if err := json.Unmarshal([]byte(out), &j); err != nil || code != 0 {
		t.Fatalf("--skip-bad-rows: exit %d, %v, %s", code, err, stderr)
	}
	if len(j.Rows) != 1 || len(j.Skipped) != len(bad) || !strings.Contains(stderr, fmt.Sprintf("skipped %d bad rows", len(bad))) {
		t.Errorf("--skip-bad-rows: %d rows, %d skipped, stderr %q: want 1 and %d", len(j.Rows), len(j.Skipped), stderr, len(bad))
	}
}

// The accuracy usage advertised --engine-override, a flag it rejects.
func TestAccuracyUsageNamesRealFlags(t *testing.T) {
	_, help, _ := runCLI(t, "accuracy", "--help")
	if strings.Contains(help, "engine-override") {
		t.Errorf("accuracy help advertises --engine-override:\n%s", help)
	}
}

// Fault 5: an empty profile (or one with only name=) made every efficiency 1.0 and
// memory_fraction 0 act as 1 (TTFT 7 ms instead of 22 ms); gemm_efficiency = 0 became 1.0
// while its source still cited the base value. A profile file sets every field, or names
// its base and inherits the rest.
func TestProfileFileMustBeCompleteOrNameItsBase(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(body), 0o644)
		return p
	}
	est := func(profile string, extra ...string) (string, string, int) {
		return runCLI(t, append([]string{"estimate", "--model", llama8b, "--gpu", "H100", "--input-len", "1000", "--output-len", "100",
			"--concurrency", "1", "--profile", profile, "--output", "json"}, extra...)...)
	}
	for _, c := range []struct{ file, body, want string }{
		{"empty.toml", "", "missing ceilings, gemm_efficiency"},
		{"name.toml", "name = \"mine\"\n", "base = \"vllm\""},
		{"zero.toml", "base = \"vllm\"\ngemm_efficiency = 0\n", "gemm_efficiency = 0: must be in (0, 1]"},
		{"negative.toml", "base = \"vllm\"\ngemm_efficiency = -0.5\n", "gemm_efficiency = -0.5"},
		{"memzero.toml", "base = \"vllm\"\nmemory_fraction = 0\n", "memory_fraction = 0"},
		{"mlc-llm.toml", "base = \"mlc-llm\"\n", `base "mlc-llm": allowed values are`},
	} {
		_, stderr, code := est(write(c.file, c.body))
		if code != 2 || !strings.Contains(stderr, c.want) {
			t.Errorf("%s: exit %d, %q: want exit 2 containing %q", c.file, code, stderr, c.want)
		}
	}
	// Inheriting: base = "vllm" alone predicts what --engine vllm predicts; an override
	// changes its field only and cites this file as its source.
	type out struct {
		TTFT       struct{ Mean float64 } `json:"ttft_ms"`
		Parameters []struct {
			Name   string
			Value  float64
			Source string
		} `json:"parameters"`
	}
	decode := func(s string) out {
		var o out
		if err := json.Unmarshal([]byte(s), &o); err != nil {
			t.Fatal(err)
		}
		return o
	}
	ref, stderr, code := runCLI(t, "estimate", "--model", llama8b, "--gpu", "H100", "--input-len", "1000", "--output-len", "100", "--concurrency", "1", "--output", "json")
	if code != 0 {
		t.Fatal(stderr)
	}
	same, stderr, code := est(write("same.toml", "base = \"vllm\"\n"))
	if code != 0 {
		t.Fatal(stderr)
	}
	if a, b := decode(ref).TTFT.Mean, decode(same).TTFT.Mean; a != b {
		t.Errorf("base = \"vllm\" alone: TTFT %g ms, --engine vllm %g ms", b, a)
	}
	half, stderr, code := est(write("half.toml", "base = \"vllm\"\nname = \"slow\"\nmemory_efficiency = 0.4\n"))
	if code != 0 {
		t.Fatal(stderr)
	}
	o := decode(half)
	if !(o.TTFT.Mean > decode(ref).TTFT.Mean) {
		t.Errorf("memory_efficiency 0.4: TTFT %g ms, not above vllm's %g ms", o.TTFT.Mean, decode(ref).TTFT.Mean)
	}
	for _, p := range o.Parameters {
		if p.Name == "memory_efficiency" && (p.Value != 0.4 || !strings.Contains(p.Source, "half.toml")) {
			t.Errorf("memory_efficiency %g from %q: want 0.4 set in half.toml", p.Value, p.Source)
		}
	}
}

// Fault 12: the emitted script's wait_ready did not notice a dead server (it polled for 20
// minutes), then set -e skipped every remaining configuration. With stand-ins for vllm (dead
// on its first start, a live server after), curl and roofline on PATH, the script must give
// up on the dead one at once, benchmark every other configuration and exit 1.
func TestSweepScriptSurvivesADeadServer(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	dir := t.TempDir()
	script := filepath.Join(dir, "runs.sh")
	stdout, stderr, code := runCLI(t, append(append([]string{}, sweepArgs...), "--output", "json", "--emit-script", script)...)
	if code != 0 {
		t.Fatalf("sweep: exit %d: %s", code, stderr)
	}
	var doc struct{ Configs []struct{ Engine string } }
	json.Unmarshal([]byte(stdout), &doc)
	bin := filepath.Join(dir, "bin")
	os.Mkdir(bin, 0o755)
	stub := func(name, body string) {
		os.WriteFile(filepath.Join(bin, name), []byte("#!"+bash+"\n"+body+"\n"), 0o755)
	}
	stub("vllm", `if [ ! -e "$STUBS/started" ]; then touch "$STUBS/started"; exit 1; fi; touch "$STUBS/up"; exec sleep 30`)
	stub("curl", `sleep 0.2; [ -e "$STUBS/up" ]`)
	stub("roofline", `echo bench >> "$STUBS/benches"`)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bash, script)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"), "STUBS="+dir)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Errorf("script: %v, want exit 1 (a configuration failed)\n%s", err, out)
	}
	if el := time.Since(start); el > 20*time.Second {
		t.Errorf("script took %v: wait_ready did not notice the dead server", el)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "benches"))
	if n := strings.Count(string(b), "bench"); n != len(doc.Configs)-1 || len(doc.Configs) < 2 {
		t.Errorf("%d benchmarks for %d configurations: want every one but the dead server's\n%s", n, len(doc.Configs), out)
	}
	if !strings.Contains(string(out), "rank 1: skipped, the server did not start") {
		t.Errorf("script output does not name the skipped configuration:\n%s", out)
	}
}

// Output slips: an overloaded estimate said "cost unknown (no price)" for a priced GPU and
// "compute-bound" at 0% MFU; plan with an impossible SLO asked for a price the GPU has;
// gpus show H100 printed "memory 80.0 GB" then "usable 85.0 GB" without a word.
func TestOutputSlips(t *testing.T) {
	out, _, code := runCLI(t, "estimate", "--model", llama8b, "--gpu", "H100", "--input-len", "1000", "--output-len", "100", "--request-rate", "1000")
	if code != 0 || strings.Contains(out, "no price") || strings.Contains(out, "compute-bound") || !strings.Contains(out, "overloaded: no steady output throughput") {
		t.Errorf("overloaded estimate (exit %d):\n%s", code, out)
	}
	out, _, _ = runCLI(t, "plan", "--model", llama8b, "--gpus", "H100", "--target-rate", "5", "--input-len", "100", "--output-len", "10", "--constraint", "ttft:p99<1us")
	if strings.Contains(out, "--price-per-gpu-hour") || !strings.Contains(out, "no fleet meets the load and constraints") {
		t.Errorf("plan with an impossible SLO:\n%s", out)
	}
	_, help, _ := runCLI(t, "compare", "--help")
	for _, l := range strings.Split(help, "\n") {
		if strings.Contains(l, "--format") && strings.Count(l, "auto") != 2 { // "auto, …" and (default "auto")
			t.Errorf("compare --format lists auto other than once: %s", l)
		}
	}
	out, _, _ = runCLI(t, "gpus", "show", "H100")
	if !strings.Contains(out, "more than the marketed 80.0 GB because vendors count HBM in binary units (80.0 GiB = 85.9 GB)") {
		t.Errorf("gpus show H100 does not explain usable > marketed memory:\n%s", out)
	}
}

// TestSweepPlanSomeGPUsRefused: with one GPU the engine runs on among refused ones, sweep and
// plan answer for it and note the others (exit 0); only a sweep or plan where no GPU runs the
// engine is refused.
func TestSweepPlanSomeGPUsRefused(t *testing.T) {
	for _, args := range [][]string{
		{"sweep", "--model", llama8b, "--gpus", "MI300X,H100", "--num-gpus", "1", "--engine", "trtllm", "--input-len", "1000", "--output-len", "200", "--concurrency", "8"},
		{"plan", "--model", llama8b, "--gpus", "MI300X,H100", "--engine", "trtllm", "--input-len", "1000", "--output-len", "200", "--target-rate", "10"},
		{"plan", "--model", llama8b, "--gpus", "MI300X,H100", "--weight-dtype", "fp4,fp8", "--engine", "trtllm", "--input-len", "1000", "--output-len", "200", "--target-rate", "10"},
		{"sweep", "--model", llama8b, "--gpus", "MI300X,H100", "--num-gpus", "1", "--weight-dtype", "fp4,fp8", "--engine", "trtllm", "--input-len", "1000", "--output-len", "200", "--concurrency", "8"},
	} {
		stdout, stderr, code := runCLI(t, args...)
		if code != 0 || !strings.Contains(stdout, "h100") || !strings.Contains(stdout, "mi300x's vendor is AMD") {
			t.Errorf("%s: exit %d, stderr %q; want h100 answered and mi300x noted:\n%s", args[0], code, stderr, stdout)
		}
	}
}

// TestPlanReplicaTooSmall: Llama-3.1-405B in bf16 is 405e9 × 2 B = 810 GB of weights, more
// than 8 H100s hold (8 × 80 GB = 640 GB), so under the default --max-gpus-per-replica 8 the
// planner tries no fleet at all; it said "no fleet of up to 4096 replicas meets the load and
// constraints: relax a constraint or the load" with no constraint given. The note now names
// the bound that binds, and raising it gives a fleet.
func TestPlanReplicaTooSmall(t *testing.T) {
	args := []string{"plan", "--model", "meta-llama/Llama-3.1-405B", "--gpus", "H100", "--input-len", "1000", "--output-len", "200", "--target-rate", "8"}
	stdout, stderr, code := runCLI(t, args...)
	if code != 0 || !strings.Contains(stdout, "GPUs per replica to fit, above --max-gpus-per-replica 8: no fleet was tried") || strings.Contains(stdout, "relax a constraint") {
		t.Errorf("exit %d, stderr %q; want the note naming --max-gpus-per-replica 8 and no 'relax a constraint':\n%s", code, stderr, stdout)
	}
	stdout, _, code = runCLI(t, append(args, "--max-gpus-per-replica", "16")...)
	if code != 0 || !strings.Contains(stdout, "cheapest: 16 × h100") {
		t.Errorf("--max-gpus-per-replica 16: exit %d; want a 16-GPU fleet (810 GB over 12 H100s leaves too little for one 131072-token sequence's KV):\n%s", code, stdout)
	}
}

// TestSweepPlanNoteReleaseBeforeGPU: sweep and plan note, once per GPU, an engine release
// predicted on a GPU it did not support, as estimate warns (vLLM 0.7 and 0.8 were built on
// PyTorch 2.5-2.6 with CUDA ≤ 12.6; Blackwell support came with PyTorch 2.7 and vLLM 0.9.0):
// vllm@0.7.3 on B200 was ranked and planned with no word. H100 (Hopper) gets no such note.
func TestSweepPlanNoteReleaseBeforeGPU(t *testing.T) {
	for _, args := range [][]string{
		{"sweep", "--model", llama8b, "--gpus", "B200,H100", "--num-gpus", "1", "--engine", "vllm@0.7.3", "--input-len", "1000", "--output-len", "200", "--concurrency", "8"},
		{"plan", "--model", llama8b, "--gpus", "B200,H100", "--engine", "vllm@0.7.3", "--input-len", "1000", "--output-len", "200", "--target-rate", "8"},
	} {
		stdout, stderr, code := runCLI(t, args...)
		if code != 0 || strings.Count(stdout, "on b200-sxm: vLLM releases before 0.9") != 1 || strings.Contains(stdout, "on h100-sxm5-80gb: vLLM releases") {
			t.Errorf("%s: exit %d, stderr %q; want one note for b200-sxm and none for h100:\n%s", args[0], code, stderr, stdout)
		}
	}
}

// TestPlanMaxModelLenForConfigWithoutContext: plan checks that some GPU and dtype can run the
// engine with the flags every configuration shares; a config.json without
// max_position_embeddings runs once --max-model-len is given, as estimate does (Fault 10), and
// without it plan asks for the flag.
func TestPlanMaxModelLenForConfigWithoutContext(t *testing.T) {
	cfg := noMaxPosConfig(t)
	args := []string{"plan", "--model", cfg, "--gpus", "H100", "--input-len", "100", "--output-len", "10", "--target-rate", "1"}
	if _, stderr, code := runCLI(t, append(args, "--max-model-len", "4096")...); code != 0 {
		t.Errorf("plan with --max-model-len 4096: exit %d, %s; want a plan", code, stderr)
	}
	if _, stderr, code := runCLI(t, args...); code != 2 || !strings.Contains(stderr, "--max-model-len") {
		t.Errorf("plan without --max-model-len: exit %d, %q; want exit 2 asking for it", code, stderr)
	}
}
