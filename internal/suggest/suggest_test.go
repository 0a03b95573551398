package suggest

import "testing"

// Expected distances worked by hand (the classic examples: kitten→sitting is 3 edits).
func TestDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"", "abc", 3}, {"abc", "", 3}, {"kitten", "sitting", 3},
		{"h100", "h100", 0}, {"h10", "h100", 1}, {"h100pcie", "h100", 4}, {"flaw", "lawn", 2}, {"h1oo", "h100", 2},
	} {
		if got := Distance(c.a, c.b); got != c.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}
