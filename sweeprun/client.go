package sweeprun

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"roofline/bench"
)

// clientNames maps the names --client-args accepts (roofline bench's flags with '_', and
// vllm bench serve's spellings) to the field of bench.Config they set.
var clientNames = map[string]string{
	"concurrency": "concurrency", "max_concurrency": "concurrency",
	"request_rate": "request_rate", "burstiness": "burstiness",
	"num_requests": "num_requests", "num_prompts": "num_requests", "duration": "duration",
	"input_len": "input_len", "random_input_len": "input_len",
	"output_len": "output_len", "random_output_len": "output_len",
	"prefix_len": "prefix_len", "random_prefix_len": "prefix_len",
	"warmup": "warmup", "num_warmups": "warmup", "seed": "seed", "api": "api", "timeout": "timeout",
	"model": "model", "served_model_name": "model",
}

// ClientNames lists the argument names --client-args accepts.
func ClientNames() []string {
	return slices.Sorted(maps.Keys(clientNames))
}

// ClientConfig returns base with the client arguments p applied (URL is left to the
// caller). Durations accept Go syntax ("30s"); errors name the argument and the values
// it allows.
func ClientConfig(base bench.Config, p Params) (bench.Config, error) {
	cfg := base
	for _, kv := range p {
		field, ok := clientNames[canon(kv.Name)]
		if !ok {
			return cfg, fmt.Errorf("client argument %s: allowed names are %s", kv.Name, strings.Join(ClientNames(), ", "))
		}
		v := kv.Value
		atoi := func(min int) (int, error) {
			n, err := strconv.Atoi(v)
			if err != nil || n < min {
				return 0, fmt.Errorf("client argument %s=%q: want an integer ≥ %d", kv.Name, v, min)
			}
			return n, nil
		}
		atof := func() (float64, error) {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || !(f > 0) || f > 1e9 {
				return 0, fmt.Errorf("client argument %s=%q: want a number > 0", kv.Name, v)
			}
			return f, nil
		}
		dur := func() (time.Duration, error) {
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return 0, fmt.Errorf("client argument %s=%q: want a duration > 0 such as 30s", kv.Name, v)
			}
			return d, nil
		}
		var err error
		switch field {
		case "concurrency":
			cfg.Concurrency, err = atoi(1)
		case "request_rate":
			cfg.RequestRate, err = atof()
		case "burstiness":
			cfg.Burstiness, err = atof()
		case "num_requests":
			cfg.NumRequests, err = atoi(1)
		case "duration":
			cfg.Duration, err = dur()
		case "input_len":
			cfg.InputLen, err = atoi(1)
		case "output_len":
			cfg.OutputLen, err = atoi(1)
		case "prefix_len":
			cfg.PrefixLen, err = atoi(0)
		case "warmup":
			cfg.Warmup, err = atoi(0)
		case "seed":
			var s uint64
			s, err = strconv.ParseUint(v, 10, 64)
			if err != nil {
				err = fmt.Errorf("client argument %s=%q: want an integer ≥ 0", kv.Name, v)
			}
			cfg.Seed = s
		case "api":
			if v != bench.APIChat && v != bench.APICompletions {
				err = fmt.Errorf("client argument %s=%q: allowed values are %s, %s", kv.Name, v, bench.APIChat, bench.APICompletions)
			}
			cfg.API = v
		case "timeout":
			cfg.Timeout, err = dur()
		case "model":
			cfg.Model = v
		}
		if err != nil {
			return cfg, err
		}
	}
	if cfg.Burstiness > 0 && cfg.RequestRate == 0 {
		return cfg, fmt.Errorf("client argument burstiness: only with request_rate")
	}
	if cfg.RequestRate > 0 && cfg.Burstiness == 0 {
		cfg.Burstiness = 1
	}
	if cfg.NumRequests == 0 && cfg.Duration == 0 {
		cfg.NumRequests = max(100, 5*cfg.Concurrency)
	}
	return cfg, nil
}
