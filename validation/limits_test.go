package validation

import (
	"strings"
	"testing"
)

// TestLatencyBoundColumns: tpot_limit_ms and ttft_limit_ms are the p99 bounds of an MLPerf
// Server/Interactive run (data/validation/README.md), so they read as a number of ms > 0 on a
// row at a finite offered rate, ttft_limit_ms only beside tpot_limit_ms (the edge is searched
// under the TPOT bound: atEdge). A bound that is 0, negative or not a number, a TTFT bound alone
// and bounds on a closed-loop, offline or request_rate=inf row were read as "no bound" or
// ignored, and the row predicted at its own rate with no word; each is now a bad row naming the
// field. Expected values: the rules above, and the MLPerf Llama-3.1-8B Server bounds of the
// README (100 ms, 2000 ms).
func TestLatencyBoundColumns(t *testing.T) {
	const head = "id,model,gpu,workload,concurrency,request_rate,metric,value,tpot_limit_ms,ttft_limit_ms\n"
	for _, c := range []struct {
		row              string
		wantTPOT, wantTT float64
		wantErr          string
	}{
		{"x,m,H200,rate,,300,ttft_ms_p99,1500,100,2000", 100, 2000, ""},
		{"x,m,H200,rate,,300,ttft_ms_p99,1500,100,", 100, 0, ""}, // TPOT bound alone: TTFT unbounded
		{"x,m,H200,rate,,300,ttft_ms_p99,1500,,", 0, 0, ""},
		{"x,m,H200,concurrency,64,,ttft_ms_p99,1500,,", 0, 0, ""},
		{"x,m,H200,rate,,300,ttft_ms_p99,1500,abc,2000", 0, 0, `t.csv:2: tpot_limit_ms: "abc" is not a finite number`},
		{"x,m,H200,rate,,300,ttft_ms_p99,1500,-100,2000", 0, 0, "t.csv:2: tpot_limit_ms: -100: must be a p99 bound in ms > 0 (empty: no bound)"},
		{"x,m,H200,rate,,300,ttft_ms_p99,1500,100,-2000", 0, 0, "t.csv:2: ttft_limit_ms: -2000: must be a p99 bound in ms > 0 (empty: no bound)"},
		{"x,m,H200,rate,,300,ttft_ms_p99,1500,0,2000", 0, 0, `t.csv:2: tpot_limit_ms: "0": must be a p99 bound in ms > 0 (empty: no bound)`},
		{"x,m,H200,rate,,300,ttft_ms_p99,1500,100,0.0", 0, 0, `t.csv:2: ttft_limit_ms: "0.0": must be a p99 bound in ms > 0 (empty: no bound)`},
		{"x,m,H200,rate,,300,ttft_ms_p99,1500,,2000", 0, 0, "t.csv:2: ttft_limit_ms: 2000 without tpot_limit_ms"},
		{"x,m,H200,concurrency,64,,ttft_ms_p99,1500,100,2000", 0, 0, `t.csv:2: tpot_limit_ms: 100 with workload "concurrency": latency bounds belong to a row at an offered rate`},
		{"x,m,H200,offline,,,output_tok_s,50000,100,2000", 0, 0, `t.csv:2: tpot_limit_ms: 100 with workload "offline"`},
		{"x,m,H200,rate,,inf,output_tok_s,50000,100,2000", 0, 0, `t.csv:2: tpot_limit_ms: 100 with workload "rate"`},
	} {
		rows, err := ReadRows(strings.NewReader(head+c.row+"\n"), "t.csv")
		if c.wantErr != "" {
			if err == nil || !strings.HasPrefix(err.Error(), c.wantErr) {
				t.Errorf("%s: error %v, want one starting %s", c.row, err, c.wantErr)
			}
			continue
		}
		if err != nil || len(rows) != 1 || rows[0].TPOTLimitMs != c.wantTPOT || rows[0].TTFTLimitMs != c.wantTT {
			t.Errorf("%s: rows %+v, error %v; want bounds %g, %g ms", c.row, rows, err, c.wantTPOT, c.wantTT)
		}
	}
}

