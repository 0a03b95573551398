// Package simserver is an OpenAI-compatible streaming server whose timing comes from the
// estimator: a fixture for trying bench, validate and compare without a GPU. Its numbers are
// predictions played back in real time, never measurements.
//
// Serve answers POST /v1/chat/completions and /v1/completions with streaming replies
// (stream: true; stream_options.include_usage adds a final usage chunk) and GET /v1/models.
// Each lane of the deployment (DP replicas × PP micro-batches) runs one engine; requests are
// assigned round-robin. An engine runs continuous batching: each step admits waiting requests
// within the token budget (max_num_batched_tokens, default 8192 tokens) and max_num_seqs
// (default 256), takes the time Deployment.StepSeconds predicts for its batch (chunked
// prefills and decodes), then sends every running sequence its token. A request reaches the
// engine after the profile's request_overhead_ms (API server, tokenisation).
//
// Units: times in seconds on a virtual clock that follows the wall clock; lengths in tokens.
package simserver
