package sweeprun

import (
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"

	"roofline/bench"
	"roofline/estimator"
	"roofline/units"
	"roofline/validation"
)

// ModelPredictor predicts each run with the estimator: Base (model, GPU, max_model_len,
// gpu_memory_utilization) with the run's server arguments applied (ApplyArgs) and Profile.
// Ignore names server arguments (environment variables) the prediction leaves out; Log,
// when not nil, receives a line at each refit of Recalibrate.
type ModelPredictor struct {
	Base    estimator.Spec
	Profile *estimator.Profile
	Ignore  map[string]bool
	Log     io.Writer
}

// NewModelPredictor predicts on base with profile, leaving out the names of the server
// environment grid env (variables the estimator does not model); log may be nil.
func NewModelPredictor(base estimator.Spec, profile *estimator.Profile, env []Params, log io.Writer) *ModelPredictor {
	p := &ModelPredictor{Base: base, Profile: profile, Ignore: map[string]bool{}, Log: log}
	for _, ps := range env {
		for _, kv := range ps {
			p.Ignore[kv.Name] = true
		}
	}
	return p
}

// Deployment is the deployment a server configuration describes, and the server arguments
// the estimator does not model; an error when the arguments contradict the model or GPU.
func (p *ModelPredictor) Deployment(server Params) (*estimator.Deployment, []string, error) {
	spec := p.Base
	spec.Profile = p.Profile
	unmodelled, err := ApplyArgs(&spec, server, p.Ignore)
	if err != nil {
		return nil, nil, err
	}
	d, err := estimator.New(spec)
	return d, unmodelled, err
}

// Predict simulates a run (RunWorkload of the client configuration and its records, the
// client's seed) and is a Predictor: nil and the reason when no prediction can be made.
func (p *ModelPredictor) Predict(server Params, cfg bench.Config, recs []bench.Record) (*estimator.Serving, string) {
	d, unmodelled, err := p.Deployment(server)
	if err != nil {
		return nil, err.Error()
	}
	s, err := d.Simulate(RunWorkload(cfg, recs), cfg.Seed)
	if err != nil {
		return nil, err.Error()
	}
	for _, u := range unmodelled {
		s.Warnings = append(s.Warnings, fmt.Sprintf("server argument %s is not modelled: the prediction ignores it", u))
	}
	s.Warnings = append(s.Warnings, "profile "+p.Profile.Name)
	return &s, ""
}

// Recalibrate refits the profile on every ok run so far (the fit of validate
// --calibrate-out) and orders the remaining configurations by predicted output tok/s
// per GPU at their first client configuration, highest first.
func (p *ModelPredictor) Recalibrate(done []Result, remaining []Config) []Config {
	samples := Samples(done, func(args Params) (*estimator.Deployment, error) {
		d, _, err := p.Deployment(args)
		return d, err
	})
	if len(samples) == 0 {
		return remaining
	}
	fit, err := estimator.Calibrate(samples, p.Profile, validation.RunFitParams)
	if err != nil {
		return remaining
	}
	fit.Rename(p.Profile.Name, fit.Profile.Description)
	if p.Log != nil {
		fmt.Fprintf(p.Log, "sweep: refitted %s on %d decode-step samples of the finished runs (MAPE %.2f%% → %.2f%%); re-ranking %d configurations\n",
			fit.Profile.Name, fit.N, fit.MAPE0, fit.MAPE, len(remaining))
	}
	p.Profile = fit.Profile
	score := map[int]float64{}
	for _, c := range remaining {
		score[c.Index] = math.Inf(-1)
		d, _, err := p.Deployment(c.All())
		if err != nil {
			continue
		}
		if s, err := d.Serve(estimator.Workload{Kind: estimator.Concurrency, Concurrency: 1, InputLen: 512, OutputLen: 128}); err == nil {
			score[c.Index] = s.OutputTokS / float64(d.NumGPUs)
		}
	}
	sort.SliceStable(remaining, func(i, j int) bool { return score[remaining[i].Index] > score[remaining[j].Index] })
	return remaining
}

// ClosedForm is a one-line closed-form prediction of a run, for --dry-run.
func (p *ModelPredictor) ClosedForm(server Params, cfg bench.Config) string {
	d, _, err := p.Deployment(server)
	if err != nil {
		return "none: " + err.Error()
	}
	s, err := d.Serve(RunWorkload(cfg, nil))
	if err != nil {
		return "none: " + err.Error()
	}
	return fmt.Sprintf("TTFT mean %s ms, TPOT mean %s ms, %s output tok/s (closed form, profile %s)", msText(s.TTFT.Mean), msText(s.TPOT.Mean), units.Sig(s.OutputTokS), p.Profile.Name)
}

// msText prints a latency in ms with 3 significant figures, or "unbounded".
func msText(v float64) string {
	if math.IsInf(v, 1) {
		return "unbounded"
	}
	return units.Sig(v)
}

