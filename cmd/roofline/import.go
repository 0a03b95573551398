package main

import (
	"context"
	"os"
	"strings"

	"roofline/bench"
)

const importSynopsis = `import FILE [--format auto|vllm|sglang|genai-perf|aiperf|guidellm|inference-perf|roofline]
       [-o table|json|csv]

Reads the result file of another benchmark tool, recognised by its content, and prints
each benchmark in it with roofline's metric names:
  vllm bench serve    --save-result JSON, --append-result JSON lines, vllm bench sweep summaries
  SGLang bench_serving --output-file JSON lines
  GenAI-Perf          profile_export_genai_perf.json or .csv
  AIPerf              profile_export_aiperf.json or .csv
  guidellm            benchmarks.json or .yaml, every benchmark of a sweep (before and after 0.4)
  inference-perf      summary_lifecycle_metrics.json and stage_N_lifecycle_metrics.json
  roofline bench      --output json, or its --record JSON lines
A number the file does not hold is shown as "-" (null in JSON), never 0. GenAI-Perf's,
AIPerf's and guidellm's "inter-token latency" is shown as TPOT; a metric whose definition
differs from roofline's is marked with * and explained.`

func runImport(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "import", importSynopsis)
	format := choice(fs, "format", "auto", "file format: "+strings.Join(bench.Formats(), ", "), bench.Formats()...)
	output := outputFlag(fs, "table", "json", "csv")
	if err := parseFlagsArgs(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageErr("import: give exactly one result FILE (got %d arguments)", fs.NArg())
	}
	path := fs.Arg(0)
	f, err := os.Open(path)
	if err != nil {
		return usageErr("import: %v", err)
	}
	defer f.Close()
	ss, err := bench.Import(f, *format)
	if err != nil {
		return usageErr("import %s: %v", path, err)
	}
	return bench.WriteAs(e.stdout, *output, ss...)
}
