package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"roofline/internal/gguf"
)

func TestWrite(t *testing.T) {
	c := gguf.TinyLlama{Seed: 3, SplitChars: true}
	p := filepath.Join(t.TempDir(), "tiny.gguf")
	if err := write(p, c); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	if err := gguf.WriteTinyLlama(&want, c); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Errorf("file (%d bytes) differs from WriteTinyLlama (%d bytes)", len(got), want.Len())
	}
	if err := write(filepath.Join(t.TempDir(), "missing", "tiny.gguf"), c); err == nil {
		t.Error("writing into a missing directory succeeded")
	}
}