// Samples turns every ok result into decode-step samples (validation.RunSamples, the
// fit of validate --calibrate-out) on the deployment its server arguments describe; the
// workload's lengths are the measured mean prompt and completion tokens per request.
func Samples(rs []Result, deploy func(Params) (*estimator.Deployment, error)) []estimator.StepSample {
	var samples []estimator.StepSample
	for _, r := range rs {
		m := r.Measured
		if r.Status != StatusOK || m == nil || m.Completed == 0 {
			continue
		}
		d, err := deploy(r.ServerArgs)
		if err != nil {
			continue
		}
		w := estimator.Workload{InputLen: max(1, m.TotalInputTokens/m.Completed), OutputLen: max(1, m.TotalOutputTokens/m.Completed)}
		if ss, _, _, err := validation.RunSamples(d, w, *m); err == nil {
			samples = append(samples, ss...)
		}
	}
	return samples
}

// ResultSamples is Samples of the ok runs of a results file on base (model, GPU and profile)
// with each run's server arguments applied; an error when no run gives a sample, with the
// first reason a deployment could not be built.
func ResultSamples(rs []Result, base estimator.Spec) ([]estimator.StepSample, error) {
	var firstErr error
	samples := Samples(rs, func(args Params) (*estimator.Deployment, error) {
		spec := base
		if _, err := ApplyArgs(&spec, args, nil); err != nil {
			if firstErr == nil {
				firstErr = err
			}
			return nil, err
		}
		d, err := estimator.New(spec)
		if err != nil && firstErr == nil {
			firstErr = err
		}
		return d, err
	})
	if len(samples) == 0 {
		why := "no ok run with more than one output token"
		if firstErr != nil {
			why += " (" + firstErr.Error() + ")"
		}
		return nil, errors.New(why)
	}
	return samples, nil
}

// FromSweep turns the points of an estimator sweep into server configurations with the
// engine's own arguments (tp_size, pp_size, dp_size, ep_size, max_num_seqs,
// max_num_batched_tokens, max_model_len, kv_cache_dtype, quantization,
// gpu_memory_utilization; sizes of 1 left out) and each point's load (concurrency or
// request_rate) as a client configuration; points that differ only in load share one
// server. checkpointDtype is the model's own weight dtype: an FP8 point of a 16-bit
// checkpoint asks the engine to quantize.
func FromSweep(points []estimator.SweepPoint, checkpointDtype string) []Config {
	ckpt := checkpointDtype
	var out []Config
	index := map[string]int{}
	for _, p := range points {
		// Attention DP + EP (ep > tp with dp > 1: one engine whose experts span the DP ranks)
		// is, for SGLang, --tp-size tp·dp --dp-size dp --enable-dp-attention: its tp-size
		// counts every GPU of the group, and --tp-size 1 --dp-size 8 would start 8 one-GPU
		// replicas (ApplyArgs and GPUsNeeded read enable_dp_attention back).
		tp, adp := p.TP, p.EP > p.TP && p.DP > 1 && p.Family() == "sglang"
		if adp {
			tp *= p.DP
		}
		args := Params{{Name: "tp_size", Value: strconv.Itoa(tp)}}
		add := func(name string, v int) {
			if v > 1 {
				args = append(args, Param{Name: name, Value: strconv.Itoa(v)})
			}
		}
		add("pp_size", p.PP)
		add("dp_size", p.DP)
		if adp {
			args = append(args, Param{Name: "enable_dp_attention", Value: "true"})
		}
		add("ep_size", p.EP)
		add("max_num_seqs", p.MaxNumSeqs)
		add("max_num_batched_tokens", p.MaxNumBatchedTokens)
		add("max_model_len", p.MaxModelLen)
		if p.KVDtype == "fp8" && p.Family() != "trtllm" {
			v := "fp8"
			if p.Family() == "sglang" {
				v = "fp8_e4m3" // sglang.launch_server names the FP8 format
			}
			args = append(args, Param{Name: "kv_cache_dtype", Value: v})
		}
		if p.WeightDtype == "fp8" && ckpt != "fp8" && p.Family() != "trtllm" {
			args = append(args, Param{Name: "quantization", Value: "fp8"})
		}
		if p.EnforceEager {
			args = append(args, Param{Name: "enforce_eager", Value: "true"}) // --enforce-eager, --disable-cuda-graph
		}
		if p.MemoryFraction > 0 && p.Family() != "trtllm" {
			args = append(args, Param{Name: "gpu_memory_utilization", Value: strconv.FormatFloat(p.MemoryFraction, 'g', -1, 64)})
		}
		load := Params{{Name: "concurrency", Value: strconv.Itoa(p.Concurrency)}}
		if p.RequestRate > 0 {
			load = Params{{Name: "request_rate", Value: strconv.FormatFloat(p.RequestRate, 'g', -1, 64)}}
		}
		k := args.Key()
		if i, ok := index[k]; ok {
			out[i].Clients = append(out[i].Clients, load)
			continue
		}
		index[k] = len(out)
		out = append(out, Config{Args: args, Clients: []Params{load}})
	}
	return out
}
