package sweeprun

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Frameworks lists the servers whose argument names Launcher maps to native flags.
var Frameworks = []string{"vllm", "sglang", "trtllm", "ollama"}

// frameworkBin is each framework's executable and the words before its flags.
var frameworkBin = map[string][]string{
	"vllm":   {"vllm", "serve"},
	"sglang": {"python", "-m", "sglang.launch_server"},
	"trtllm": {"trtllm-serve"},
	"ollama": {"ollama", "serve"},
}

// canon lower-cases a name and writes '-' as '_'.
func canon(name string) string { return strings.ReplaceAll(strings.ToLower(name), "-", "_") }

// aliases maps the names a grid may use, per meaning: the neutral name first, then the
// engines' own spellings (vllm serve, sglang.launch_server, trtllm-serve, Ollama's variables).
var aliases = map[string][]string{
	"tp":                     {"tp", "tp_size", "tensor_parallel_size"},
	"pp":                     {"pp", "pp_size", "pipeline_parallel_size"},
	"dp":                     {"dp", "dp_size", "data_parallel_size"},
	"ep":                     {"ep", "ep_size", "expert_parallel_size"},
	"max_num_seqs":           {"max_num_seqs", "max_running_requests", "max_batch_size", "num_parallel", "ollama_num_parallel"},
	"max_num_batched_tokens": {"max_num_batched_tokens", "chunked_prefill_size", "max_num_tokens"},
	"max_model_len":          {"max_model_len", "context_length", "max_seq_len", "ollama_context_length"},
	"kv_dtype":               {"kv_dtype", "kv_cache_dtype", "kv_cache_type", "ollama_kv_cache_type"},
	"gpu_memory_utilization": {"gpu_memory_utilization", "mem_fraction_static"},
	"enforce_eager":          {"enforce_eager", "disable_cuda_graph"},
}

// meaning returns the neutral name of a grid name ("tensor-parallel-size" → "tp"), or "".
func meaning(name string) string {
	c := canon(name)
	for k, names := range aliases {
		if slices.Contains(names, c) {
			return k
		}
	}
	return ""
}

// nativeFlag maps neutral names to each framework's flag (Ollama: environment variable).
var nativeFlag = map[string]map[string]string{
	"vllm": {"tp": "--tensor-parallel-size", "pp": "--pipeline-parallel-size", "dp": "--data-parallel-size",
		"ep": "--enable-expert-parallel", "max_num_seqs": "--max-num-seqs", "max_num_batched_tokens": "--max-num-batched-tokens",
		"max_model_len": "--max-model-len", "kv_dtype": "--kv-cache-dtype", "gpu_memory_utilization": "--gpu-memory-utilization",
		"enforce_eager": "--enforce-eager"},
	"sglang": {"tp": "--tp-size", "pp": "--pp-size", "dp": "--dp-size", "ep": "--ep-size",
		"max_num_seqs": "--max-running-requests", "max_num_batched_tokens": "--chunked-prefill-size",
		"max_model_len": "--context-length", "kv_dtype": "--kv-cache-dtype", "gpu_memory_utilization": "--mem-fraction-static",
		"enforce_eager": "--disable-cuda-graph"},
	"trtllm": {"tp": "--tp_size", "pp": "--pp_size", "ep": "--ep_size", "max_num_seqs": "--max_batch_size",
		"max_num_batched_tokens": "--max_num_tokens", "max_model_len": "--max_seq_len"},
	"ollama": {"max_num_seqs": "OLLAMA_NUM_PARALLEL", "max_model_len": "OLLAMA_CONTEXT_LENGTH", "kv_dtype": "OLLAMA_KV_CACHE_TYPE"},
}

