package gguf

import (
	"fmt"
	"io"
	"math/rand/v2"
)

// SentencePiece token types stored in tokenizer.ggml.token_type (llama.cpp's
// llama_token_type values).
const (
	TokenNormal  int32 = 1
	TokenUnknown int32 = 2
	TokenControl int32 = 3
	TokenByte    int32 = 6
)

// Special token ids of the tiny model's vocabulary.
const (
	UnkID = 0 // <unk>
	BOSID = 1 // <s>
	EOSID = 2 // </s>
	// FirstByteID is the id of <0x00>; byte b has id FirstByteID+b.
	FirstByteID = 3
	// FirstWordID is the id of the first word piece, after the 256 byte tokens.
	FirstWordID = FirstByteID + 256
)

// words are the word pieces of the tiny vocabulary, each stored with the
// SentencePiece word-start prefix "▁" (U+2581), which decodes to a space.
var words = []string{
	"the", "of", "and", "to", "a", "in", "is", "it", "that", "was",
	"for", "on", "are", "with", "as", "he", "be", "at", "one", "have",
	"this", "from", "or", "had", "by", "hot", "word", "but", "what", "some",
	"we", "can", "out", "other", "were", "all", "there", "when", "up", "use",
	"your", "how", "said", "an", "each", "she", "which", "do", "their", "time",
	"if", "will", "way", "about", "many", "then", "them", "write", "would", "like",
	"so", "these", "her", "long", "make", "thing", "see", "him", "two", "has",
	"look", "more", "day", "could", "go", "come", "did", "number", "sound", "no",
	"most", "people", "my", "over", "know", "water", "than", "call", "first", "who",
	"may", "down", "side", "been", "now", "find", "any", "new", "work", "part",
	"take", "get", "place", "made", "live", "where", "after", "back", "little", "only",
	"round", "man", "year", "came", "show", "every", "good", "me", "give", "our",
	"under", "name", "very", "through", "just", "form", "sentence", "great", "think", "say",
	"help", "low", "line", "differ", "turn", "cause", "much", "mean", "before", "move",
	"right", "boy", "old", "too", "same", "tell", "does", "set", "three", "want",
	"air", "well", "also", "play", "small", "end", "put", "home", "read", "hand",
	"port",
}

// TinyLlama describes a small random-weight llama model. Zero fields take the
// defaults in brackets.
type TinyLlama struct {
	Layers  int // transformer blocks [2]
	Hidden  int // embedding width [64]
	Heads   int // attention heads, also the KV heads (no GQA) [4]
	FFN     int // feed-forward width [128]
	Context int // context length in tokens [512]
	// Seed selects the random weights; the same TinyLlama gives the same file.
	Seed uint64
	// SplitChars makes the reply cycle through "é" (byte tokens <0xC3>
	// <0xA9>) and the word " the". A streaming server holds back an incomplete
	// UTF-8 sequence, so it sends two content chunks per three tokens:
	// ⌊2n/3⌋ chunks for n tokens. By default every token is a whole word and
	// the server sends one content chunk per token.
	SplitChars bool
}

func (c TinyLlama) withDefaults() TinyLlama {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.Layers, 2)
	def(&c.Hidden, 64)
	def(&c.Heads, 4)
	def(&c.FFN, 128)
	def(&c.Context, 512)
	return c
}

// Vocab returns the tiny model's SentencePiece vocabulary: <unk>, <s>, </s>,
// the byte tokens <0x00>…<0xFF>, then the word pieces, with their scores and
// token types. Word piece i has score −i (earlier pieces are preferred when
// the tokenizer merges); the other tokens score 0.
func Vocab() (tokens []string, scores []float32, types []int32) {
	tokens = []string{"<unk>", "<s>", "</s>"}
	types = []int32{TokenUnknown, TokenControl, TokenControl}
	for b := range 256 {
		tokens = append(tokens, fmt.Sprintf("<0x%02X>", b))
		types = append(types, TokenByte)
	}
	scores = make([]float32, len(tokens), len(tokens)+len(words))
	for i, w := range words {
		tokens = append(tokens, "\u2581"+w)
		scores = append(scores, -float32(i))
		types = append(types, TokenNormal)
	}
	return tokens, scores, types
}

