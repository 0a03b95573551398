package main

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestGPUsGolden(t *testing.T) {
	tests := []struct {
		golden string
		args   []string
	}{
		{"gpus_list.txt", []string{"gpus", "list"}},
		{"gpus_show_h100.txt", []string{"gpus", "show", "H100"}},
		{"gpus_show_h100.json", []string{"gpus", "show", "H100", "--output", "json"}},
		{"gpus_show_override.txt", []string{"gpus", "show", "h100", "--gpu-file", "testdata/gpus_override.toml"}},
	}
	for _, tt := range tests {
		stdout, stderr, code := runCLI(t, tt.args...)
		if code != 0 || stderr != "" {
			t.Errorf("%v: exit %d, stderr %q", tt.args, code, stderr)
		}
		golden(t, tt.golden, stdout)
	}
}

// TestGPUsShowJSON checks the JSON fields other tools read, against the datasheet.
func TestGPUsShowJSON(t *testing.T) {
	stdout, _, code := runCLI(t, "gpus", "show", "H200", "--output", "json")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	var g map[string]any
	if err := json.Unmarshal([]byte(stdout), &g); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"id":                           "h200-sxm-141gb",
		"memory_bytes":                 141e9,             // NVIDIA H200 datasheet: 141 GB
		"usable_memory_bytes":          150_109_880_320.0, // PyTorch total_memory on an H200 SXM
		"memory_bandwidth_bytes_per_s": 4.8e12,            // NVIDIA H200 datasheet: 4.8 TB/s
		"link_bandwidth_bytes_per_s":   450e9,             // NVLink 900 GB/s bidirectional / 2
		"tdp_watts":                    700.0,             // NVIDIA H200 datasheet: up to 700 W
		"price_usd_per_hour":           4.5,               // median of 10 on-demand offers in data/hardware/prices.csv (Nebius, 2026-10-07)
		"confidence":                   "high",
	}
	for k, v := range want {
		if got, ok := g[k]; !ok || got != v {
			t.Errorf("%s = %v (present %v), want %v", k, got, ok, v)
		}
	}
	// achievable ceilings with the peaks' keys: the Azure ND H200 v5 BabelStream Dot run read
	// 4.48 TB/s; the stas00 MAMF table gives the H100 figure 794.5 TFLOP/s for the H200.
	ach, _ := g["achievable"].(map[string]any)
	if ach["memory_bandwidth_bytes_per_s"] != 4.48e12 {
		t.Errorf("achievable.memory_bandwidth_bytes_per_s = %v, want 4.48e12", ach["memory_bandwidth_bytes_per_s"])
	}
	if gf, _ := ach["gemm_flops"].(map[string]any); gf["bf16"] != 794.5e12 {
		t.Errorf("achievable.gemm_flops.bf16 = %v, want 7.945e14", gf["bf16"])
	}
	peaks, _ := g["peak_flops"].(map[string]any)
	if peaks["bf16"] != 989.5e12 { // NVIDIA H200 datasheet: BF16 1,979 TFLOPS with sparsity, halved
		t.Errorf("peak_flops.bf16 = %v, want 9.895e14", peaks["bf16"])
	}
	for _, k := range []string{"name", "aliases", "l2_bytes", "price_source", "price_as_of", "source", "notes"} {
		if _, ok := g[k]; !ok {
			t.Errorf("field %s missing", k)
		}
	}
}

func TestGPUsListJSON(t *testing.T) {
	stdout, _, code := runCLI(t, "gpus", "list", "--output", "json", "--gpu-file", "testdata/gpus_override.toml")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	var list []map[string]any
	if err := json.Unmarshal([]byte(stdout), &list); err != nil {
		t.Fatal(err)
	}
	if len(list) != 34 { // 33 embedded + x1
		t.Fatalf("%d GPUs, want 34", len(list))
	}
	for _, g := range list {
		switch g["id"] {
		case "x1":
			// 96 GiB = 96 × 2^30 bytes
			if g["memory_bytes"] != 103079215104.0 || g["origin"] != "testdata/gpus_override.toml" {
				t.Errorf("x1: memory %v, origin %v", g["memory_bytes"], g["origin"])
			}
		case "h100-sxm5-80gb":
			if g["price_usd_per_hour"] != 2.49 || g["price_source"] != "test fixture" {
				t.Errorf("h100 price %v from %v, want the override", g["price_usd_per_hour"], g["price_source"])
			}
		}
	}
}

func TestGPUsErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"gpus"}, "gpus: missing subcommand (allowed: list, show)"},
		{[]string{"gpus", "frob"}, `gpus: unknown subcommand "frob" (allowed: list, show)`},
		{[]string{"gpus", "show"}, "gpus show: want exactly one GPU id or alias, got 0 arguments"},
		{[]string{"gpus", "show", "H100", "H200"}, "gpus show: want exactly one GPU id or alias, got 2 arguments"},
		{[]string{"gpus", "show", "H10"}, `gpus show: unknown GPU "H10"; did you mean H100, H100 NVL, H100 PCIe?`},
		{[]string{"gpus", "list", "H100"}, `gpus list: unexpected argument "H100"`},
		{[]string{"gpus", "list", "--output", "csv"}, `--output "csv": allowed values are table, json`},
		{[]string{"gpus", "list", "--bogus"}, "gpus list: unknown flag: --bogus"},
		{[]string{"gpus", "list", "--gpu-file", "testdata/gpus_bad.toml"},
			`--gpu-file: testdata/gpus_bad.toml: gpu "x2" (entry 1): memory_gbs: unknown key (did you mean memory_gb, memory_gib?)`},
		{[]string{"gpus", "list", "--gpu-file", "testdata/no-such.toml"}, "--gpu-file: open testdata/no-such.toml"},
	}
	for _, tt := range tests {
		stdout, stderr, code := runCLI(t, tt.args...)
		if code != 2 || !strings.Contains(stderr, tt.want) || strings.Count(stderr, "\n") != 1 || stdout != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 2 and one line containing %s", tt.args, code, stdout, stderr, tt.want)
		}
	}
}

func TestGPUsHelp(t *testing.T) {
	for _, args := range [][]string{{"gpus", "--help"}, {"gpus", "list", "--help"}, {"gpus", "show", "-h"}} {
		_, stderr, code := runCLI(t, args...)
		if code != 0 || !strings.Contains(stderr, "roofline gpus show GPU") {
			t.Errorf("%v: exit %d, stderr %q; want exit 0 and the synopsis", args, code, stderr)
		}
	}
}

func TestGPUCatalogue(t *testing.T) {
	c, err := gpuCatalogue([]string{"testdata/gpus_override.toml"})
	if err != nil {
		t.Fatal(err)
	}
	if g, err := c.Lookup("Example X1"); err != nil || g.ID != "x1" {
		t.Errorf("Lookup(Example X1) = %v, %v", g, err)
	}
	if _, err := gpuCatalogue([]string{"testdata/gpus_bad.toml"}); exitCode(&env{stderr: &strings.Builder{}}, err) != 2 {
		t.Errorf("bad --gpu-file: %v, want a usage error (exit 2)", err)
	}
}
