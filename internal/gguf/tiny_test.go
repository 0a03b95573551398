package gguf

import (
	"bytes"
	"fmt"
	"math"
	"strings"
	"testing"
)

func tinyFile(t *testing.T, c TinyLlama) ([]byte, *File) {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteTinyLlama(&buf, c); err != nil {
		t.Fatal(err)
	}
	f, err := Read(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), f
}

func TestTinyLlamaLayout(t *testing.T) {
	b, f := tinyFile(t, TinyLlama{Seed: 1})
	// Vocabulary: 3 special + 256 byte tokens + 161 word pieces = 420.
	tokens, _ := f.Get("tokenizer.ggml.tokens")
	toks := tokens.([]string)
	if len(toks) != 420 || toks[0] != "<unk>" || toks[1] != "<s>" || toks[2] != "</s>" ||
		toks[3] != "<0x00>" || toks[3+0x0A] != "<0x0A>" || toks[258] != "<0xFF>" || toks[259] != "▁the" {
		t.Errorf("vocabulary: %d tokens starting %q", len(toks), toks[:min(len(toks), 5)])
	}
	types, _ := f.Get("tokenizer.ggml.token_type")
	ty := types.([]int32)
	if ty[0] != TokenUnknown || ty[1] != TokenControl || ty[2] != TokenControl || ty[3] != TokenByte || ty[259] != TokenNormal {
		t.Errorf("token types start %v, word pieces %v", ty[:4], ty[259])
	}
	scores, _ := f.Get("tokenizer.ggml.scores")
	if sc := scores.([]float32); len(sc) != 420 || sc[259] != 0 || sc[260] != -1 {
		t.Errorf("scores: %d, first word pieces %v", len(sc), sc[259:261])
	}
	// Metadata of the layout Ollama v0.6.5 is known to serve: 64 wide, 2 blocks, FFN 128,
	// 4 heads of 16, context 512, eps 1e-5, rope base 1e4, bos 1, eos 2, unk 0.
	for k, want := range map[string]any{
		"general.architecture": "llama", "llama.context_length": uint32(512), "llama.embedding_length": uint32(64),
		"llama.block_count": uint32(2), "llama.feed_forward_length": uint32(128), "llama.attention.head_count": uint32(4),
		"llama.attention.head_count_kv": uint32(4), "llama.rope.dimension_count": uint32(16),
		"llama.attention.layer_norm_rms_epsilon": float32(1e-5), "llama.rope.freq_base": float32(1e4),
		"tokenizer.ggml.model": "llama", "tokenizer.ggml.bos_token_id": uint32(1), "tokenizer.ggml.eos_token_id": uint32(2),
		"tokenizer.ggml.unknown_token_id": uint32(0), "tokenizer.ggml.add_bos_token": true,
	} {
		if got, ok := f.Get(k); !ok || got != want {
			t.Errorf("%s = %v (%T), want %v (%T)", k, got, got, want, want)
		}
	}
	// 21 tensors: token_embd, output_norm, output, and 9 per block for 2 blocks.
	if len(f.Tensors) != 21 {
		t.Fatalf("%d tensors, want 21", len(f.Tensors))
	}
	dims := map[string][]uint64{}
	var values uint64
	for _, ts := range f.Tensors {
		dims[ts.Name] = ts.Dims
		values += uint64(len(ts.Data))
	}
	for name, want := range map[string][]uint64{
		"token_embd.weight": {64, 420}, "output.weight": {64, 420}, "output_norm.weight": {64},
		"blk.1.attn_q.weight": {64, 64}, "blk.1.attn_k.weight": {64, 64}, "blk.0.ffn_gate.weight": {64, 128},
		"blk.0.ffn_down.weight": {128, 64}, "blk.1.ffn_norm.weight": {64},
	} {
		if got := dims[name]; len(got) != len(want) || got[0] != want[0] || got[len(got)-1] != want[len(want)-1] {
			t.Errorf("%s dims %v, want %v", name, got, want)
		}
	}
	// Hand calculation of the parameter count: embeddings and output 2·420·64 = 53760,
	// output norm 64, per block 2 norms 128 + attention 4·64·64 = 16384 + FFN 3·64·128 = 24576,
	// so 53760 + 64 + 2·41088 = 136000 values, 544000 bytes of F32. Every tensor is a multiple
	// of 32 bytes, so the data section is exactly that long and ends the file.
	if values != 136000 {
		t.Errorf("%d parameters, want 136000", values)
	}
	if len(b) < 544000 || (len(b)-544000)%32 != 0 || len(b) > 544000+16384 {
		t.Errorf("file is %d bytes, want 544000 of data after a header padded to 32 bytes", len(b))
	}
}

func TestTinyLlamaDeterministic(t *testing.T) {
	a, _ := tinyFile(t, TinyLlama{Seed: 7})
	b, _ := tinyFile(t, TinyLlama{Seed: 7})
	c, _ := tinyFile(t, TinyLlama{Seed: 8})
	if !bytes.Equal(a, b) {
		t.Error("the same seed gave different files")
	}
	if bytes.Equal(a, c) || len(a) != len(c) {
		t.Error("seeds 7 and 8 gave the same file, or files of different sizes")
	}
}