// Model returns the metadata and tensors of the tiny llama model described by c.
//
// Weights: token embeddings are N(0, 1) and projection weights N(0, 0.02²),
// norm weights 1, from a generator seeded with Seed. The output matrix is
// built so that the reply is known in advance without trained weights:
//   - dimension 0 of every token embedding is +10, so dimension 0 of the
//     residual stream, and of the final normalised hidden state h, stays
//     strongly positive: h₀ ≈ 10/√((100+63)/64) ≈ 6.3 (the projections are
//     too small to change any dimension by more than a few hundredths);
//   - the output row of each token that must never be sampled (</s>, <unk>,
//     <s> and the byte tokens) reads only dimension 0 with weight −50, so its
//     logit is about −50·6.3 ≈ −315;
//   - the output row of word piece w is 0.2 times the embedding of the word
//     piece before it (the last one before the first), dimension 0 excluded.
//     After word u, the next word scores 0.2·|e_u|²/rms(e_u) ≈ 0.2·63/1.6 ≈ 8,
//     every other word 0.2·(e_w·e_u)/rms(e_u), about N(0, 1) (e_w·e_u ~ N(0, 63)).
//
// So a server that ignores "ignore_eos" still produces exactly max_tokens
// tokens, and greedy decoding walks the word list in order (" the of and to
// …"): no token repeats (Ollama ends a reply early, without a
// final chunk, once more than 30 chunks in a row are identical).
//
// With SplitChars every row is suppressed but three, each keyed to a
// dimension that only one token's embedding sets (+10, the others 0): <0xC3>
// reads dimension 0 with weight +1 (logit ≈ 6.3 after most tokens); <0xA9>
// reads dimension 1, set by <0xC3>, and " the" dimension 2, set by <0xA9>,
// each with weight +3: after <0xC3>, h₀ = h₁ ≈ 10/√((200+61)/64) ≈ 4.9, so
// <0xA9> scores ≈ 14.8 against 4.9 for <0xC3>. The reply is <0xC3> <0xA9>
// " the" repeated. Model fails on dimensions that do not divide.
func (c TinyLlama) Model() ([]KV, []Tensor, error) {
	c = c.withDefaults()
	if c.Layers < 1 || c.Hidden < 4 || c.Heads < 1 || c.FFN < 1 || c.Context < 1 {
		return nil, nil, fmt.Errorf("gguf: tiny llama dimensions must be positive: %+v", c)
	}
	if c.Hidden%c.Heads != 0 || (c.Hidden/c.Heads)%2 != 0 {
		return nil, nil, fmt.Errorf("gguf: hidden %d must split into %d heads of even width", c.Hidden, c.Heads)
	}
	tokens, scores, types := Vocab()
	nv, h := len(tokens), c.Hidden
	kvs := []KV{
		{"general.architecture", "llama"},
		{"general.name", "tiny-random-llama"},
		{"general.alignment", uint32(DefaultAlignment)},
		{"general.file_type", uint32(0)}, // all tensors F32
		{"llama.context_length", uint32(c.Context)},
		{"llama.embedding_length", uint32(h)},
		{"llama.block_count", uint32(c.Layers)},
		{"llama.feed_forward_length", uint32(c.FFN)},
		{"llama.attention.head_count", uint32(c.Heads)},
		{"llama.attention.head_count_kv", uint32(c.Heads)},
		{"llama.rope.dimension_count", uint32(h / c.Heads)},
		{"llama.attention.layer_norm_rms_epsilon", float32(1e-5)},
		{"llama.rope.freq_base", float32(1e4)},
		{"llama.vocab_size", uint32(nv)},
		{"tokenizer.ggml.model", "llama"},
		{"tokenizer.ggml.tokens", tokens},
		{"tokenizer.ggml.scores", scores},
		{"tokenizer.ggml.token_type", types},
		{"tokenizer.ggml.bos_token_id", uint32(BOSID)},
		{"tokenizer.ggml.eos_token_id", uint32(EOSID)},
		{"tokenizer.ggml.unknown_token_id", uint32(UnkID)},
		{"tokenizer.ggml.add_bos_token", true},
		{"tokenizer.ggml.add_eos_token", false},
	}

	rng := rand.New(rand.NewPCG(c.Seed, 0x6767756674696e79)) // second word: "gguftiny" in ASCII
	normal := func(n int, std float64) []float32 {
		xs := make([]float32, n)
		for i := range xs {
			xs[i] = float32(rng.NormFloat64() * std)
		}
		return xs
	}
	ones := func(n int) []float32 {
		xs := make([]float32, n)
		for i := range xs {
			xs[i] = 1
		}
		return xs
	}
	mat := func(name string, in, out int, std float64) Tensor {
		return Tensor{Name: name, Dims: []uint64{uint64(in), uint64(out)}, Data: normal(in*out, std)}
	}

	embd := mat("token_embd.weight", h, nv, 1)
	for v := range nv {
		embd.Data[v*h] = 10
	}
	out := Tensor{Name: "output.weight", Dims: []uint64{uint64(h), uint64(nv)}, Data: make([]float32, h*nv)}
	row := func(v int) []float32 { return out.Data[v*h : (v+1)*h] }
	for v := range nv {
		if types[v] != TokenNormal || c.SplitChars {
			row(v)[0] = -50
			continue
		}
		prev := v - 1
		if prev < FirstWordID {
			prev = nv - 1
		}
		for i := 1; i < h; i++ {
			row(v)[i] = 0.2 * embd.Data[prev*h+i]
		}
	}
	if c.SplitChars {
		lead, cont, word := FirstByteID+0xC3, FirstByteID+0xA9, FirstWordID
		for v := range nv {
			embd.Data[v*h+1], embd.Data[v*h+2] = 0, 0
		}
		embd.Data[lead*h+1], embd.Data[cont*h+2] = 10, 10
		row(lead)[0] = 1
		row(cont)[0], row(cont)[1] = 0, 3
		row(word)[0], row(word)[2] = 0, 3
	}
	ts := []Tensor{embd, {Name: "output_norm.weight", Dims: []uint64{uint64(h)}, Data: ones(h)}, out}
	for l := range c.Layers {
		p := fmt.Sprintf("blk.%d.", l)
		ts = append(ts,
			Tensor{Name: p + "attn_norm.weight", Dims: []uint64{uint64(h)}, Data: ones(h)},
			mat(p+"attn_q.weight", h, h, 0.02),
			mat(p+"attn_k.weight", h, h, 0.02),
			mat(p+"attn_v.weight", h, h, 0.02),
			mat(p+"attn_output.weight", h, h, 0.02),
			Tensor{Name: p + "ffn_norm.weight", Dims: []uint64{uint64(h)}, Data: ones(h)},
			mat(p+"ffn_gate.weight", h, c.FFN, 0.02),
			mat(p+"ffn_up.weight", h, c.FFN, 0.02),
			mat(p+"ffn_down.weight", c.FFN, h, 0.02),
		)
	}
	return kvs, ts, nil
}

// WriteTinyLlama writes the tiny llama model described by c to w as GGUF v3.
func WriteTinyLlama(w io.Writer, c TinyLlama) error {
	kvs, ts, err := c.Model()
	if err != nil {
		return err
	}
	return Write(w, kvs, ts)
}
