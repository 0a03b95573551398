package data

import (
	"encoding/csv"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// validationHeader is the header of the validation format (DESIGN.md, "Validation data format").
var validationHeader = strings.Split("id,source,model,gpu,num_gpus,tp,pp,dp,ep,engine,weight_dtype,kv_dtype,"+
	"input_len,output_len,prefix_len,workload,concurrency,request_rate,batch_size,num_requests,max_num_seqs,"+
	"max_num_batched_tokens,gpu_memory_utilization,metric,value", ",")

// stepsHeader is the steps.csv format (DESIGN.md, "Calibration data format") plus the two
// trace columns that data/validation/README.md documents.
var stepsHeader = strings.Split("model,gpu,tp,weight_dtype,phase,batch,tokens,ms,source,id", ",")

// readCSV reads an embedded CSV file and returns its header and rows keyed by column name.
func readCSV(t *testing.T, name string) ([]string, []map[string]string) {
	t.Helper()
	f, err := FS.Open(name)
	if err != nil {
		t.Fatalf("open %s: %v", name, err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if len(recs) < 2 {
		t.Fatalf("%s: %d records, want a header and rows", name, len(recs))
	}
	var rows []map[string]string
	for _, rec := range recs[1:] {
		m := make(map[string]string, len(rec))
		for i, h := range recs[0] {
			m[h] = rec[i]
		}
		rows = append(rows, m)
	}
	return recs[0], rows
}

// catalogueModels lists the model ids of data/models (ORG--NAME.json → ORG/NAME).
func catalogueModels(t *testing.T) map[string]bool {
	t.Helper()
	names, err := fs.Glob(FS, "models/*.json")
	if err != nil || len(names) == 0 {
		t.Fatalf("models/*.json: %v (%d files)", err, len(names))
	}
	ids := map[string]bool{}
	for _, n := range names {
		ids[strings.Replace(strings.TrimSuffix(path.Base(n), ".json"), "--", "/", 1)] = true
	}
	return ids
}

// gpuNames are the GPU names data/validation/README.md lists for the curated files.
var gpuNames = []string{"H100 SXM", "H200 SXM", "H200 NVL", "GB300", "GH200", "L40S", "A100 SXM 80GB", "B200", "GB200",
	"MI300X", "MI325X", "RTX PRO 6000"}

var (
	metrics   = []string{"ttft_ms_mean", "ttft_ms_median", "ttft_ms_p90", "ttft_ms_p99", "itl_ms_mean", "itl_ms_median", "itl_ms_p99", "tpot_ms_mean", "tpot_ms_median", "tpot_ms_p99", "e2e_ms_mean", "e2e_ms_median", "e2e_ms_p90", "e2e_ms_p99", "output_tok_s", "output_tok_s_per_gpu", "total_tok_s", "request_per_s", "batch_elapsed_s"}
	workloads = []string{"static", "concurrency", "rate", "offline"}
	dtypes    = []string{"", "fp16", "bf16", "fp8", "fp4", "int4"}
	engines   = []string{"vllm", "sglang", "trtllm", "lmdeploy", "tgi"}
)

func TestValidationFiles(t *testing.T) {
	models := catalogueModels(t)
	for _, tc := range []struct {
		file     string
		rows     int  // row count written in data/validation/README.md
		curated  bool // names normalised by this folder (the sim2real file is a verbatim copy)
		idPrefix string
	}{
		{"validation/published.csv", 1579, true, ""},
		{"validation/modern.csv", 331, true, ""},
		{"validation/vllm_sim2real_train.csv", 140, false, "S2R-"},
	} {
		t.Run(path.Base(tc.file), func(t *testing.T) {
			header, rows := readCSV(t, tc.file)
			// The validation header, optionally followed by the optional columns engine_version
			// (DESIGN.md), tpot_limit_ms, ttft_limit_ms, num_scheduler_steps and enforce_eager
			// (data/validation/README.md).
			n := len(validationHeader)
			if len(header) < n || !slices.Equal(header[:n], validationHeader) {
				t.Fatalf("header = %q, want %q first", header, validationHeader)
			}
			for _, h := range header[n:] {
				if h != "engine_version" && h != "tpot_limit_ms" && h != "ttft_limit_ms" && h != "num_scheduler_steps" && h != "enforce_eager" {
					t.Errorf("unknown optional column %q", h)
				}
			}
			if len(rows) != tc.rows {
				t.Errorf("%d rows, want %d", len(rows), tc.rows)
			}
			seen := map[string]bool{}
			for _, r := range rows {
				id := r["id"]
				if seen[id] {
					t.Errorf("duplicate id %q", id)
				}
				seen[id] = true
				if !strings.HasPrefix(id, tc.idPrefix) {
					t.Errorf("%s: id lacks prefix %q", id, tc.idPrefix)
				}
				if !slices.Contains(metrics, r["metric"]) {
					t.Errorf("%s: metric %q not in %v", id, r["metric"], metrics)
				}
				if !slices.Contains(workloads, r["workload"]) {
					t.Errorf("%s: workload %q not in %v", id, r["workload"], workloads)
				}
				if v, err := strconv.ParseFloat(r["value"], 64); err != nil || v <= 0 {
					t.Errorf("%s: value %q is not a positive number", id, r["value"])
				}
				if !tc.curated {
					continue
				}
				if !models[r["model"]] {
					t.Errorf("%s: model %q not in data/models", id, r["model"])
				}
				if !slices.Contains(gpuNames, r["gpu"]) {
					t.Errorf("%s: gpu %q not in %v", id, r["gpu"], gpuNames)
				}
				if !slices.Contains(engines, r["engine"]) {
					t.Errorf("%s: engine %q not in %v", id, r["engine"], engines)
				}
				for _, c := range []string{"weight_dtype", "kv_dtype"} {
					if !slices.Contains(dtypes, r[c]) {
						t.Errorf("%s: %s %q not in %v", id, c, r[c], dtypes)
					}
				}
				if r["workload"] == "static" && r["batch_size"] == "" {
					t.Errorf("%s: static workload without batch_size", id)
				}
				if r["workload"] == "rate" && r["request_rate"] == "" {
					t.Errorf("%s: rate workload without request_rate", id)
				}
				// When the layout is given, tp·pp·dp GPUs make up the deployment.
				if r["tp"] != "" {
					n := atoi(t, r["tp"]) * atoi(t, r["pp"]) * atoi(t, r["dp"])
					if n != atoi(t, r["num_gpus"]) {
						t.Errorf("%s: tp·pp·dp = %d, num_gpus = %s", id, n, r["num_gpus"])
					}
				}
			}
		})
	}
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("not an integer: %q", s)
	}
	return n
}

// TestPublishedKnownRows checks rows against the numbers printed by their sources, after the
// normalisation documented in data/validation/README.md.
func TestPublishedKnownRows(t *testing.T) {
	_, rows := readCSV(t, "validation/published.csv")
	byID := map[string]map[string]string{}
	for _, r := range rows {
		byID[r["id"]] = r
	}
	for _, tc := range []struct {
		id   string
		want map[string]string
	}{
		// TensorRT-LLM perf-overview v0.17: Llama 3.1 8B FP8, H200, TP1, ISL/OSL 128/128,
		// 29526.04 output tokens/s; base id mapped to the catalogue's -Instruct config.
		{"TRT017-0001", map[string]string{"model": "meta-llama/Llama-3.1-8B-Instruct", "gpu": "H200 SXM", "tp": "1",
			"engine": "trtllm", "weight_dtype": "fp8", "kv_dtype": "fp8", "input_len": "128", "output_len": "128",
			"workload": "offline", "metric": "output_tok_s", "value": "29526.04"}},
		// LMDeploy a100_fp16.md: llama2-7b, batch 1, 1 prompt token, 128 output tokens,
		// first-token latency 0.011 s = 11 ms and 50% per-token latency 0.009 s = 9 ms.
		{"LMDEPLOY-0002", map[string]string{"gpu": "A100 SXM 80GB", "workload": "static", "batch_size": "1",
			"input_len": "1", "output_len": "128", "metric": "ttft_ms_mean", "value": "11"}},
		{"LMDEPLOY-0003", map[string]string{"metric": "itl_ms_median", "value": "9"}},
		// LMDeploy: llama2-7b, batch 64, 2048/2048, FTL 39.105 s = 39105 ms.
		{"LMDEPLOY-0059", map[string]string{"batch_size": "64", "metric": "ttft_ms_mean", "value": "39105"}},
		// MLPerf v4.1 H100×8 llama2-70b-99.9 Offline: 24524.9 tokens/s, 84.4792 samples/s;
		// output_len = 24524.9 / 84.4792 = 290.3 → 290; TP2×4 from NVIDIA's Offline config.
		{"MLPERF-0001", map[string]string{"model": "meta-llama/Llama-2-70b-hf", "num_gpus": "8", "tp": "2", "dp": "4",
			"workload": "offline", "input_len": "", "output_len": "290", "metric": "output_tok_s", "value": "24524.9"}},
		// MLPerf v4.1 same system, Server at target_qps 75: mean TTFT 275.926440 ms.
		{"MLPERF-0005", map[string]string{"workload": "rate", "request_rate": "75", "tp": "", "metric": "ttft_ms_mean",
			"value": "275.926440"}},
		// TensorRT-LLM post-1.0 perf-overview: DeepSeek-R1-0528 NVFP4 on 4×B200 "DEP4",
		// 6463 output tokens/s per GPU; DEP4 = attention DP 4 + EP 4 → tp 1, dp 4, ep 4.
		{"TRTMAIN-0001", map[string]string{"model": "deepseek-ai/DeepSeek-R1", "gpu": "B200", "tp": "1", "dp": "4",
			"ep": "4", "weight_dtype": "fp4", "metric": "output_tok_s_per_gpu", "value": "6463"}},
		// dstack qps_comparison.csv: 8×H100 405B FP8 at QPS 16, 1198.88845 output tokens/s;
		// ShareGPT input 215,196 tokens / 1000 prompts = 215; output 1198.88845 / 9.933701 = 120.7 → 121.
		{"DSTK405-0149", map[string]string{"model": "meta-llama/Llama-3.1-405B", "engine": "vllm", "input_len": "215",
			"output_len": "121", "workload": "rate", "request_rate": "16", "num_requests": "1000",
			"metric": "output_tok_s", "value": "1198.88845"}},
		// sglang benchmark_vllm_060: Llama-3.1-8B, A100 80G, SGLang, RPS 4 (1200 prompts),
		// median TTFT 31.98 ms; ShareGPT averages 202/179 from the vLLM v0.6 blog.
		{"SGL060-0002", map[string]string{"engine": "sglang", "input_len": "202", "output_len": "179",
			"num_requests": "1200", "metric": "ttft_ms_median", "value": "31.98"}},
	} {
		r, ok := byID[tc.id]
		if !ok {
			t.Errorf("%s: missing", tc.id)
			continue
		}
		for k, v := range tc.want {
			if r[k] != v {
				t.Errorf("%s: %s = %q, want %q", tc.id, k, r[k], v)
			}
		}
	}
	// Rows left out on purpose (README "Exclusions"): ambiguous per-GPU/total unit at TP2
	// (TRT061-0026), no GPU (LAMBDA-0097), per-chunk ITL (LAMBDA-0002), approximate text (BENTOML-0001).
	for _, id := range []string{"TRT061-0026", "LAMBDA-0097", "LAMBDA-0002", "BENTOML-0001", "GPUSTACK-0001"} {
		if _, ok := byID[id]; ok {
			t.Errorf("%s: present, want excluded", id)
		}
	}
}

func TestStepsPublished(t *testing.T) {
	header, rows := readCSV(t, "validation/steps_published.csv")
	if !slices.Equal(header, stepsHeader) {
		t.Fatalf("header = %q, want %q", header, stepsHeader)
	}
	if len(rows) != 152 {
		t.Errorf("%d rows, want 152 (README)", len(rows))
	}
	models := catalogueModels(t)
	seen := map[string]bool{}
	byID := map[string]map[string]string{}
	for _, r := range rows {
		if seen[r["id"]] {
			t.Errorf("duplicate id %q", r["id"])
		}
		seen[r["id"]] = true
		byID[r["id"]] = r
		if !models[r["model"]] || !slices.Contains(gpuNames, r["gpu"]) {
			t.Errorf("%s: model %q or gpu %q unknown", r["id"], r["model"], r["gpu"])
		}
		if r["phase"] != "prefill" && r["phase"] != "decode" {
			t.Errorf("%s: phase %q", r["id"], r["phase"])
		}
		for _, c := range []string{"tp", "batch", "tokens"} {
			if atoi(t, r[c]) < 1 {
				t.Errorf("%s: %s = %s", r["id"], c, r[c])
			}
		}
		if v, err := strconv.ParseFloat(r["ms"], 64); err != nil || v <= 0 {
			t.Errorf("%s: ms %q", r["id"], r["ms"])
		}
	}
	for _, tc := range []struct {
		id   string
		want map[string]string
	}{
		// LMDeploy llama2-7b batch 1, 1 prompt token + 128 output: 50% per-token latency 0.009 s;
		// decode context = input + output/2 = 1 + 64 = 65 tokens.
		{"LMDEPLOY-0003", map[string]string{"phase": "decode", "batch": "1", "tokens": "65", "ms": "9"}},
		// LMDeploy llama2-7b batch 16, 2048/128: FTL 2.897 s → prefill of 16 prompts of 2048 tokens.
		{"LMDEPLOY-0026", map[string]string{"phase": "prefill", "batch": "16", "tokens": "2048", "ms": "2897"}},
		// TensorRT-LLM performance.md Low Latency table: Llama 70B, A100, TP4, 128 input, 47 ms.
		{"TRT061-0054", map[string]string{"model": "meta-llama/Llama-2-70b-hf", "gpu": "A100 SXM 80GB", "tp": "4",
			"phase": "prefill", "batch": "1", "tokens": "128", "ms": "47"}},
	} {
		r, ok := byID[tc.id]
		if !ok {
			t.Errorf("%s: missing", tc.id)
			continue
		}
		for k, v := range tc.want {
			if r[k] != v {
				t.Errorf("%s: %s = %q, want %q", tc.id, k, r[k], v)
			}
		}
	}
	// Hand calculation: llama2-7b fp16 KV = 2·32 layers·32 heads·128·2 B = 524288 B/token;
	// batch 64 × 4096 tokens = 137 GB > 80 GB − 14 GB of weights, so LMDEPLOY-0059 is queued, not one step.
	if _, ok := byID["LMDEPLOY-0059"]; ok {
		t.Errorf("LMDEPLOY-0059 present, want excluded (KV cache cannot hold the batch)")
	}
}

// The tpot_limit_ms and ttft_limit_ms values of modern.csv are the MLPerf Inference v5.1
// scenario bounds on the p99 TPOT and p99 TTFT (DeepSeek-R1 Server 80 and 2000 ms; Llama-3.1-8B
// Server 100 and 2000 ms, Interactive 30 and 500 ms), entered without the MLPerf rules file at
// hand (data/validation/README.md marks them unverified). A valid MLPerf Server/Interactive
// result meets its bounds, so every measured p99 TPOT and p99 TTFT of such a run must lie at
// or below the row's bound; a wrong (too low) bound fails here.
func TestMLPerfTPOTLimitsHoldForMeasuredP99(t *testing.T) {
	_, rows := readCSV(t, "validation/modern.csv")
	checked := map[string]int{}
	for _, r := range rows {
		if (r["tpot_limit_ms"] == "") != (r["ttft_limit_ms"] == "") {
			t.Errorf("%s: tpot_limit_ms %q and ttft_limit_ms %q: a scenario has both bounds or neither", r["id"], r["tpot_limit_ms"], r["ttft_limit_ms"])
		}
		col := map[string]string{"tpot_ms_p99": "tpot_limit_ms", "ttft_ms_p99": "ttft_limit_ms"}[r["metric"]]
		if col == "" || r[col] == "" {
			continue
		}
		lim, err := strconv.ParseFloat(r[col], 64)
		if err != nil {
			t.Fatalf("%s: %s %q", r["id"], col, r[col])
		}
		v, _ := strconv.ParseFloat(r["value"], 64)
		if v > lim {
			t.Errorf("%s: measured %s %.2f ms above the row's %s %.0f ms", r["id"], r["metric"], v, col, lim)
		}
		checked[r["metric"]]++
	}
	// 32 MLPerf v5.1 Server/Interactive runs carry a p99 TPOT and a p99 TTFT row.
	if checked["tpot_ms_p99"] < 30 || checked["ttft_ms_p99"] < 30 {
		t.Errorf("p99 rows with a bound: %v, want 32 of each", checked)
	}
}
