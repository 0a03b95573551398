// Package models reads a decoder-only transformer's architecture from a Hugging Face
// config.json and does its exact accounting: parameters (total and active per token),
// weight bytes per dtype including quantization scales, KV-cache bytes per token (GQA,
// MLA latent, sliding windows) and FLOPs per token by operator for prefill and decode.
package models
