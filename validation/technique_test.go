package validation

import (
	"context"
	"math"
	"strings"
	"testing"

	"roofline/hardware"
	"roofline/models"
)

const techCSV = `id,source,model,gpu,num_gpus,tp,engine,input_len,output_len,workload,concurrency,spec_method,spec_tokens,spec_accept_len,prefill_replicas,prefill_tp,decode_replicas,decode_tp,kv_transfer,offload_tier,nodes,internode,metric,value
A-1,s,meta-llama/Llama-3.1-8B-Instruct,H100,1,1,vllm,1000,200,concurrency,1,,,,,,,,,,1,,tpot_ms_mean,7
A-2,s,meta-llama/Llama-3.1-8B-Instruct,H100,1,1,vllm,1000,200,concurrency,1,eagle3,3,2.5,,,,,,,1,,tpot_ms_mean,4
B-1,s,meta-llama/Llama-3.1-8B-Instruct,H100,2,,vllm,8000,1,concurrency,1,,,,1,1,1,1,rdma,,2,RoCE = 25 GB/s per GPU,kv_transfer_ms_mean,50
`

// TestTechniqueRows: the technique columns are read, classified and predicted; the KV transfer
// of an 8000-token Llama-3.1-8B prompt (131,072 B/token = 1.049 GB) over one 25 GB/s NIC with
// vLLM's connector (η 0.772) takes 54.33 ms plus 0.366 ms per transfer → 54.70 ms; the speculative row's
// TPOT is below its baseline's, as measured (one pair, sign right).
func TestTechniqueRows(t *testing.T) {
	rows, err := ReadRows(strings.NewReader(techCSV), "t.csv")
	if err != nil {
		t.Fatal(err)
	}
	if n := []string{rows[0].Tech.Name(), rows[1].Tech.Name(), rows[2].Tech.Name()}; n[0] != "baseline" || n[1] != "speculative" || n[2] != "disaggregation" {
		t.Fatalf("names %q", n)
	}
	cat, err := hardware.Load()
	if err != nil {
		t.Fatal(err)
	}
	r := &models.Resolver{Offline: true}
	res := Predict(context.Background(), rows, Options{Catalogue: cat, LoadModel: r.Load, ClosedForm: true})
	for _, x := range res {
		if x.Predicted == nil {
			t.Fatalf("%s: %s", x.ID, x.Reason)
		}
	}
	want := 8000*131072/(25e9*0.772)*1e3 + 0.366
	if got := *res[2].Predicted; math.Abs(got-want) > 1e-6 || math.Abs(got-54.70) > 0.01 {
		t.Errorf("KV transfer %.5g ms, want %.5g ms", got, want)
	}
	s := Summarise(res)
	if s.GainSigns == nil || s.GainSigns.Pairs != 1 || s.GainSigns.Right != 1 {
		t.Errorf("gain signs %+v", s.GainSigns)
	}
	if len(s.ByTechnique) != 3 {
		t.Errorf("by technique %+v", s.ByTechnique)
	}
	bad := strings.Replace(techCSV, "eagle3", "medusa", 1)
	if _, err := ReadRows(strings.NewReader(bad), "t.csv"); err == nil || !strings.Contains(err.Error(), "spec_method") {
		t.Errorf("unknown spec_method: %v", err)
	}
}

// TestDecodeTokSPerGPU: decode_tok_s_per_gpu is the running sequences of every lane over the
// decode time per output token, per GPU. By hand: 16 attention-DP ranks on 16 GPUs, 2
// sequences each, 39.2 ms per decode step → 2 / 0.0392 s = 51.0 tok/s per GPU (the SGLang
// DeepSeek-V3 per-rank "gen throughput" of 51.0 at 2 requests per rank, LMSYS MTP blog case
// study 1, implies this step time).
func TestDecodeTokSPerGPU(t *testing.T) {
	p := Prediction{NumGPUs: 16, Lanes: 16}
	p.Serving.Batch, p.Serving.DecodeStepMs = 2, 39.2
	v, ok, why := MetricValue(p, Row{Metric: "decode_tok_s_per_gpu"})
	if !ok || math.Abs(v-2/0.0392) > 1e-9 || math.Abs(v-51.0) > 0.05 {
		t.Errorf("decode_tok_s_per_gpu = %g (%v, %s), want 51.0", v, ok, why)
	}
	p.Serving.Batch = 0
	if _, ok, _ := MetricValue(p, Row{Metric: "decode_tok_s_per_gpu"}); ok {
		t.Error("no running batch: want no value")
	}
}
