// Package gguf writes and reads GGUF version 3 files, the single-file model
// format of llama.cpp and Ollama, and generates a tiny random-weight llama
// model that a real inference server can load.
//
// It is test support: the live-benchmark integration test serves the generated
// model with Ollama so the benchmark client meets a real streaming server
// without downloading weights. Only what that needs is implemented: metadata
// of every scalar and array type, and F32 tensors.
//
// A complete program that writes the tiny model:
//
//	f, err := os.Create("tiny.gguf")
//	if err != nil {
//		log.Fatal(err)
//	}
//	if err := gguf.WriteTinyLlama(f, gguf.TinyLlama{Seed: 1}); err != nil {
//		log.Fatal(err)
//	}
//	if err := f.Close(); err != nil {
//		log.Fatal(err)
//	}
//
// # File layout (GGUF v3, little-endian)
//
//	magic "GGUF" | version uint32 = 3 | tensor count uint64 | metadata count uint64
//	metadata:     key string | value type uint32 | value
//	tensor infos: name string | n_dims uint32 | dims [n_dims]uint64 | type uint32 | offset uint64
//	padding to the alignment (general.alignment, default 32 bytes)
//	tensor data, each tensor starting at its offset (a multiple of the alignment)
//
// A string is a uint64 byte length followed by the bytes (no terminator); an
// array is an element type uint32, a uint64 count and the elements. Dimension
// 0 of a tensor is the fastest-varying one, so a weight matrix that maps n
// inputs to m outputs has dims [n, m] and stores m rows of n values.
package gguf
