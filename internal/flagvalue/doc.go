// Package flagvalue holds pflag.Values that check what they are given at parse time, so
// that bad input fails with one line naming the flag and what it allows:
//
//   - Float and NewFloat: finite float64 in a stated interval (Positive (0, ∞),
//     NonNegative [0, ∞), Fraction (0, 1], HalfOpen01 [0, 1)); NaN, ±Inf and values out of
//     range fail, e.g. "--request-rate -1: must be a finite number in (0, ∞)". A flag left
//     at its default is not checked (a default of 0 may mean "from the profile").
//   - Choice: one of a fixed list of strings (an output format), e.g.
//     `--output "xml": allowed values are table, json`.
//
// FloatError and ChoiceError return the rejected value's error after parsing.
package flagvalue
