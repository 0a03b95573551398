package sweeprun

import (
	"fmt"
	"sort"
	"strconv"

	"roofline/bench"
	"roofline/estimator"
	"roofline/units"
)

// ApplyArgs sets the fields of spec that server arguments name (tp, pp, dp, ep, num_gpus,
// max_num_seqs, max_num_batched_tokens, max_model_len, kv_dtype, weight_dtype or dtype,
// quantization=fp8, gpu_memory_utilization, enforce_eager or disable_cuda_graph (true or
// false), in any engine's spelling; see NativeName; SGLang's enable_dp_attention=true reads
// tp_size as the whole attention-DP group, tp_size/dp_size GPUs per rank) and returns the
// names it does not model (they may change the measurement and not the prediction).
// Names it skips without a word: model, gpu and engine (the caller resolves them) and
// --server-env variables the caller lists in ignore. Errors name a value that is not
// a number or a dtype.
func ApplyArgs(spec *estimator.Spec, args Params, ignore map[string]bool) (unmodelled []string, err error) {
	adp := false // SGLang --enable-dp-attention: tp_size counts the whole attention-DP group
	for _, kv := range args {
		c := canon(kv.Name)
		if ignore[kv.Name] || c == "model" || c == "gpu" || c == "engine" {
			continue
		}
		atoi := func() (int, error) {
			n, err := strconv.Atoi(kv.Value)
			if err != nil || n < 0 {
				return 0, fmt.Errorf("server argument %s=%q: want an integer ≥ 0", kv.Name, kv.Value)
			}
			return n, nil
		}
		var e error
		switch m := meaning(kv.Name); {
		case c == "enable_dp_attention":
			switch kv.Value {
			case "true":
				adp = true
			case "false":
				adp = false
			default:
				e = fmt.Errorf("server argument %s=%q: want true or false", kv.Name, kv.Value)
			}
		case c == "num_gpus":
			spec.NumGPUs, e = atoi()
		case m == "tp":
			spec.TP, e = atoi()
		case m == "pp":
			spec.PP, e = atoi()
		case m == "dp":
			spec.DP, e = atoi()
		case m == "ep":
			spec.EP, e = atoi()
		case m == "max_num_seqs":
			spec.MaxNumSeqs, e = atoi()
		case m == "max_num_batched_tokens":
			spec.MaxNumBatchedTokens, e = atoi()
		case m == "max_model_len":
			spec.MaxModelLen, e = atoi()
		case m == "gpu_memory_utilization":
			f, perr := strconv.ParseFloat(kv.Value, 64)
			if perr != nil || !(f > 0 && f <= 1) {
				e = fmt.Errorf("server argument %s=%q: want a fraction in (0, 1]", kv.Name, kv.Value)
			}
			spec.MemoryFraction = f
		case m == "enforce_eager":
			switch kv.Value {
			case "true":
				spec.EnforceEager = true
			case "false":
				spec.EnforceEager = false
			default:
				e = fmt.Errorf("server argument %s=%q: want true or false", kv.Name, kv.Value)
			}
		case c == "quantization" && kv.Value == "fp8":
			spec.WeightDtype = "fp8" // vLLM and SGLang quantize the weights to FP8 at load
		case m == "kv_dtype" || c == "weight_dtype" || c == "dtype":
			v := kv.Value
			if v == "auto" {
				continue
			}
			if v == "fp8_e4m3" || v == "fp8_e5m2" {
				v = "fp8"
			}
			d, derr := units.CanonicalDtype(v)
			if derr != nil {
				e = fmt.Errorf("server argument %s=%q: %v", kv.Name, kv.Value, derr)
			} else if m == "kv_dtype" {
				spec.KVDtype = d
			} else {
				spec.WeightDtype = d
			}
		default:
			unmodelled = append(unmodelled, kv.Name)
		}
		if e != nil {
			return unmodelled, e
		}
	}
	if adp && spec.DP > 1 {
		// SGLang's --tp-size tp·dp --dp-size dp --enable-dp-attention: dp attention ranks of
		// tp/dp GPUs each (the estimator's tp), on tp·pp GPUs in all.
		if spec.TP%spec.DP != 0 {
			return unmodelled, fmt.Errorf("server arguments: enable_dp_attention needs dp_size %d to divide tp_size %d (SGLang splits the tp_size GPUs into dp attention ranks)", spec.DP, spec.TP)
		}
		spec.TP /= spec.DP
	}
	if spec.TP > 0 && spec.NumGPUs == 0 {
		spec.NumGPUs = spec.TP * max(spec.PP, 1) * max(spec.DP, 1)
	}
	if spec.NumGPUs > 0 && spec.TP == 0 {
		spec.TP = spec.NumGPUs / (max(spec.PP, 1) * max(spec.DP, 1))
	}
	return unmodelled, nil
}

// RunWorkload is the estimator's workload for a client configuration: the same lengths,
// load and request count; an open loop replays the scheduled send times of recs (as
// validate does) when there are any.
func RunWorkload(cfg bench.Config, recs []bench.Record) estimator.Workload {
	w := estimator.Workload{InputLen: cfg.InputLen, OutputLen: cfg.OutputLen, PrefixLen: cfg.PrefixLen, NumRequests: cfg.NumRequests}
	if cfg.RequestRate > 0 {
		w.Kind, w.RequestRate, w.Burstiness = estimator.Rate, cfg.RequestRate, cfg.Burstiness
		if len(recs) > 0 {
			for _, r := range recs {
				w.Arrivals = append(w.Arrivals, r.ScheduledS)
			}
			sort.Float64s(w.Arrivals)
		}
		return w
	}
	w.Kind, w.Concurrency = estimator.Concurrency, max(cfg.Concurrency, 1)
	return w
}
