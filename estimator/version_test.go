package estimator

import (
	"strings"
	"testing"
)

func TestParseVersion(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
	}{
		{"0.7.3", "0.7.3"},
		{"0.6.3.post2.dev308+gb489fc3c", "0.6.3"}, // dstack's vLLM nightly (data/validation README)
		{"1.2.0rc1", "1.2.0"},                     // GPUStack's TensorRT-LLM release candidate
		{"v0.5.4", "0.5.4"},
		{"1.0", "1.0"},
		{"0.7.3-rc1", "0.7.3"},                    // a git-describe style tag
		{"1.0.0rc4", "1.0.0"},                     // TensorRT-LLM's release candidates (PyPI)
		{"0.6.1.post1", "0.6.1"},                  // vLLM's post-releases (PyPI)
		{"2.4.1+cu121", "2.4.1"},                  // a local build tag
		{"0.11.0.dev0+g1234.d20250101", "0.11.0"}, // a setuptools-scm dev build
		{"0.5", "0.5"},
	} {
		v, err := ParseVersion(tc.in)
		if err != nil || v.String() != tc.want {
			t.Errorf("ParseVersion(%q) = %v, %v; want %s", tc.in, v, err, tc.want)
		}
	}
	// Garbage after the numbers was read as a release: "vllm@0.7@1" as 0.7, "vllm@1e3" as 1
	// (the newest profile); a component past int said "strconv.Atoi: … value out of range".
	for _, bad := range []string{"", "newest", "x1.0", "0.7@1", "1e3", "0.7.3 beta", "0.7..3x", "0.99999999999999999999", "1.0+", "0.7/1"} {
		if _, err := ParseVersion(bad); err == nil {
			t.Errorf("ParseVersion(%q) accepted", bad)
		}
	}
}

// The release boundaries: vLLM V0 up to 0.7 and V1 from 0.8 (vLLM 0.8.0 release notes
// make V1 the default; 0.8.x keeps max_num_seqs 256, 0.9 raised it to 1024 on large GPUs), SGLang 0.4 vs 0.5, TensorRT-LLM before and from 1.0.
func TestEngineRelease(t *testing.T) {
	for _, tc := range []struct{ in, profile string }{
		{"vllm@0.5.4", "vllm-0.5"},
		{"vllm@0.6.3", "vllm-v0"},
		{"vllm@0.7.3", "vllm-v0"},
		{"vllm@0.8.0", "vllm-0.8"},
		{"vllm@0.8.5.post1", "vllm-0.8"},
		{"vllm@0.9.0", "vllm"},
		{"vllm@0.19.1", "vllm"},
		{"vllm", "vllm"},
		{"sglang@0.4.6", "sglang-0.4"},
		{"sglang@0.5.9", "sglang"},
		{"trtllm@0.17", "trtllm-0.x"},
		{"trtllm@1.2", "trtllm"},
		{"TRTLLM@1.0", "trtllm"},
	} {
		p, ok, err := Engine(tc.in)
		if err != nil || !ok || p.Name != tc.profile {
			t.Errorf("Engine(%q) = %v, %v, %v; want profile %s", tc.in, p, ok, err, tc.profile)
			continue
		}
		if at := strings.Index(tc.in, "@"); at > 0 && !strings.Contains(p.Label(), tc.in[at:]) {
			t.Errorf("Engine(%q).Label() = %q: does not name the release", tc.in, p.Label())
		}
	}
	if _, _, err := Engine("vllm@banana"); err == nil || !strings.Contains(err.Error(), "vllm@banana") {
		t.Errorf("Engine(vllm@banana) error = %v, want one naming the value", err)
	}
}

// Every family's release profiles tile the version line: exactly one covers each release.
func TestReleaseRangesDisjoint(t *testing.T) {
	for _, fam := range []string{"vllm", "sglang", "trtllm"} {
		ps, err := releaseProfiles(fam)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range []string{"0.1", "0.4.9", "0.5", "0.6.0", "0.7.99", "0.8", "0.99", "1.0", "1.5", "2.0"} {
			v, _ := ParseVersion(s)
			n := 0
			for _, p := range ps {
				if p.Covers(v) {
					n++
				}
			}
			if n != 1 {
				t.Errorf("%s@%s: %d profiles cover it, want 1", fam, s, n)
			}
		}
	}
}

// FuzzParseVersion: ParseVersion never panics; a version it accepts prints as its numbers
// alone, which parse back to the same version, and the input starts with a number.
func FuzzParseVersion(f *testing.F) {
	for _, s := range []string{"0.7.3", "v0.5.4", "1.2.0rc1", "0.6.3.post2.dev308+gb489fc3c", "0.7@1", "1e3", "", "2.4.1+cu121", "0.7.3-rc1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseVersion(s)
		if err != nil {
			return
		}
		back, err := ParseVersion(v.String())
		if err != nil || back.Compare(v) != 0 || len(back) != len(v) {
			t.Fatalf("%q → %v → %q → %v, %v", s, v, v.String(), back, err)
		}
		if in := strings.TrimPrefix(strings.TrimSpace(s), "v"); in == "" || in[0] < '0' || in[0] > '9' {
			t.Fatalf("%q read as %v: it does not start with a number", s, v)
		}
	})
}