// logits returns output·rmsnorm(x) for every vocabulary row: the model's logits when
// the transformer blocks add nothing to the residual stream (their N(0, 0.02²) weights
// change it by a few percent).
func logits(f *File, x []float32) []float64 {
	var ss float64
	for _, v := range x {
		ss += float64(v) * float64(v)
	}
	scale := 1 / math.Sqrt(ss/float64(len(x))+1e-5)
	var out *Tensor
	for i := range f.Tensors {
		if f.Tensors[i].Name == "output.weight" {
			out = &f.Tensors[i]
		}
	}
	h := len(x)
	ls := make([]float64, out.Dims[1])
	for v := range ls {
		for i := range h {
			ls[v] += float64(out.Data[v*h+i]) * float64(x[i]) * scale
		}
	}
	return ls
}

// argmax returns the index of the largest value and the largest of the others.
func argmax(xs []float64) (best int, runnerUp float64) {
	runnerUp = math.Inf(-1)
	for i, x := range xs {
		if x > xs[best] {
			best = i
		}
	}
	for i, x := range xs {
		if i != best {
			runnerUp = max(runnerUp, x)
		}
	}
	return best, runnerUp
}

func TestTinyLlamaGreedyWalk(t *testing.T) {
	_, f := tinyFile(t, TinyLlama{Seed: 1})
	embd := f.Tensors[0]
	if embd.Name != "token_embd.weight" {
		t.Fatalf("first tensor is %s", embd.Name)
	}
	const h = 64
	for u := range 420 {
		x := embd.Data[u*h : (u+1)*h]
		if x[0] != 10 {
			t.Fatalf("embedding %d has dimension 0 = %v, want 10", u, x[0])
		}
		ls := logits(f, x)
		best, second := argmax(ls)
		// Hand calculation in the doc of Model: after a word the next word scores ≈ 8 and the
		// others ≈ N(0, 1); suppressed tokens ≈ −50·6.3 ≈ −315.
		if best < FirstWordID {
			t.Fatalf("after token %d the greedy choice is %d, not a word piece", u, best)
		}
		if u >= FirstWordID {
			want := u + 1
			if want == 420 {
				want = FirstWordID
			}
			if best != want || ls[best]-second < 1 {
				t.Fatalf("after word %d the greedy choice is %d (logit %.2f, runner-up %.2f), want %d by a margin of 1",
					u, best, ls[best], second, want)
			}
		}
		for _, s := range []int{UnkID, BOSID, EOSID, FirstByteID, FirstByteID + 0x0A, FirstByteID + 0xC3, FirstByteID + 255} {
			if ls[s] > -200 {
				t.Fatalf("after token %d: logit of %d is %v, want below -200", u, s, ls[s])
			}
		}
	}
}

func TestTinyLlamaSplitChars(t *testing.T) {
	_, f := tinyFile(t, TinyLlama{Seed: 1, SplitChars: true})
	const h = 64
	lead, cont := FirstByteID+0xC3, FirstByteID+0xA9
	for u := range 420 {
		ls := logits(f, f.Tensors[0].Data[u*h:(u+1)*h])
		// Hand calculation in the doc of Model: after <0xC3> the continuation <0xA9> scores
		// ≈ 14.8 against ≈ 4.9, after <0xA9> " the" likewise; after any other token
		// <0xC3> scores ≈ 6.3 against 0.
		want := lead
		switch u {
		case lead:
			want = cont
		case cont:
			want = FirstWordID
		}
		if best, second := argmax(ls); best != want || ls[best]-second < 4 {
			t.Fatalf("after token %d the greedy choice is %d (logit %.2f, runner-up %.2f), want %d by a margin of 4",
				u, best, ls[best], second, want)
		}
	}
}

func TestTinyLlamaBadConfig(t *testing.T) {
	for _, c := range []TinyLlama{{Hidden: 64, Heads: 5}, {Hidden: 12, Heads: 4}, {Layers: -1}} {
		if err := WriteTinyLlama(&bytes.Buffer{}, c); err == nil || !strings.Contains(err.Error(), "gguf: ") {
			t.Errorf("%+v: error %v, want a gguf error", c, err)
		}
	}
}

func ExampleTinyLlama_Model() {
	kvs, tensors, err := TinyLlama{Seed: 1}.Model()
	if err != nil {
		panic(err)
	}
	params := 0
	for _, t := range tensors {
		params += len(t.Data)
	}
	tokens, _, _ := Vocab()
	// 136000 parameters by hand: 2·420·64 (embeddings, output) + 64 + 2·(2·64 + 4·64² + 3·64·128).
	fmt.Println(len(kvs), "metadata entries,", len(tensors), "tensors,", params, "parameters, vocabulary", len(tokens))
	fmt.Println(tokens[FirstByteID+0x0A], tokens[FirstWordID], tokens[len(tokens)-1])
	// Output:
	// 23 metadata entries, 21 tensors, 136000 parameters, vocabulary 420
	// <0x0A> ▁the ▁port
}
