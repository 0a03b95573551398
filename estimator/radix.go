package estimator

import (
	"math"
	"slices"
	"sort"
)

// Sorting for the simulation's summaries: an LSD radix sort on the values' bits, which gives
// the same order as sort.Float64s for every value but NaN (sortFloats falls back to
// sort.Float64s when one is present) and costs a few passes over the data instead of
// n·log n comparisons.

// radixBits is the digit width of sortKeys: 11 bits, six passes over 64-bit keys with
// 2,048 counters each.
const radixBits = 11

// radixMin is the length below which a comparison sort is faster than the radix passes'
// fixed cost (measured: equal near 1,000 keys).
const radixMin = 1024

// sortKeys sorts keys in ascending order of their bits from lowBit up (lower bits are
// ignored: keys equal above them may end in any order); scratch must hold len(keys) values.
// Passes whose digit is the same for every key are skipped.
func sortKeys(keys, scratch []uint64, lowBit int) {
	n := len(keys)
	if n < radixMin {
		slices.Sort(keys)
		return
	}
	const passes = (64 + radixBits - 1) / radixBits
	const size = 1 << radixBits
	np := (64 - lowBit + radixBits - 1) / radixBits
	var count [passes][size]uint32
	for _, k := range keys {
		k >>= lowBit
		for p := range np {
			count[p][(k>>(p*radixBits))&(size-1)]++
		}
	}
	src, dst := keys, scratch[:n]
	for p := range np {
		c := &count[p]
		sh := lowBit + p*radixBits
		if int(c[(src[0]>>sh)&(size-1)]) == n {
			continue // every key has this digit
		}
		sum := uint32(0)
		for i := range c {
			c[i], sum = sum, sum+c[i]
		}
		for _, k := range src {
			d := (k >> sh) & (size - 1)
			dst[c[d]] = k
			c[d]++
		}
		src, dst = dst, src
	}
	if &src[0] != &keys[0] {
		copy(keys, src)
	}
}

// floatKey maps a float64 to a uint64 with the same order (negative values have their bits
// inverted, others their sign bit set); keyFloat inverts it.
func floatKey(v float64) uint64 {
	b := math.Float64bits(v)
	if b>>63 != 0 {
		return ^b
	}
	return b | 1<<63
}

func keyFloat(k uint64) float64 {
	if k>>63 != 0 {
		return math.Float64frombits(k &^ (1 << 63))
	}
	return math.Float64frombits(^k)
}

// sortFloats sorts x in ascending order as sort.Float64s does, using scratch (grown as
// needed and returned) for the keys.
func sortFloats(x []float64, scratch []uint64) []uint64 {
	if len(x) < radixMin {
		sort.Float64s(x)
		return scratch
	}
	if cap(scratch) < 2*len(x) {
		scratch = make([]uint64, 2*len(x))
	}
	scratch = scratch[:2*len(x)]
	keys := scratch[:len(x)]
	for i, v := range x {
		if v != v { // NaN: keep sort.Float64s's placement
			sort.Float64s(x)
			return scratch
		}
		keys[i] = floatKey(v)
	}
	sortKeys(keys, scratch[len(x):], 0)
	for i, k := range keys {
		x[i] = keyFloat(k)
	}
	return scratch
}
