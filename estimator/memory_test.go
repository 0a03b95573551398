package estimator

import (
	"encoding/csv"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"

	"roofline/models"
	"roofline/units"
)

// testdata/SOURCES.md says where each file of testdata/ comes from.

func loadConfig(t testing.TB, file string) *models.Model {
	t.Helper()
	b, err := os.ReadFile("testdata/" + file)
	if err != nil {
		t.Fatal(err)
	}
	m, err := models.Parse(b, file)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func gib(b units.Bytes) float64 { return float64(b) / (1 << 30) }

// TestLLMDStartupMemory compares the vLLM memory plan with vLLM's own start-up log on one
// H100 (79.18 GiB reported, gpu_memory_utilization 0.9, max_model_len 16000, max_num_seqs
// 1024): weights within 1%, the profiling pass's peak activation within 15%, the KV pool
// within 5%. The sampler constant (39 B per element) is itemised in memory.go; these three
// rows are in-sample for it.
func TestLLMDStartupMemory(t *testing.T) {
	f, err := os.Open("testdata/llmd-h100-vllm-memory.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	num := func(r []string, k string) float64 {
		v, err := strconv.ParseFloat(r[col[k]], 64)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, r := range rows[1:] {
		id := r[col["roofline_model_arg"]]
		d := mustDeploy(t, Spec{Model: mustModel(t, id), GPU: mustGPU(t, "H100 SXM"), TP: int(num(r, "tp")), Profile: MustEngine("vllm"),
			MemoryFraction: num(r, "gpu_mem_util"), MaxModelLen: int(num(r, "max_model_len"))})
		m := d.Memory()
		if gib(m.TotalBytes) != 79.18 && !near(gib(m.TotalBytes), 79.18, 0.001) {
			t.Errorf("H100 usable memory %.2f GiB, vLLM reports 79.18 GiB", gib(m.TotalBytes))
		}
		for _, c := range []struct {
			what      string
			got, want float64
			tol       float64
		}{
			{"weights", gib(m.WeightsBytes), num(r, "vllm_weights_gib"), 0.01},
			{"peak activation", gib(m.ActivationBytes), num(r, "vllm_peak_activation_gib"), 0.15},
			{"KV pool", gib(m.KVCacheBytes), num(r, "vllm_kv_gib"), 0.05},
		} {
			if !near(c.got, c.want, c.tol) {
				t.Errorf("%s: %s %.3f GiB, vLLM logged %.3f GiB (want within %.0f%%)", id, c.what, c.got, c.want, 100*c.tol)
			} else {
				t.Logf("%s: %s %.3f GiB vs vLLM %.3f GiB (%+.1f%%)", id, c.what, c.got, c.want, 100*(c.got/c.want-1))
			}
		}
	}
}

// TestGemma3SlidingWindowCapacity: Gemma-3-27B at max_model_len 131072 on one H100 80 GB
// under vLLM's hybrid KV-cache manager. Hand count: a global layer holds 16 KV heads × 128
// × 2 × 2 B = 8 KiB per token. One 131072-token request at the prefill peak (8192-token
// chunk) holds 10 global layers × 8 KiB × 131072 = 10.0 GiB plus 52 sliding layers × 8 KiB ×
// (1023 + 8192, in 16-token blocks + 1) ≈ 3.66 GiB → 13.66 GiB. At 32 K input / 1 K output a
// sequence in decode holds 10 × 8 KiB × 33792 + 52 × 8 KiB × 1024 (+1 block) ≈ 2.99 GiB.
func TestGemma3SlidingWindowCapacity(t *testing.T) {
	m := loadConfig(t, "gemma3-27b-config.json")
	h100 := mustGPU(t, "H100 SXM")
	d := mustDeploy(t, Spec{Model: m, GPU: h100, Profile: MustEngine("vllm"), MaxModelLen: 131072, MaxNumSeqs: 256})
	const kib = 1024.0
	peak := 10*8*kib*131072 + 52*8*kib*(9216+16)
	if got := float64(d.KVSequenceBytes(131072, 8192)); !near(got, peak, 0.001) {
		t.Errorf("one 131072-token sequence at the prefill peak: %.4g GiB, want %.4g GiB", got/(1<<30), peak/(1<<30))
	}
	decode := 10*8*kib*33792 + 52*8*kib*(1024+16)
	if got := float64(d.KVSequenceBytes(33792, 1)); !near(got, decode, 0.001) {
		t.Errorf("a 33792-token sequence in decode: %.4g GiB, want %.4g GiB", got/(1<<30), decode/(1<<30))
	}
	// With max_num_seqs 256 the sampler pass takes 256 × 262208 × 39 B = 2.44 GiB; the pool
	// 0.9 × 79.18 − 51.1 (weights with the vision tower) − 2.44 − 0.15 ≈ 17.6 GiB.
	mem := d.Memory()
	if !mem.Fits {
		t.Errorf("Gemma-3-27B, 128 K, max_num_seqs 256: does not fit (pool %.2f GiB)", gib(mem.KVCacheBytes))
	}
	if c := d.ConcurrencyAt(32768 + 1024); c < 5 || c > 6 {
		t.Errorf("Gemma-3-27B at 32 K / 1 K: %d sequences at once, want 5–6 (pool %.2f GiB / 2.99 GiB)", c, gib(mem.KVCacheBytes))
	}
	// Every layer at full length would need 62 × 8 KiB × 131072 = 62 GiB: the old reading.
	if full := float64(d.KVBytesPerToken()) * 131072; full < 3*peak {
		t.Errorf("full-length KV %.3g GiB is not the 62 GiB of an all-global reading", full/(1<<30))
	}
	// vLLM's H100 default max_num_seqs 1024 makes the sampler pass 1024 × 262208 × 39 B =
	// 9.75 GiB: the pool (≈ 10.3 GiB) is below the 13.66 GiB one request needs, and the
	// error says which max_model_len and which knob would fit.
	d1024 := mustDeploy(t, Spec{Model: m, GPU: h100, Profile: MustEngine("vllm"), MaxModelLen: 131072, MaxNumSeqs: 1024})
	err := d1024.CheckFits()
	var nf *DoesNotFitError
	if !errors.As(err, &nf) || nf.MaxFitLen < 80000 || nf.MaxFitLen >= 131072 || !strings.Contains(err.Error(), "--max-model-len") || !strings.Contains(err.Error(), "--max-num-seqs 512 fits") {
		t.Errorf("max_num_seqs 1024: %v, want a does-not-fit error naming --max-model-len and --max-num-seqs 512", err)
	}
	// At 512 the sampler takes 512 × 262208 × 39 B = 4.88 GiB and the pool ≈ 10.3 + 4.88 =
	// 15.2 GiB ≥ 13.66 GiB: the largest halving that fits is 512.
	if nf != nil && nf.MaxFitSeqs != 512 {
		t.Errorf("largest fitting max_num_seqs %d, want 512", nf.MaxFitSeqs)
	}
	// vLLM 0.8.x defaulted max_num_seqs to 256 on every GPU (its release profile): the
	// unmodified launch fits, as the case's ~16–17 GiB pool says, with 5–6 sequences at 32 K / 1 K.
	v08, _, err := Engine("vllm@0.8.5")
	if err != nil || v08.MaxNumSeqs != 256 {
		t.Fatalf("vllm@0.8.5: %v, max_num_seqs %v; want the 0.8 release profile with 256", err, v08)
	}
	d08 := mustDeploy(t, Spec{Model: m, GPU: h100, Profile: v08, MaxModelLen: 131072})
	if !d08.Memory().Fits {
		t.Errorf("vllm@0.8.5 defaults: Gemma-3-27B 128 K does not fit (pool %.2f GiB)", gib(d08.Memory().KVCacheBytes))
	}
	if c := d08.ConcurrencyAt(32768 + 1024); c < 5 || c > 6 {
		t.Errorf("vllm@0.8.5 at 32 K / 1 K: %d sequences, want 5–6", c)
	}
}

// TestGemma4KVCapacity: Gemma 4 31B keeps 880 KiB per token with every layer at full
// length, but beyond the 1024-token window only the 10 global layers grow (80 KiB/token).
// A ~50 GB pool then holds (50e9 − 50 sliding layers × 16 KiB × (1023 + 8192 rounded to
// blocks + 1 block)) / 80 KiB ≈ 518 k tokens for one sequence; vLLM ≥ 0.21 reports ~525 k
// (an engine that charges every layer at full length: 50e9 / 880 KiB ≈ 55 k).
func TestGemma4KVCapacity(t *testing.T) {
	m := loadConfig(t, "gemma4-31b-config.json")
	d := mustDeploy(t, Spec{Model: m, GPU: mustGPU(t, "H200"), Profile: MustEngine("vllm"), MaxModelLen: 262144})
	if got := d.kvCapacityTokens(50e9); !near(float64(got), 525e3, 0.03) {
		t.Errorf("Gemma 4 31B, 50 GB pool: %d tokens, want ≈ 525 k", got)
	}
	by := d.Memory().KVBytesPerTokenByGroup
	if by["full"] != 10*8192 || by["sliding_1024"] != 50*16384 {
		t.Errorf("KV by group %v, want full 81920 (10 × 8 KiB), sliding_1024 819200 (50 × 16 KiB)", by)
	}
}

// TestKVPolicyPerEngine: a sliding layer of window W holds min(ctx, W − 1 + scheduled)
// tokens in vLLM (in 16-token blocks, plus one block), min(ctx, W + scheduled) in SGLang
// and min(ctx, W) in TensorRT-LLM. Gemma-3-27B, 52 sliding layers × 8 KiB, decode at 8192.
func TestKVPolicyPerEngine(t *testing.T) {
	m := loadConfig(t, "gemma3-27b-config.json")
	h200 := mustGPU(t, "H200")
	const slide, global = 52 * 8192.0, 10 * 8192.0
	for _, c := range []struct {
		engine string
		want   float64
	}{
		{"vllm", global*8192 + slide*(1024+16)},
		{"sglang", global*8192 + slide*1025},
		{"trtllm", global*8192 + slide*1024},
	} {
		d := mustDeploy(t, Spec{Model: m, GPU: h200, Profile: MustEngine(c.engine), MaxModelLen: 32768})
		if got := float64(d.KVSequenceBytes(8192, 1)); got != c.want {
			t.Errorf("%s: %v B for an 8192-token sequence in decode, want %v", c.engine, got, c.want)
		}
	}
}

// TestReplicatedKVHeadWeights: with tp above the KV-head count each GPU holds one whole KV
// head. Hand count, hidden 512, 8 heads of 64, 2 KV heads, tp 4: qkv_proj per GPU
// 512 × (8·64/4 + 2 × 64) = 512 × 256 elements (not 512 × (8·64 + 2·2·64)/4 = 512 × 192).
func TestReplicatedKVHeadWeights(t *testing.T) {
	mk := func(kv int) *models.Model {
		m, err := models.Parse([]byte(`{"model_type":"llama","hidden_size":512,"num_hidden_layers":1,"num_attention_heads":8,"num_key_value_heads":`+
			strconv.Itoa(kv)+`,"vocab_size":64,"intermediate_size":1024,"max_position_embeddings":4096,"torch_dtype":"bfloat16"}`), "tiny")
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	g := mustGPU(t, "H100 SXM")
	d2 := mustDeploy(t, Spec{Model: mk(2), GPU: g, TP: 4, Profile: MustEngine("vllm")})
	d4 := mustDeploy(t, Spec{Model: mk(4), GPU: g, TP: 4, Profile: MustEngine("vllm")})
	// With 4 KV heads nothing is replicated: qkv per GPU 512 × (128 + 2 × 64) = 512 × 256, the
	// same as with 2 heads replicated to one per GPU.
	if d2.WeightsPerGPU() != d4.WeightsPerGPU() {
		t.Errorf("2 KV heads at tp 4: %v per GPU, want %v (one whole KV head per GPU, as with 4 heads)", d2.WeightsPerGPU(), d4.WeightsPerGPU())
	}
	if !strings.Contains(d2.Memory().WeightsLayoutNote, "replicated") {
		t.Errorf("layout note %q does not say the KV heads are replicated", d2.Memory().WeightsLayoutNote)
	}
}

// TestSamplerConstantMeasured: the sampler's own tensors, re-enacted in PyTorch on an H200
// (testdata/sampler_peak.csv, from testdata/sampler_peak.py), take 36.0–36.2 B per element
// of max_num_seqs × vocabulary; the constant, taken from vLLM's logged peaks, may exceed
// that by the profiling pass's other live memory but by no more than 10%.
func TestSamplerConstantMeasured(t *testing.T) {
	f, err := os.Open("testdata/sampler_peak.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.Comment = '#'
	rows, err := r.ReadAll()
	if err != nil || len(rows) < 2 {
		t.Fatalf("sampler_peak.csv: %v", err)
	}
	for _, row := range rows[1:] {
		b, err := strconv.ParseFloat(row[4], 64)
		if err != nil {
			t.Fatal(err)
		}
		if samplerBytesPerElem < b || samplerBytesPerElem > 1.1*b {
			t.Errorf("max_num_seqs %s × vocab %s: measured %.2f B/element; the constant %d B is outside [measured, +10%%]", row[0], row[1], b, samplerBytesPerElem)
		}
	}
}
