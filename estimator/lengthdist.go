package estimator

import (
	"encoding/csv"
	"fmt"
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
