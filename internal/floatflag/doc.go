// Package floatflag is a pflag.Value for float64 flags that accepts only finite numbers in a
// stated interval: NaN, ±Inf and out-of-range values fail at parse time with one line
// naming the flag and the interval, e.g. "--request-rate -1: must be a finite number in
// (0, ∞)". A flag left at its default is not checked (a default of 0 may mean "from the
// profile").
package floatflag
