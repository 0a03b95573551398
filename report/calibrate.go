package report

import (
	"fmt"
	"io"

	"roofline/estimator"
)

// WriteFitText prints a calibration (estimator.Calibrate): the fit's MAPE against the base
// profile's, then per parameter its base and fitted value, sensitivity and relative
// standard error (flagged when the rows do not identify it); with cvBy, the
// leave-one-group-out errors of cv.
func WriteFitText(w io.Writer, fit estimator.Fit, base, cvBy string, cv []estimator.CVGroup) {
	fmt.Fprintf(w, "fitted %d rows: MAPE %.2f%% (base profile %s: %.2f%%), max error %.2f%%\n", fit.N, fit.MAPE, base, fit.MAPE0, fit.MaxAPE)
	ident := map[string]estimator.ParamIdent{}
	for _, id := range fit.Identifiability {
		ident[id.Name] = id
	}
	fmt.Fprintf(w, "  %-28s %10s    %-10s %-11s %s\n", "parameter", "base", "fitted", "sensitivity", "rel. std. error")
	for _, p := range fit.Params {
		id := ident[p.Name]
		mark := ""
		if !id.Identified {
			mark = "  (not identified)"
		}
		fmt.Fprintf(w, "  %-28s %10.4g -> %-10.4g %-11.3g %s%s\n", p.Name, p.Before, p.After, id.Sensitivity, relErr(float64(id.RelStdErr)), mark)
	}
	if cvBy != "" {
		fmt.Fprintf(w, "leave-one-%s-out (fit on the other groups, predict this one):\n", cvBy)
		fmt.Fprintf(w, "  %-32s %5s %6s  %14s  %13s  %s\n", cvBy, "rows", "train", "base MAPE %", "fit MAPE %", "fit bias %")
		for _, g := range cv {
			fmt.Fprintf(w, "  %-32s %5d %6d  %14.1f  %13.1f  %+.1f\n", g.Group, g.Rows, g.TrainRows, g.BaseMAPE, g.FitMAPE, g.Bias)
		}
	}
}

// relErr formats a relative standard error as ±N%, or "unbounded".
func relErr(v float64) string {
	if v > 100 || v != v {
		return "unbounded"
	}
	return fmt.Sprintf("±%.0f%%", 100*v)
}
