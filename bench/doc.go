// Package bench is a load generator and metrics calculator for OpenAI-compatible
// streaming servers (vLLM, SGLang, TensorRT-LLM, Ollama, …), plus importers that read
// the result files of other benchmark tools into the same Summary.
//
// A run produces one Record per request, with raw timestamps (scheduled send, actual
// send, first chunk, every content chunk, end of stream), token usage and any error.
// Errors are data: an HTTP 500, a reset stream or a malformed event is recorded and the
// run goes on. Metrics are views on the records (Summarize), so a run written as JSON
// lines (WriteRecord) can be summarised again later (ReadRecords) without being re-run.
//
// A complete program:
//
//	package main
//
//	import (
//		"context"
//		"fmt"
//		"log"
//		"os"
//
//		"roofline/bench"
//	)
//
//	func main() {
//		cfg := bench.Config{
//			URL:         "http://127.0.0.1:8000", // server root or …/v1
//			Model:       "my-model",
//			Concurrency: 4,  // closed loop: 4 requests in flight
//			NumRequests: 64, // then stop
//			InputLen:    512,
//			OutputLen:   128,
//		}
//		recs, err := bench.Run(context.Background(), cfg, nil)
//		if err != nil && len(recs) == 0 {
//			log.Fatal(err)
//		}
//		s := bench.Summarize(recs, bench.Options{})
//		fmt.Printf("mean TTFT %.1f ms, output %.0f tok/s\n", s.TTFT.Mean, s.OutputTokS)
//		s.WriteTable(os.Stdout)
//	}
//
// # Metric definitions
//
// They match `vllm bench serve`, so numbers compare one to one. Times are measured
// from each request's actual send time, as vLLM does (Options.TimingOrigin
// OriginSent, the default). Every record also keeps the scheduled send time:
// OriginScheduled times from it instead, so waiting behind a concurrency cap or a slow
// client counts as latency, as a user arriving on schedule would see it.
//
//   - TTFT: send → first chunk carrying content. A live reply with no content chunk
//     (e.g. only [DONE]) has no TTFT and fails ("empty"), as vllm bench serve fails it, so
//     it stays out of every rate; NoContent counts such replies in imported results.
//   - A stream that closes cleanly after its tokens without [DONE] is complete (vLLM's
//     client never looks for [DONE]; the record's note says so). A reply of one JSON
//     object (the server ignored "stream": true) fails "not streamed". HTTP 429/503 keep
//     their Retry-After in the record (retry_after_s) and the summary warns; no retry.
//   - ITL: gaps between consecutive content chunks of one request, pooled over requests
//     (a per-chunk statistic; ChunksPerToken shows a server that bundles tokens).
//   - TPOT: (last content − first content) / (output tokens − 1) per request; requests
//     with one output token or fewer are left out of TPOT.
//   - E2E: send → last content chunk (the end of the stream is kept too).
//   - Output throughput: total output tokens / (first send → last end of stream);
//     request throughput likewise with completed requests.
//   - Per-user tokens/s: output tokens / (E2E − TTFT) per request.
//   - Percentiles: linear interpolation between closest ranks (numpy's default, as
//     vLLM, SGLang and GenAI-Perf use).
//
// Token counts come from the last `usage` object of the stream (the request asks for
// stream_options.include_usage). Without usage, the completion tokens are the number of
// content chunks and the prompt tokens the synthetic target; the record says
// usage_source "counted" and the summary is marked approximate.
//
// # Synthetic prompts
//
// Prompts are built without a tokenizer from a fixed list of short, common English words
// that each encode to one token (with their leading space) in the byte-pair vocabularies
// of Llama 3, Qwen 2.5, Mistral and GPT-4-class tokenizers, so a prompt of n words is
// about n tokens. Chat templates add a few tokens; the server's usage reports the
// actual prompt tokens, and that is what the summary uses.
package bench
