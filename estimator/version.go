package estimator

import (
	"fmt"
	"io/fs"
	"maps"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"

	"roofline/data"
)

// Engine releases. An engine name may carry a release, NAME@VERSION (vllm@0.7.3,
// sglang@0.5.9, trtllm@1.2). Each embedded profile states the engine family it belongs to
// (`engine`, default: its name) and the release range it describes (`versions`, a comma
// list of constraints such as ">=0.6, <0.8"; empty = every release). The newest profile of
// a family is engines/NAME.toml; older releases live in engines/releases/*.toml.

// Version is a release number split into its numeric components: "0.6.3.post2.dev308+g…"
// reads as [0 6 3], "1.2.0rc1" as [1 2 0]. Missing components compare as 0.
type Version []int

// ParseVersion reads the leading numeric components of a release string. What follows
// them must be a release tag as Python and Git write them (PEP 440): a pre-release
// (a, b, rc, alpha, beta, pre, preview, c), a post- or dev-release (post, dev, r), each
// optionally after a separator and with a number ("1.2.0rc1", "0.6.3.post2.dev308"), or a
// local part after "+" or "-" ("+gb489fc3c", "-rc1", "+cu121"). It fails when the string does
// not start with a number, when something else follows ("0.7@1", "1e3"), or when a component
// does not fit an int; the error says what a release number looks like.
func ParseVersion(s string) (Version, error) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "v")
	bad := func(why string) (Version, error) {
		return nil, fmt.Errorf("version %q: %sexpected a release number such as 0.7.3 (optionally with a tag: 1.2.0rc1, 0.6.3.post1)", s, why)
	}
	var v Version
	rest := s
	for {
		n := 0
		for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
			n++
		}
		if n == 0 {
			break
		}
		x, err := strconv.Atoi(rest[:n])
		if err != nil {
			return bad(fmt.Sprintf("component %s is too large; ", rest[:n]))
		}
		v, rest = append(v, x), rest[n:]
		if len(rest) < 2 || rest[0] != '.' || rest[1] < '0' || rest[1] > '9' {
			break
		}
		rest = rest[1:]
	}
	if len(v) == 0 {
		return bad("")
	}
	if !releaseTag(rest) {
		return bad(fmt.Sprintf("%q after %s is not a release tag; ", rest, v))
	}
	return v, nil
}

// releaseTag reports whether s (what follows a version's numbers) is empty or a sequence of
// PEP 440 pre/post/dev tags (each optionally after ".", "-" or "_", with digits), ending with
// an optional local part after "+" or "-" that is not a tag (letters, digits, ".", "_", "-").
func releaseTag(s string) bool {
	tags := []string{"preview", "alpha", "beta", "post", "dev", "pre", "rc", "a", "b", "c", "r"}
	for s != "" {
		t := s
		if t[0] == '.' || t[0] == '-' || t[0] == '_' {
			t = t[1:]
		}
		matched := false
		for _, tag := range tags {
			if strings.HasPrefix(t, tag) {
				t, matched = t[len(tag):], true
				break
			}
		}
		if matched {
			for t != "" && t[0] >= '0' && t[0] <= '9' {
				t = t[1:]
			}
			s = t
			continue
		}
		if s[0] != '+' && s[0] != '-' || len(s) == 1 {
			return false
		}
		for _, r := range s[1:] {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
				return false
			}
		}
		return true
	}
	return true
}

// Compare returns -1, 0 or +1.
func (v Version) Compare(o Version) int {
	for i := 0; i < max(len(v), len(o)); i++ {
		a, b := 0, 0
		if i < len(v) {
			a = v[i]
		}
		if i < len(o) {
			b = o[i]
		}
		if a != b {
			if a < b {
				return -1
			}
			return 1
		}
	}
	return 0
}

func (v Version) String() string {
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = strconv.Itoa(x)
	}
	return strings.Join(parts, ".")
}

// versionConstraint is one "OP VERSION" term of a profile's `versions`.
type versionConstraint struct {
	op string
	v  Version
}

func parseRange(s string) ([]versionConstraint, error) {
	var out []versionConstraint
	for _, t := range strings.Split(s, ",") {
		t = strings.TrimSpace(t)
		if t == "" {
			continue
		}
		op := ""
		for _, o := range []string{">=", "<=", ">", "<", "=="} {
			if strings.HasPrefix(t, o) {
				op = o
				break
			}
		}
		if op == "" {
			return nil, fmt.Errorf("versions %q: each term needs one of >=, >, <=, <, == (e.g. \">=0.6, <0.8\")", s)
		}
		v, err := ParseVersion(strings.TrimSpace(t[len(op):]))
		if err != nil {
			return nil, fmt.Errorf("versions %q: %v", s, err)
		}
		out = append(out, versionConstraint{op, v})
	}
	return out, nil
}

