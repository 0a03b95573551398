// Package suggest finds the names closest to a misspelt one, for "did you mean" errors.
package suggest

// Distance is the Levenshtein edit distance between a and b, counted in bytes: the fewest
// single-byte insertions, deletions and substitutions that turn a into b. Distance("", b) is len(b).
func Distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := prev[j-1]
			if a[i-1] != b[j-1] {
				c++
			}
			c = min(c, prev[j]+1, cur[j-1]+1)
			cur[j] = c
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
