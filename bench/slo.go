package bench

import (
	"fmt"
	"strconv"
	"strings"

	"roofline/units"
)

// ParseSLO reads service-level objectives for goodput from "KEY:VALUE" items separated by
// commas or spaces, as vllm bench serve's --goodput takes them: ttft, tpot and e2el (or
// e2e) are upper bounds in ms, with an optional unit (500ms, 0.5s, 800us; none = ms);
// tok_s_per_user is a lower bound on a request's output tokens/s.
//
//	ParseSLO("ttft:500ms,tpot:50") → SLO{TTFTMs: 500, TPOTMs: 50}
func ParseSLO(text string) (SLO, error) {
	var s SLO
	items := strings.FieldsFunc(text, func(r rune) bool { return r == ',' || r == ' ' })
	if len(items) == 0 {
		return s, fmt.Errorf("goodput %q: want KEY:VALUE items, keys ttft, tpot, e2el (ms) and tok_s_per_user", text)
	}
	for _, it := range items {
		k, v, ok := strings.Cut(it, ":")
		if !ok {
			return s, fmt.Errorf("goodput item %q: want KEY:VALUE, e.g. ttft:500ms", it)
		}
		var dst *float64
		ms := true
		switch strings.ToLower(k) {
		case "ttft":
			dst = &s.TTFTMs
		case "tpot":
			dst = &s.TPOTMs
		case "e2el", "e2e":
			dst = &s.E2EMs
		case "tok_s_per_user", "output_tok_s_per_user":
			dst, ms = &s.MinTokSPerUser, false
		default:
			return s, fmt.Errorf("goodput key %q: allowed ttft, tpot, e2el (ms) and tok_s_per_user", k)
		}
		x, err := sloValue(v, ms)
		if err != nil {
			return s, fmt.Errorf("goodput item %q: %v", it, err)
		}
		*dst = x
	}
	return s, nil
}

// sloValue parses a positive number; for a latency, an optional unit (us, µs, ms, s)
// converts it to ms.
func sloValue(v string, latency bool) (float64, error) {
	x, err := strconv.ParseFloat(v, 64)
	if latency {
		x, err = units.ParseMs(v)
	}
	if err != nil || !(x > 0) || x > 1e12 {
		return 0, fmt.Errorf("value %q: want a positive number%s", v, map[bool]string{true: " of ms (units us, ms, s allowed)", false: ""}[latency])
	}
	return x, nil
}
