package units

import (
	"strings"
	"testing"
)

func TestCanonicalDtype(t *testing.T) {
	tests := map[string]string{
		"bf16": "bf16", "BF16": "bf16", "bfloat16": "bf16", "float16": "fp16", "half": "fp16",
		"float32": "fp32", "fp8_e4m3": "fp8", "float8_e4m3fn": "fp8", "nvfp4": "fp4", "mxfp4": "fp4",
		"w4a16": "int4", "w8a8": "int8", " fp8 ": "fp8", "auto": "", "": "",
	}
	for in, want := range tests {
		got, err := CanonicalDtype(in)
		if err != nil || got != want {
			t.Errorf("CanonicalDtype(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	_, err := CanonicalDtype("fp12")
	if err == nil || !strings.Contains(err.Error(), `unknown dtype "fp12" (allowed: bf16, fp16, fp32, fp4, fp8, int4, int8, tf32)`) {
		t.Errorf("CanonicalDtype(fp12) error = %v", err)
	}
}

func TestDtypeBytes(t *testing.T) {
	// Storage sizes: IEEE/OCP formats, 4-bit types are half a byte before scales.
	for in, want := range map[string]float64{"fp32": 4, "bfloat16": 2, "fp16": 2, "fp8": 1, "int8": 1, "int4": 0.5, "fp4": 0.5} {
		if got, err := DtypeBytes(in); err != nil || got != want {
			t.Errorf("DtypeBytes(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := DtypeBytes(""); err == nil || !strings.Contains(err.Error(), "must not be empty") {
		t.Errorf("DtypeBytes(\"\") error = %v", err)
	}
	if _, err := DtypeBytes("int3"); err == nil {
		t.Error("DtypeBytes(int3) accepted an unknown dtype")
	}
}
