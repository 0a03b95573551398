package estimator

import (
	"encoding/csv"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
)

// ParseLengthDist reads a length distribution: "uniform:MIN:MAX" and "normal:MEAN:STD" (tokens),
// or "hist:FILE.csv" with rows tokens,weight (a header line is skipped). Errors say what is
// wrong (the caller names the flag and the allowed forms).
func ParseLengthDist(spec string) (*LengthDist, error) {
	kind, rest, _ := strings.Cut(spec, ":")
	switch kind {
	case "uniform", "normal":
		a, b, ok := strings.Cut(rest, ":")
		x, err1 := strconv.ParseFloat(a, 64)
		y, err2 := strconv.ParseFloat(b, 64)
		if !ok || err1 != nil || err2 != nil {
			return nil, fmt.Errorf("two numbers expected")
		}
		if kind == "uniform" && (x != math.Trunc(x) || y != math.Trunc(y) || math.Abs(x) > 1e15 || math.Abs(y) > 1e15) {
			// uniform:1.5:3 was read as uniform:1:3.
			return nil, fmt.Errorf("uniform bounds %s and %s: want whole numbers of tokens", a, b)
		}
		d := &LengthDist{Kind: kind, Min: int(x), Max: int(y), Mean: x, Std: y}
		return d, nil
	case "hist":
		f, err := os.Open(rest)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		recs, err := csv.NewReader(f).ReadAll()
		if err != nil {
			return nil, err
		}
		d := &LengthDist{Kind: "histogram"}
		for i, r := range recs {
			if len(r) < 2 {
				return nil, fmt.Errorf("line %d: want tokens,weight", i+1)
			}
			v, err1 := strconv.Atoi(strings.TrimSpace(r[0]))
			w, err2 := strconv.ParseFloat(strings.TrimSpace(r[1]), 64)
			if err1 != nil || err2 != nil {
				if i == 0 {
					continue // header
				}
				return nil, fmt.Errorf("line %d: want tokens,weight", i+1)
			}
			d.Values, d.Weights = append(d.Values, v), append(d.Weights, w)
		}
		return d, nil
	}
	return nil, fmt.Errorf("unknown kind %q", kind)
}

// SetLengthDists sets how request lengths are drawn, as a command line gives it: rangeRatio
// r in [0, 1) draws uniformly in [⌊L·(1−r)⌋, ⌈L·(1+r)⌉] as vllm bench serve's
// --random-range-ratio does (RangeRatioDist; 0: fixed lengths), and inputSpec and
// outputSpec (ParseLengthDist; "": unchanged) override it per side. Errors name the flag
// (--random-range-ratio, --input-dist, --output-dist).
func (w *Workload) SetLengthDists(rangeRatio float64, inputSpec, outputSpec string) error {
	if rangeRatio < 0 || rangeRatio >= 1 {
		return fmt.Errorf("--random-range-ratio %g: must be in [0, 1)", rangeRatio)
	}
	if rangeRatio > 0 {
		w.InputDist, w.OutputDist = RangeRatioDist(w.InputLen, rangeRatio), RangeRatioDist(w.OutputLen, rangeRatio)
	}
	for _, s := range []struct {
		flag, spec string
		dst        **LengthDist
	}{{"input-dist", inputSpec, &w.InputDist}, {"output-dist", outputSpec, &w.OutputDist}} {
		if s.spec == "" {
			continue
		}
		d, err := ParseLengthDist(s.spec)
		if err == nil {
			// Checked here too, so that an empty histogram or uniform:20:10 names the flag
			// (Validate's message does not know which one it came from).
			err = d.init()
		}
		if err != nil {
			return fmt.Errorf("--%s %q: %v (want uniform:MIN:MAX, normal:MEAN:STD or hist:FILE.csv)", s.flag, s.spec, err)
		}
		*s.dst = d
	}
	return nil
}
