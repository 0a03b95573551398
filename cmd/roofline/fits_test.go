package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestFitsRuleCLI: memory and estimate give one verdict. Gemma-3-27B at its 131072-token
// context on one H100 under vLLM's defaults (max_num_seqs 1024): the sampler pass takes
// 1024 × 262208 × 39 B = 9.75 GiB and leaves a ~10.3 GiB KV pool, below the 13.66 GiB one
// 131072-token request needs (10 global layers × 8 KiB × 131072 + 52 sliding layers × 8 KiB
// × (1023 + 8192)): memory says fits false, estimate refuses with exit 2 naming the
// max_model_len that fits; with --max-model-len 65536 both accept and estimate prints it.
func TestFitsRuleCLI(t *testing.T) {
	base := []string{"--model", "google/gemma-3-27b-it", "--gpu", "h100", "--engine", "vllm"}
	out, _, code := runCLI(t, append([]string{"memory", "--output", "json"}, base...)...)
	var mem struct {
		Fits   bool              `json:"fits"`
		Tokens int               `json:"kv_cache_tokens"`
		Groups map[string]uint64 `json:"kv_bytes_per_token_by_group"`
		Note   *string           `json:"weights_layout_note"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &mem) != nil {
		t.Fatalf("memory: exit %d, %q", code, out)
	}
	if mem.Fits || mem.Groups["full"] != 10*8192 || mem.Groups["sliding_1024"] != 52*8192 || mem.Note == nil {
		t.Errorf("memory: fits %v, groups %v, note %v; want false, full 81920 (10 × 8 KiB), sliding_1024 425984 (52 × 8 KiB), a layout note", mem.Fits, mem.Groups, mem.Note)
	}
	est := append([]string{"estimate", "--input-len", "32768", "--output-len", "1024", "--concurrency", "4"}, base...)
	_, stderr, code := runCLI(t, est...)
	if code != 2 || !strings.Contains(stderr, "does not fit") || !strings.Contains(stderr, "--max-model-len") {
		t.Errorf("estimate at the model's context: exit %d, %q; want exit 2 naming --max-model-len", code, stderr)
	}
	out, _, code = runCLI(t, append(est, "--max-model-len", "65536")...)
	if code != 0 || !strings.Contains(out, "max_model_len 65536") {
		t.Errorf("estimate --max-model-len 65536: exit %d; want 0 and the value printed", code)
	}
	out, _, code = runCLI(t, append([]string{"memory", "--output", "json", "--max-model-len", "65536"}, base...)...)
	if code != 0 || json.Unmarshal([]byte(out), &mem) != nil || !mem.Fits {
		t.Errorf("memory --max-model-len 65536: exit %d, fits %v; want true", code, mem.Fits)
	}
}
