package units

import (
	"fmt"
	"sort"
	"strings"
)

// dtypeBytes is the storage size of one element of each numeric type roofline knows.
// int4/fp4 are 0.5 byte before scales; quantization scales are accounted by the model.
var dtypeBytes = map[string]float64{
	"fp32": 4, "tf32": 4, "bf16": 2, "fp16": 2, "fp8": 1, "int8": 1, "int4": 0.5, "fp4": 0.5,
}

var dtypeAliases = map[string]string{
	"float32": "fp32", "float": "fp32", "bfloat16": "bf16", "float16": "fp16", "half": "fp16",
	"fp8_e4m3": "fp8", "fp8_e5m2": "fp8", "e4m3": "fp8", "float8": "fp8", "float8_e4m3fn": "fp8",
	"nvfp4": "fp4", "mxfp4": "fp4", "w4a16": "int4", "w8a8": "int8", "auto": "",
}

// CanonicalDtype maps a dtype name ("bfloat16", "BF16", "float8_e4m3fn") to roofline's
// canonical spelling (fp32, tf32, bf16, fp16, fp8, int8, int4, fp4). An empty name stays
// empty (meaning: the model's own dtype). Unknown names are an error listing the allowed ones.
func CanonicalDtype(name string) (string, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	if a, ok := dtypeAliases[n]; ok {
		n = a
	}
	if n == "" {
		return "", nil
	}
	if _, ok := dtypeBytes[n]; !ok {
		return "", fmt.Errorf("unknown dtype %q (allowed: %s)", name, strings.Join(Dtypes(), ", "))
	}
	return n, nil
}

// DtypeBytes returns the bytes per element of a canonical dtype (0.5 for 4-bit types).
func DtypeBytes(name string) (float64, error) {
	c, err := CanonicalDtype(name)
	if err != nil {
		return 0, err
	}
	b, ok := dtypeBytes[c]
	if !ok {
		return 0, fmt.Errorf("dtype must not be empty (allowed: %s)", strings.Join(Dtypes(), ", "))
	}
	return b, nil
}

// Dtypes lists the canonical dtype names, sorted.
func Dtypes() []string {
	out := make([]string, 0, len(dtypeBytes))
	for k := range dtypeBytes {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