// Covers reports whether the profile's release range holds v (an empty range holds all).
func (p *Profile) Covers(v Version) bool {
	cs, err := parseRange(p.Versions)
	if err != nil {
		return false
	}
	for _, c := range cs {
		r := v.Compare(c.v)
		ok := false
		switch c.op {
		case ">=":
			ok = r >= 0
		case ">":
			ok = r > 0
		case "<=":
			ok = r <= 0
		case "<":
			ok = r < 0
		case "==":
			ok = r == 0
		}
		if !ok {
			return false
		}
	}
	return true
}

// Family is the engine the profile describes (vllm, sglang, trtllm, …).
func (p *Profile) Family() string {
	if p.EngineFamily != "" {
		return p.EngineFamily
	}
	return p.Name
}

// Label names the engine and release range a profile predicts, e.g. "vllm >=0.8" or
// "vllm@0.6.3 (profile vllm-v0, versions >=0.6, <0.8)".
func (p *Profile) Label() string {
	s := p.Family()
	if p.Release != "" {
		s += "@" + p.Release
	}
	if p.Name != p.Family() || p.Release != "" {
		s += " (profile " + p.Name
		if p.Versions != "" {
			s += ", versions " + p.Versions
		}
		s += ")"
	} else if p.Versions != "" {
		s += " " + p.Versions
	}
	return s
}

// releaseCache holds the parsed embedded profiles per family (they never change at run time).
var releaseCache sync.Map // family → []*Profile

// releaseProfiles returns the embedded profiles of one engine family (parsed once; callers
// get the shared values and must copy before changing one).
func releaseProfiles(family string) ([]*Profile, error) {
	if v, ok := releaseCache.Load(family); ok {
		return v.([]*Profile), nil
	}
	ps, err := parseReleaseProfiles(family)
	if err != nil {
		return nil, err
	}
	releaseCache.Store(family, ps)
	return ps, nil
}

func parseReleaseProfiles(family string) ([]*Profile, error) {
	var out []*Profile
	for _, dir := range []string{"engines", "engines/releases"} {
		ents, err := fs.ReadDir(data.FS, dir)
		if err != nil {
			continue
		}
		for _, e := range ents {
			if e.IsDir() || !strings.HasSuffix(e.Name(), ".toml") {
				continue
			}
			name := path.Join(dir, e.Name())
			b, err := data.FS.ReadFile(name)
			if err != nil {
				return nil, err
			}
			p, err := ParseProfile(name, b)
			if err != nil {
				return nil, err
			}
			if p.Family() == family {
				out = append(out, p)
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// engineRelease resolves NAME@VERSION to the embedded profile whose range holds VERSION.
func engineRelease(family, release string) (*Profile, bool, error) {
	v, err := ParseVersion(release)
	if err != nil {
		return nil, false, fmt.Errorf("--engine %s@%s: %v", family, release, err)
	}
	ps, err := releaseProfiles(family)
	if err != nil {
		return nil, false, err
	}
	if len(ps) == 0 {
		p, _, err := Engine("default")
		if err != nil {
			return nil, false, err
		}
		p.Release = release
		return p, false, nil
	}
	var ranges []string
	for _, p := range ps {
		if p.Covers(v) {
			c := *p
			c.Sources = maps.Clone(p.Sources)
			c.GEMMEfficiencyByDtype = maps.Clone(p.GEMMEfficiencyByDtype)
			c.MoEGEMMEfficiencyByDtype = maps.Clone(p.MoEGEMMEfficiencyByDtype)
			c.MoEDequantMemoryEfficiency = maps.Clone(p.MoEDequantMemoryEfficiency)
			c.Release = release
			return &c, true, nil
		}
		ranges = append(ranges, p.Name+" "+p.Versions)
	}
	return nil, false, fmt.Errorf("--engine %s@%s: no %s profile covers release %s (profiles: %s)", family, release, family, v, strings.Join(ranges, "; "))
}

// Below reports whether every release the profile describes is older than v: its range has
// an upper bound "< u" with u ≤ v or "<= u" with u < v. A profile without a range (the
// newest of a family, a calibrated one) is not below anything.
func (p *Profile) Below(v Version) bool {
	cs, err := parseRange(p.Versions)
	if err != nil {
		return false
	}
	for _, c := range cs {
		r := c.v.Compare(v)
		if c.op == "<" && r <= 0 || c.op == "<=" && r < 0 {
			return true
		}
	}
	return false
}
