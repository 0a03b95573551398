package models_test

import (
	"fmt"

	"roofline/models"
)

// The KV cache of Llama-3.1-8B: 2 (K and V) · 8 KV heads · 128 head_dim · 32 layers ·
// 2 bytes = 131072 bytes per token; and its exact parameter count.
func ExampleModel_KVBytesPerToken() {
	m, err := models.LoadCatalogue("meta-llama/Llama-3.1-8B-Instruct")
	if err != nil {
		fmt.Println(err)
		return
	}
	kv, _ := m.KVBytesPerToken("")
	fmt.Printf("%.0f bytes/token (%v/token)\n", float64(kv), kv)
	p := m.Params()
	fmt.Printf("%d params (%d embedding, %d lm_head)\n", p.Total, p.Embedding, p.LMHead)
	// Output:
	// 131072 bytes/token (131 kB/token)
	// 8030261248 params (525336576 embedding, 525336576 lm_head)
}

// Describe summarises a model as "roofline models show" prints it. Llama-3.1-8B keeps, per
// token, 32 layers × 8 KV heads × 128 dims × 2 (K and V) × 2 bytes (bf16) = 131,072 bytes of
// KV cache (config.json: num_hidden_layers 32, num_key_value_heads 8, head_dim 4096/32).
func ExampleDescribe() {
	m, err := models.LoadCatalogue("meta-llama/Llama-3.1-8B-Instruct")
	if err != nil {
		panic(err)
	}
	s, err := models.Describe(m, "", "")
	if err != nil {
		panic(err)
	}
	fmt.Println(s.KVCacheBytesPerToken, "bytes of KV cache per token")
	fmt.Println(models.ParamString(s.ParamsTotal))
	// Output:
	// 131072 bytes of KV cache per token
	// 8.03 B params
}