// TestEngineVersionColumn: engine_version is a release number (estimator.ParseVersion: 0.7.3,
// v0.7.3, 1.2.0rc1) or empty; "abc" or "0.7@1" was kept as a row and left unpredicted with a
// note about a flag (--engine vllm@abc) the user never gave. It is now a bad row naming the
// field, like any other malformed column.
func TestEngineVersionColumn(t *testing.T) {
	const head = "id,model,gpu,engine,engine_version,metric,value\n"
	for _, c := range []struct{ v, wantErr string }{
		{"0.7.3", ""}, {"v0.7.3", ""}, {"1.2.0rc1", ""}, {"", ""},
		{"abc", `t.csv:2: engine_version: version "abc": expected a release number`},
		{"0.7@1", `t.csv:2: engine_version: version "0.7@1"`},
	} {
		_, err := ReadRows(strings.NewReader(head+"x,m,H100,vllm,"+c.v+",output_tok_s,100\n"), "t.csv")
		switch {
		case c.wantErr == "" && err != nil:
			t.Errorf("engine_version %q: %v, want accepted", c.v, err)
		case c.wantErr != "" && (err == nil || !strings.HasPrefix(err.Error(), c.wantErr)):
			t.Errorf("engine_version %q: error %v, want one starting %s", c.v, err, c.wantErr)
		}
	}
}

// TestUnknownColumn: every header name is a column of the format (Columns); a misspelt
// optional column (TPOT_LIMIT_MS, tpot_limit) was ignored with its values, so an MLPerf
// Server row was predicted at its own rate with no word. Now the file is refused, naming
// the column.
func TestUnknownColumn(t *testing.T) {
	for _, h := range []string{"TPOT_LIMIT_MS", "tpot_limit", "notes"} {
		_, err := ReadRows(strings.NewReader("id,model,gpu,workload,request_rate,metric,value,"+h+"\nx,m,H200,rate,300,ttft_ms_p99,1500,100\n"), "t.csv")
		if err == nil || !strings.HasPrefix(err.Error(), `t.csv: unknown column "`+h+`" in the header (allowed: id,source,`) {
			t.Errorf("header %s: %v, want the unknown column named", h, err)
		}
	}
	if _, err := ReadRows(strings.NewReader("id,model,gpu,workload,request_rate,metric,value,tpot_limit_ms, ttft_limit_ms \nx,m,H200,rate,300,ttft_ms_p99,1500,100,2000\n"), "t.csv"); err != nil {
		t.Errorf("known columns (one with spaces around it): %v", err)
	}
}

// TestEngineColumn: engine names an embedded profile (estimator.EngineNames: vllm, sglang,
// trtllm, lmdeploy, tgi, default, ideal; any case; NAME@VERSION too) or is empty (default). "foo" was predicted
// with the default profile, as if the row had said default; it is now a bad row naming the
// field and the allowed values.
func TestEngineColumn(t *testing.T) {
	const head = "id,model,gpu,engine,metric,value\n"
	for _, c := range []struct{ e, wantErr string }{
		{"vllm", ""}, {"TRTLLM", ""}, {"", ""}, {"tgi", ""},
		{"foo", `t.csv:2: engine: "foo": allowed values are default, ideal, lmdeploy, sglang, tgi, trtllm, vllm (empty: default)`},
		{"vllm@0.7.3", ""}, // NAME@VERSION, as --engine takes it (EngineName)
		{"foo@1.0", `t.csv:2: engine: "foo@1.0": allowed values are`},
	} {
		_, err := ReadRows(strings.NewReader(head+"x,m,H100,"+c.e+",output_tok_s,100\n"), "t.csv")
		switch {
		case c.wantErr == "" && err != nil:
			t.Errorf("engine %q: %v, want accepted", c.e, err)
		case c.wantErr != "" && (err == nil || !strings.HasPrefix(err.Error(), c.wantErr)):
			t.Errorf("engine %q: error %v, want one starting %s", c.e, err, c.wantErr)
		}
	}
}