// NativeName returns the flag (or, for Ollama, the environment variable) that framework
// uses for a grid name: the engine's own spelling of a known meaning (tp_size →
// --tensor-parallel-size for vllm, --tp-size for sglang, --tp_size for trtllm;
// max_num_seqs → OLLAMA_NUM_PARALLEL), else the name itself as a flag ("--" and the
// name, with '-' for '_' except for trtllm), or OLLAMA_ and the name upper-cased.
// Errors name an argument the framework has no flag for.
func NativeName(framework, name string) (string, error) {
	m := meaning(name)
	if f, ok := nativeFlag[framework][m]; ok {
		return f, nil
	}
	switch framework {
	case "vllm", "sglang":
		if m != "" {
			return "", fmt.Errorf("server argument %s: %s has no flag for it", name, framework)
		}
		return "--" + strings.ReplaceAll(canon(name), "_", "-"), nil
	case "trtllm":
		if m == "dp" || m == "kv_dtype" || m == "gpu_memory_utilization" {
			return "", fmt.Errorf("server argument %s: trtllm-serve has no flag for it", name)
		}
		if m == "enforce_eager" {
			return "", fmt.Errorf("server argument %s: trtllm-serve has no flag for it (CUDA graphs are off when --extra_llm_api_options gives no cuda_graph_config)", name)
		}
		return "--" + canon(name), nil
	case "ollama":
		if m != "" {
			return "", fmt.Errorf("server argument %s: ollama serve has no setting for it (it runs one model copy)", name)
		}
		up := strings.ToUpper(canon(name))
		if !strings.HasPrefix(up, "OLLAMA_") {
			up = "OLLAMA_" + up
		}
		return up, nil
	}
	return "", fmt.Errorf("--framework %q: allowed values are %s", framework, strings.Join(Frameworks, ", "))
}

// Launcher turns a server configuration into the command that starts it.
type Launcher struct {
	// Framework is vllm, sglang, trtllm or ollama; "" with Template.
	Framework string
	// Template is a shell command with {name} placeholders for server arguments and
	// environment variables, {port}, {host} and {model} (--server-cmd).
	Template string
	// Bin replaces the framework's executable (e.g. a path to ollama); "" keeps it.
	Bin string
	// Model is the model the framework serves (vllm serve MODEL, --model-path MODEL,
	// trtllm-serve MODEL); unused by ollama, whose models live in OLLAMA_MODELS.
	Model string
	// Host is the address the server binds: 127.0.0.1 when empty.
	Host string
}

// Validate checks that exactly one of Framework and Template is set.
func (l Launcher) Validate() error {
	switch {
	case l.Template != "" && l.Framework != "":
		return fmt.Errorf("--server-cmd and --framework: give one (a template names its own flags)")
	case l.Template == "" && l.Framework == "":
		return fmt.Errorf("--framework (vllm, sglang, trtllm, ollama) or --server-cmd TEMPLATE is required")
	case l.Template == "" && frameworkBin[l.Framework] == nil:
		return fmt.Errorf("--framework %q: allowed values are %s", l.Framework, strings.Join(Frameworks, ", "))
	case l.Template == "" && l.Framework != "ollama" && l.Model == "":
		return fmt.Errorf("--framework %s: --model is required (the model the server loads)", l.Framework)
	case l.Bin != "" && l.Template != "":
		return fmt.Errorf("--server-bin: only with --framework (a --server-cmd names its own executable)")
	}
	return nil
}

func (l Launcher) host() string {
	if l.Host == "" {
		return "127.0.0.1"
	}
	return l.Host
}

var placeholder = regexp.MustCompile(`\{([A-Za-z_][A-Za-z0-9_.-]*)\}`)

