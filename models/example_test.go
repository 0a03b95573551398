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
