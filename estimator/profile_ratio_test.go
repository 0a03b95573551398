package estimator

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestProfileRatioKnobsOnlyWithRatio: admission "ratio"'s five knobs (new_token_ratio_init,
// new_token_ratio_min, new_token_ratio_decay_steps, clip_max_new_tokens, retract_decode_steps)
// arrived with SGLang's admission.
//
//   - A complete profile file written before them (every other key set, as calibrate wrote it
//     from the vllm profile) was refused as "missing new_token_ratio_init, …" although greedy
//     admission never reads them: it loads again. A file with admission = "ratio" still needs
//     them all.
//   - A file that sets one to a non-zero value under another admission changed nothing,
//     silently: it is refused, naming the key and the admission.
//   - retract_decode_steps is multiplied by the running requests: 9e18 overflowed an int to a
//     negative target and a negative ratio; it is bounded at 1e9 tokens per request.
func TestProfileRatioKnobsOnlyWithRatio(t *testing.T) {
	var b bytes.Buffer
	if err := MustEngine("vllm").WriteTOML(&b); err != nil {
		t.Fatal(err)
	}
	knob := regexp.MustCompile(`(?m)^(new_token_ratio_init|new_token_ratio_min|new_token_ratio_decay_steps|clip_max_new_tokens|retract_decode_steps) = .*\n`)
	if n := len(knob.FindAllString(b.String(), -1)); n != 5 {
		t.Fatalf("the vllm profile's TOML has %d of the 5 ratio knobs:\n%s", n, b.String())
	}
	old := knob.ReplaceAllString(b.String(), "")
	dir := t.TempDir()
	write := func(name, doc string) string {
		f := filepath.Join(dir, name)
		if err := os.WriteFile(f, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		return f
	}
	if _, err := LoadProfileFile(write("old.toml", old)); err != nil {
		t.Errorf("complete greedy profile without the ratio knobs: %v", err)
	}
	ratio := strings.Replace(old, `admission = ""`, `admission = "ratio"`, 1)
	if ratio == old {
		t.Fatalf("no admission line to switch in:\n%s", old)
	}
	if _, err := LoadProfileFile(write("ratio.toml", ratio)); err == nil || !strings.Contains(err.Error(), "missing new_token_ratio_init, new_token_ratio_min, new_token_ratio_decay_steps, clip_max_new_tokens, retract_decode_steps") {
		t.Errorf("complete ratio profile without its knobs: %v, want them named as missing", err)
	}
	for _, c := range []struct{ doc, want string }{
		{"base = \"vllm\"\nnew_token_ratio_init = 0.5\n", `new_token_ratio_init = 0.5 is set but admission is "greedy"`},
		{"base = \"trtllm\"\nretract_decode_steps = 20\n", `retract_decode_steps = 20 is set but admission is "reserve"`},
		{"base = \"sglang\"\nadmission = \"greedy\"\nclip_max_new_tokens = 100\n", `clip_max_new_tokens = 100 is set but admission is "greedy"`},
		{"base = \"sglang\"\nretract_decode_steps = 9000000000000000000\n", "retract_decode_steps = 9000000000000000000: must be in [0, 1000000000]"},
	} {
		if _, err := ParseProfile("p.toml", []byte(c.doc)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want an error containing %q", c.doc, err, c.want)
		}
	}
	// Zeros (what calibrate writes from a greedy profile) and inherited knobs under a switched
	// admission are accepted.
	for _, doc := range []string{"base = \"vllm\"\nnew_token_ratio_init = 0.0\nretract_decode_steps = 0\n", "base = \"sglang\"\nadmission = \"greedy\"\n",
		"base = \"sglang\"\nretract_decode_steps = 1000000000\n"} {
		if _, err := ParseProfile("p.toml", []byte(doc)); err != nil {
			t.Errorf("%q: %v", doc, err)
		}
	}
}
