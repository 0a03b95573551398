package hardware

import (
	"fmt"
	"roofline/internal/suggest"
	"sort"
	"strings"
	"unicode"
)

// UnknownGPUError is returned by Lookup for a name the catalogue does not know.
type UnknownGPUError struct {
	Name        string   // the name asked for
	Suggestions []string // up to 3 close names, best first
}

func (e *UnknownGPUError) Error() string {
	if len(e.Suggestions) == 0 {
		return fmt.Sprintf("unknown GPU %q (no similar id, name or alias in the catalogue)", e.Name)
	}
	return fmt.Sprintf("unknown GPU %q; did you mean %s?", e.Name, strings.Join(e.Suggestions, ", "))
}

// vendorWords are leading words Lookup ignores when the full name is unknown, so that
// device names such as "NVIDIA H100 80GB HBM3" resolve.
var vendorWords = []string{"nvidia", "amd", "intel", "habana", "google"}

// Lookup finds a GPU by id, name or alias. Names compare case-insensitively and ignoring
// spaces, dashes and underscores ("h100-sxm" = "H100 SXM"). When that finds nothing, a
// trailing parenthesised remark ("A100-80GB (variant not stated)") and a leading vendor
// word ("NVIDIA H200") are dropped and the lookup is tried again.
//
// An unknown name gives an *UnknownGPUError listing at most 3 close names: names that
// start with the given text first (shortest first), then names within a small edit
// distance.
func (c *Catalogue) Lookup(name string) (*GPU, error) {
	if strings.TrimSpace(name) == "" {
		return nil, fmt.Errorf("empty GPU name")
	}
	for _, k := range lookupKeys(name) {
		if g, ok := c.index[k]; ok {
			return g, nil
		}
	}
	return nil, &UnknownGPUError{Name: name, Suggestions: c.suggest(name)}
}

// lookupKeys returns the normalized forms of name to try, in order.
func lookupKeys(name string) []string {
	forms := []string{name}
	s := strings.TrimSpace(name)
	if strings.HasSuffix(s, ")") {
		if i := strings.LastIndex(s, "("); i > 0 {
			forms = append(forms, s[:i])
		}
	}
	var keys []string
	for _, f := range forms {
		k := norm(f)
		keys = append(keys, k)
		for _, v := range vendorWords {
			if rest, ok := strings.CutPrefix(k, v); ok && rest != "" {
				keys = append(keys, rest)
			}
		}
	}
	return keys
}

// norm lower-cases s and drops spaces, dashes and underscores.
func norm(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsSpace(r) || r == '-' || r == '_' {
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// suggest returns up to 3 spellings of GPUs close to name, one per GPU.
func (c *Catalogue) suggest(name string) []string {
	q := lookupKeys(name)
	type cand struct {
		tier, score int
		text        string
		order       int
	}
	var cands []cand
	for order, g := range c.gpus {
		best := cand{tier: 3}
		for _, n := range g.names() {
			k := norm(n.text)
			for _, qk := range q {
				var c cand
				switch {
				case qk == "":
					continue
				case strings.HasPrefix(k, qk):
					c = cand{0, len(k) - len(qk), n.text, order}
				case len(qk) >= 3 && strings.Contains(k, qk):
					c = cand{1, len(k) - len(qk), n.text, order}
				default:
					d := suggest.Distance(qk, k)
					if d > max(2, len(qk)/3) {
						continue
					}
					c = cand{2, d, n.text, order}
				}
				if c.tier < best.tier || c.tier == best.tier && c.score < best.score {
					best = c
				}
			}
		}
		if best.tier < 3 {
			cands = append(cands, best)
		}
	}
	sort.Slice(cands, func(i, j int) bool {
		a, b := cands[i], cands[j]
		if a.tier != b.tier {
			return a.tier < b.tier
		}
		if a.score != b.score {
			return a.score < b.score
		}
		return a.order < b.order
	})
	var out []string
	for _, c := range cands {
		if len(out) == 3 {
			break
		}
		out = append(out, c.text)
	}
	return out
}

// closest returns up to n of words within a small edit distance of w, closest first.
func closest(w string, words []string, n int) []string {
	type scored struct {
		word string
		d    int
	}
	var s []scored
	for _, x := range words {
		if d := suggest.Distance(w, x); d <= max(2, len(w)/3) {
			s = append(s, scored{x, d})
		}
	}
	sort.SliceStable(s, func(i, j int) bool { return s[i].d < s[j].d })
	var out []string
	for i := 0; i < len(s) && i < n; i++ {
		out = append(out, s[i].word)
	}
	return out
}

// Pick resolves "all" (every GPU, List order) or a comma list of ids, names or aliases
// (Lookup), each GPU once in the order first named. Errors: an unknown name (with
// suggestions), or a list that names no GPU.
func (c *Catalogue) Pick(list string) ([]*GPU, error) {
	if strings.EqualFold(strings.TrimSpace(list), "all") {
		return c.List(), nil
	}
	var out []*GPU
	seen := map[string]bool{}
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		g, err := c.Lookup(name)
		if err != nil {
			return nil, err
		}
		if !seen[g.ID] {
			seen[g.ID] = true
			out = append(out, g)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%q names no GPU (give ids or aliases, or all)", list)
	}
	return out, nil
}
