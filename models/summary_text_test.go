package models

import (
	"strings"
	"testing"
)

// TestWriteTextLayerGroups: the note on layer groups said "KV at max context is far below
// max context × KV/token" for every model; for one whose layers all keep every token the
// two are equal (Qwen3-30B-A3B: 40960 tokens × 98.3 kB = 4.03 GB, both printed). Models
// with sliding windows (gemma-3-27b: 52 of 62 layers at 1024 tokens) keep the note.
func TestWriteTextLayerGroups(t *testing.T) {
	for _, tc := range []struct {
		id       string
		windowed bool
	}{
		{"Qwen/Qwen3-30B-A3B", false},
		{"meta-llama/Llama-3.1-8B-Instruct", false},
		{"deepseek-ai/DeepSeek-V3", false},
		{"google/gemma-3-27b-it", true},
	} {
		m, err := LoadCatalogue(tc.id)
		if err != nil {
			t.Fatal(err)
		}
		s, err := Describe(m, "", "")
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		if err := s.WriteText(&b); err != nil {
			t.Fatal(err)
		}
		far := strings.Contains(b.String(), "far below max context × KV/token")
		equal := strings.Contains(b.String(), `"KV at max context" is max context × KV/token`)
		if far != tc.windowed || equal == tc.windowed {
			t.Errorf("%s: 'far below' %v, 'is max context × KV/token' %v; windowed layers: %v", tc.id, far, equal, tc.windowed)
		}
	}
}
