package sweeprun

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"roofline/estimator"
)

// Param is one named argument of a configuration, its value as written.
type Param struct {
	Name, Value string
}

// Params is one configuration: arguments in the order the grid names them.
type Params []Param

// Get returns the value of name and whether it is set.
func (p Params) Get(name string) (string, bool) {
	for _, kv := range p {
		if kv.Name == name {
			return kv.Value, true
		}
	}
	return "", false
}

// Int returns the value of the first of names that is set, as an integer; ok is false
// when none is set, err non-nil when the value is not an integer.
func (p Params) Int(names ...string) (v int, ok bool, err error) {
	for _, n := range names {
		if s, set := p.Get(n); set {
			v, err := strconv.Atoi(s)
			if err != nil {
				return 0, true, fmt.Errorf("%s=%q: want an integer", n, s)
			}
			return v, true, nil
		}
	}
	return 0, false, nil
}

// Key is a canonical text of p (names sorted), equal for equal configurations whatever
// the order of their arguments.
func (p Params) Key() string {
	s := slices.Clone(p)
	slices.SortFunc(s, func(a, b Param) int { return strings.Compare(a.Name, b.Name) })
	var b strings.Builder
	for i, kv := range s {
		if i > 0 {
			b.WriteByte(';')
		}
		b.WriteString(kv.Name + "=" + kv.Value)
	}
	return b.String()
}

// String writes p in the grid grammar, one value per name ("a=1;b=x").
func (p Params) String() string {
	var b strings.Builder
	for i, kv := range p {
		if i > 0 {
			b.WriteByte(';')
		}
		b.WriteString(kv.Name + "=" + quoteValue(kv.Value))
	}
	return b.String()
}

// jsonValue is v as JSON: a number or boolean when v reads as one, a string otherwise.
func jsonValue(v string) []byte {
	if v == "true" || v == "false" {
		return []byte(v)
	}
	if _, err := strconv.ParseFloat(v, 64); err == nil && json.Valid([]byte(v)) {
		return []byte(v)
	}
	b, _ := json.Marshal(v)
	return b
}

// MarshalJSON writes p as a JSON object in argument order; values that read as numbers
// or booleans are written as such, the rest as strings.
func (p Params) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, kv := range p {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(kv.Name)
		b.Write(k)
		b.WriteByte(':')
		b.Write(jsonValue(kv.Value))
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON reads an object of scalars written by MarshalJSON, keeping key order.
func (p *Params) UnmarshalJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	t, err := dec.Token()
	if err != nil {
		return err
	}
	if t == nil {
		*p = nil
		return nil
	}
	if d, ok := t.(json.Delim); !ok || d != '{' {
		return fmt.Errorf("arguments: want a JSON object")
	}
	out := Params{}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return err
		}
		v, err := dec.Token()
		if err != nil {
			return err
		}
		var s string
		switch x := v.(type) {
		case string:
			s = x
		case json.Number:
			s = x.String()
		case bool:
			s = strconv.FormatBool(x)
		default:
			return fmt.Errorf("argument %v: want a string, number or boolean", k)
		}
		out = append(out, Param{Name: k.(string), Value: s})
	}
	if _, err := dec.Token(); err != nil {
		return err
	}
	*p = out
	return nil
}

// specials are the characters of the grammar and the blanks the parser skips (see
// gridParser.space); a value holding one is double-quoted.
const specials = "[](),;=*\" \t\n"

func quoteValue(v string) string {
	if v != "" && !strings.ContainsAny(v, specials) {
		return v
	}
	return strconv.Quote(v)
}

// ParseGrid reads the grid grammar of llm-optimizer's --server-args and --client-args and
// returns every combination, the first group varying slowest:
//
//	grid   = group { ";" group }
//	group  = names "=" values
//	names  = name { "*" name }            tied names vary together
//	values = "[" item { "," item } "]" | value
//	item   = "(" value { "," value } ")"  one value per tied name
//	       | value                         with a single name
//	value  = characters other than [](),;=*" and spaces, or a Go double-quoted string
//
// "tp_size*dp_size=[(1,4),(2,2)];max_num_seqs=[64,256]" gives 2×2 = 4 configurations.
// Spaces around tokens are ignored. An empty text gives one empty configuration. Errors
// name the position and what was expected; a name given twice is an error.
func ParseGrid(text string) ([]Params, error) {
	p := &gridParser{s: text}
	combos := []Params{{}}
	seen := map[string]bool{}
	p.space()
	if p.eof() {
		return combos, nil
	}
	for {
		names, rows, err := p.group()
		if err != nil {
			return nil, err
		}
		for _, n := range names {
			if seen[n] {
				return nil, fmt.Errorf("%q: name %s given twice", text, n)
			}
			seen[n] = true
		}
		var next []Params
		for _, c := range combos {
			for _, row := range rows {
				d := slices.Clone(c)
				for i, n := range names {
					d = append(d, Param{Name: n, Value: row[i]})
				}
				next = append(next, d)
			}
		}
		if len(next) > MaxConfigs {
			return nil, fmt.Errorf("%q: more than %d combinations", text, MaxConfigs)
		}
		combos = next
		p.space()
		if p.eof() {
			return combos, nil
		}
		if !p.take(';') {
			return nil, p.errorf("';' between groups")
		}
		p.space()
		if p.eof() { // a trailing ';'
			return combos, nil
		}
	}
}

