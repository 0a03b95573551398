// Command mkgguf writes the tiny random-weight llama model of package gguf to
// a file, for serving with a GGUF-loading inference server:
//
//	go run ./internal/gguf/cmd/mkgguf -out tiny.gguf [-seed 1] [-split-chars]
package main

import (
	"flag"
	"fmt"
	"os"

	"roofline/internal/gguf"
)

func main() {
	out := flag.String("out", "", "output file (required)")
	seed := flag.Uint64("seed", 1, "random seed of the weights")
	splitChars := flag.Bool("split-chars", false, `reply "é" (two byte tokens) repeated: one content chunk per two tokens`)
	flag.Parse()
	if *out == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: mkgguf -out FILE [-seed N] [-split-chars]")
		os.Exit(2)
	}
	if err := write(*out, gguf.TinyLlama{Seed: *seed, SplitChars: *splitChars}); err != nil {
		fmt.Fprintln(os.Stderr, "mkgguf:", err)
		os.Exit(1)
	}
}

func write(path string, c gguf.TinyLlama) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := gguf.WriteTinyLlama(f, c); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