// Command returns the shell command line that starts the server configured by args
// (flags, or variables for ollama) and env (--server-env) on port, and the environment
// variables to add (NAME=value). A port of 0 writes "$PORT" (for --dry-run). Errors
// name an argument the framework cannot express, or a template placeholder with no
// value and an argument the template does not use.
func (l Launcher) Command(args, env Params, port int) (line string, vars []string, err error) {
	portText := "$PORT"
	if port > 0 {
		portText = strconv.Itoa(port)
	}
	for _, kv := range env {
		vars = append(vars, kv.Name+"="+kv.Value)
	}
	if l.Template != "" {
		used := map[string]bool{}
		var missing []string
		line = placeholder.ReplaceAllStringFunc(l.Template, func(m string) string {
			name := m[1 : len(m)-1]
			switch name {
			case "port":
				return portText
			case "host":
				return l.host()
			case "model":
				if v, ok := args.Get("model"); ok {
					used["model"] = true
					return shellQuote(v)
				}
				if l.Model != "" {
					return shellQuote(l.Model)
				}
			}
			if v, ok := args.Get(name); ok {
				used[name] = true
				return shellQuote(v)
			}
			if v, ok := env.Get(name); ok {
				used[name] = true
				return shellQuote(v)
			}
			missing = append(missing, name)
			return m
		})
		if len(missing) > 0 {
			return "", nil, fmt.Errorf("--server-cmd: placeholder {%s} has no value (give it in --server-args or --server-env)", missing[0])
		}
		for _, kv := range args {
			if !used[kv.Name] {
				return "", nil, fmt.Errorf("--server-args %s: the --server-cmd template has no {%s} placeholder", kv.Name, kv.Name)
			}
		}
		return line, vars, nil
	}
	words := slices.Clone(frameworkBin[l.Framework])
	if l.Bin != "" {
		words[0] = l.Bin
	}
	parts := []string{shellQuote(words[0])}
	parts = append(parts, words[1:]...)
	switch l.Framework {
	case "vllm", "trtllm":
		parts = append(parts, shellQuote(l.Model))
	case "sglang":
		parts = append(parts, "--model-path", shellQuote(l.Model))
	case "ollama":
		for _, kv := range args {
			name, err := NativeName("ollama", kv.Name)
			if err != nil {
				return "", nil, err
			}
			vars = append(vars, name+"="+kv.Value)
		}
		vars = append(vars, "OLLAMA_HOST="+l.host()+":"+portText)
		return strings.Join(parts, " "), vars, nil
	}
	if err := checkEPWithinTP(l.Framework, args); err != nil {
		return "", nil, err
	}
	for _, kv := range args {
		flag, err := NativeName(l.Framework, kv.Name)
		if err != nil {
			return "", nil, err
		}
		switch {
		case meaning(kv.Name) == "ep" && l.Framework == "vllm":
			// vLLM shards experts over the TP×DP GPUs when the switch is on: an EP size of
			// anything else has no launch command, and would be predicted as a deployment
			// the command does not start.
			if n, err := strconv.Atoi(kv.Value); err == nil && n > 1 {
				if g := vllmEPGroup(args); n != g {
					return "", nil, fmt.Errorf("server argument %s=%d: vLLM's --enable-expert-parallel shards the experts over all tp_size × dp_size = %d GPUs; allowed %s 1 (off) or %d", kv.Name, n, g, kv.Name, g)
				}
				parts = append(parts, flag)
			}
		case kv.Value == "true":
			parts = append(parts, flag)
		case kv.Value == "false":
		default:
			parts = append(parts, flag, shellQuote(kv.Value))
		}
	}
	parts = append(parts, "--host", l.host(), "--port", portText)
	return strings.Join(parts, " "), vars, nil
}

// checkEPWithinTP refuses an ep_size that does not divide tp_size under SGLang or
// TensorRT-LLM: both split one engine's tp_size GPUs into ep_size expert groups of tp_size /
// ep_size GPUs each (SGLang's moe_tp_size = tp_size / ep_size; TensorRT-LLM's Mapping requires
// moe_tp_size × moe_ep_size = tp_size). --tp-size 1 --dp-size 8 --ep-size 8 is no engine, yet
// was predicted as attention DP + EP; that layout is tp_size 8 (tp·dp) with
// enable_dp_attention (SGLang) or enable_attention_dp (TensorRT-LLM's extra options).
func checkEPWithinTP(framework string, args Params) error {
	if framework != "sglang" && framework != "trtllm" {
		return nil
	}
	tp, dp, ep, epName := parallelSizes(args)
	adp := false
	for _, kv := range args {
		if canon(kv.Name) == "enable_dp_attention" {
			adp = kv.Value == "true"
		}
	}
	if framework == "sglang" && adp && tp%dp != 0 {
		// SGLang splits the tp_size GPUs into dp_size attention ranks (its DeepSeek guide:
		// --tp 8 --dp 8 --enable-dp-attention): a dp_size that does not divide tp_size has none.
		return fmt.Errorf("server arguments: enable_dp_attention needs dp_size %d to divide tp_size %d (SGLang splits the tp_size GPUs into dp_size attention ranks)", dp, tp)
	}
	if ep <= 1 || tp%ep == 0 {
		return nil
	}
	spell := "enable_dp_attention=true"
	if framework == "trtllm" {
		spell = "enable_attention_dp: true in an --extra_llm_api_options file"
	}
	return fmt.Errorf("server argument %s=%d with tp_size %d: %s splits one engine's tp_size GPUs into expert-parallel groups, so ep_size must divide tp_size; attention DP + EP over %d GPUs is tp_size=%d with %s", epName, ep, tp, framework, ep, ep, spell)
}