// MaxConfigs bounds the combinations one grid may expand to.
const MaxConfigs = 100000

type gridParser struct {
	s string
	i int
}

func (p *gridParser) eof() bool { return p.i >= len(p.s) }

func (p *gridParser) space() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == '\n') {
		p.i++
	}
}

func (p *gridParser) take(c byte) bool {
	p.space()
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *gridParser) errorf(want string) error {
	got := "end of text"
	if p.i < len(p.s) {
		got = strconv.Quote(p.s[p.i:min(len(p.s), p.i+10)])
	}
	return fmt.Errorf("%q at character %d: want %s, got %s", p.s, p.i+1, want, got)
}

func (p *gridParser) name() (string, error) {
	p.space()
	start := p.i
	for p.i < len(p.s) {
		c := p.s[p.i]
		if c == '_' || c == '-' || c == '.' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9' && p.i > start) {
			p.i++
			continue
		}
		break
	}
	if p.i == start {
		return "", p.errorf("a name (letters, digits, _ - .)")
	}
	return p.s[start:p.i], nil
}

func (p *gridParser) value() (string, error) {
	p.space()
	if p.i < len(p.s) && p.s[p.i] == '"' {
		// A Go double-quoted string: find its end, honouring backslash escapes.
		j := p.i + 1
		for j < len(p.s) && p.s[j] != '"' {
			if p.s[j] == '\\' {
				j++
			}
			j++
		}
		if j >= len(p.s) {
			return "", p.errorf("a closing '\"'")
		}
		v, err := strconv.Unquote(p.s[p.i : j+1])
		if err != nil {
			return "", fmt.Errorf("%q at character %d: %v", p.s, p.i+1, err)
		}
		p.i = j + 1
		return v, nil
	}
	start := p.i
	for p.i < len(p.s) && !strings.ContainsRune(specials, rune(p.s[p.i])) && p.s[p.i] != '\t' && p.s[p.i] != '\n' {
		p.i++
	}
	if p.i == start {
		return "", p.errorf("a value")
	}
	return p.s[start:p.i], nil
}

// group reads names "=" values and returns the names and one row of values per item.
func (p *gridParser) group() ([]string, [][]string, error) {
	var names []string
	for {
		n, err := p.name()
		if err != nil {
			return nil, nil, err
		}
		names = append(names, n)
		if !p.take('*') {
			break
		}
	}
	if !p.take('=') {
		return nil, nil, p.errorf("'=' after " + strings.Join(names, "*"))
	}
	item := func() ([]string, error) {
		if len(names) == 1 {
			v, err := p.value()
			return []string{v}, err
		}
		if !p.take('(') {
			return nil, p.errorf(fmt.Sprintf("a tuple of %d values for %s, e.g. (1,2)", len(names), strings.Join(names, "*")))
		}
		var row []string
		for {
			v, err := p.value()
			if err != nil {
				return nil, err
			}
			row = append(row, v)
			if !p.take(',') {
				break
			}
		}
		if !p.take(')') {
			return nil, p.errorf("')' closing the tuple")
		}
		if len(row) != len(names) {
			return nil, fmt.Errorf("%q: tuple of %d values for %d names %s", p.s, len(row), len(names), strings.Join(names, "*"))
		}
		return row, nil
	}
	var rows [][]string
	if p.take('[') {
		for {
			row, err := item()
			if err != nil {
				return nil, nil, err
			}
			rows = append(rows, row)
			if !p.take(',') {
				break
			}
		}
		if !p.take(']') {
			return nil, nil, p.errorf("']' closing the list")
		}
	} else {
		row, err := item()
		if err != nil {
			return nil, nil, err
		}
		rows = append(rows, row)
	}
	return names, rows, nil
}

// LoadGrid is the client grid of a list of loads (estimator.ParseRange): one
// configuration per concurrency, or, when concurrency is "", per request rate (req/s).
// Errors name the flag (--concurrency or --request-rate).
func LoadGrid(concurrency, rate string) ([]Params, error) {
	key, text := "concurrency", concurrency
	if text == "" {
		key, text = "request_rate", rate
	}
	vs, err := estimator.ParseRange(text, key == "concurrency")
	if err != nil {
		return nil, fmt.Errorf("--%s: %v", strings.ReplaceAll(key, "_", "-"), err)
	}
	var out []Params
	for _, v := range vs {
		out = append(out, Params{{Name: key, Value: strconv.FormatFloat(v, 'g', -1, 64)}})
	}
	return out, nil
}
