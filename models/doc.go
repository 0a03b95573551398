// Package models reads a decoder-only transformer's architecture from a Hugging Face
// config.json and does its exact accounting: parameters (total and active per token),
// weight bytes per dtype including quantization scales, KV-cache bytes per token (GQA,
// MLA latent, sliding windows) and FLOPs per token by operator for prefill and decode.
//
// Parse reads config.json bytes; a Resolver finds them by name (a path, the embedded
// catalogue, the local Hugging Face cache, or the Hub). Features roofline does not model
// (linear-attention or state-space layers, encoder-decoders, DeepSeek-V3.2's sparse
// attention indexer) are errors starting "unsupported:", never silently wrong counts.
package models