// vllmEPGroup is the expert-parallel group vLLM forms with --enable-expert-parallel: the
// tp_size × dp_size GPUs of args (each 1 when absent or not a number).
func vllmEPGroup(args Params) int {
	tp, dp, _, _ := parallelSizes(args)
	return tp * dp
}

// parallelSizes reads the tensor-, data- and expert-parallel sizes of args (each 1 when absent
// or not a positive number) and the name the expert-parallel size was given under.
func parallelSizes(args Params) (tp, dp, ep int, epName string) {
	tp, dp, ep = 1, 1, 1
	for _, kv := range args {
		n, err := strconv.Atoi(kv.Value)
		if err != nil || n < 1 {
			continue
		}
		switch meaning(kv.Name) {
		case "tp":
			tp = n
		case "dp":
			dp = n
		case "ep":
			ep, epName = n, kv.Name
		}
	}
	return tp, dp, ep, epName
}

// Display is the command line as the results show it: the environment assignments
// followed by the command.
func Display(line string, vars []string) string {
	var b strings.Builder
	for _, v := range vars {
		name, val, _ := strings.Cut(v, "=")
		b.WriteString(name + "=" + shellQuote(val) + " ")
	}
	return b.String() + line
}

var shellSafe = regexp.MustCompile(`^[A-Za-z0-9_./:,+=@%-]+$`)

// shellQuote returns s as one POSIX shell word.
func shellQuote(s string) string {
	if shellSafe.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// GPUsNeeded is the GPU count a configuration asks for: num_gpus when given, else
// tp·pp·dp from its arguments (each 1 when absent), tp·pp with SGLang's
// enable_dp_attention=true (its tp_size counts the attention-DP group); 0 for ollama, which
// uses whatever it finds.
func GPUsNeeded(framework string, args Params) (int, error) {
	if framework == "ollama" {
		return 0, nil
	}
	n := 1
	var seen []string
	dp, adp := 1, false
	for _, kv := range args {
		m := meaning(kv.Name)
		if canon(kv.Name) == "enable_dp_attention" {
			adp = kv.Value == "true"
		}
		if canon(kv.Name) == "num_gpus" {
			v, err := strconv.Atoi(kv.Value)
			if err != nil || v < 1 {
				return 0, fmt.Errorf("server argument %s=%q: want an integer ≥ 1", kv.Name, kv.Value)
			}
			return v, nil
		}
		if m == "tp" || m == "pp" || m == "dp" {
			if slices.Contains(seen, m) {
				return 0, fmt.Errorf("server argument %s: %s given twice under different names", kv.Name, m)
			}
			seen = append(seen, m)
			v, err := strconv.Atoi(kv.Value)
			if err != nil || v < 1 {
				return 0, fmt.Errorf("server argument %s=%q: want an integer ≥ 1", kv.Name, kv.Value)
			}
			if m == "dp" {
				dp = v
			}
			n *= v
		}
	}
	if adp {
		n /= dp // SGLang --enable-dp-attention: the dp ranks share the tp_size GPUs
	}
	return n, nil
}
