package hardware

import (
	"fmt"
	"maps"
	"os"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"

	"roofline/data"
)

// EmbeddedName is the name the embedded catalogue carries in errors and in GPU.Origin.
const EmbeddedName = "data/gpus.toml (embedded)"

// Catalogue is a set of GPUs that can be looked up by id, name or alias. The zero value
// is an empty catalogue ready for AddTOML; Load returns the embedded one. A Catalogue is
// a value to pass around, not a global; it is not safe for concurrent modification.
type Catalogue struct {
	gpus  []*GPU                    // in the order entries were first added
	raw   map[string]map[string]any // normalized id → the entry's keys, merged over every file
	index map[string]*GPU           // normalized id, name and aliases → GPU
}

// Load returns the catalogue embedded from data/gpus.toml, decoded strictly and
// validated. An error here means the embedded file itself is broken.
func Load() (*Catalogue, error) {
	b, err := data.FS.ReadFile("gpus.toml")
	if err != nil {
		return nil, err
	}
	c := &Catalogue{}
	if err := c.AddTOML(EmbeddedName, b); err != nil {
		return nil, err
	}
	return c, nil
}

// AddFile reads a catalogue file of the embedded schema and adds or overrides its
// entries, as AddTOML does. Errors name the file.
func (c *Catalogue) AddFile(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return c.AddTOML(path, b)
}

// AddTOML adds the [[gpu]] entries of a TOML document (the schema of data/gpus.toml)
// to the catalogue; name labels the document in errors and in GPU.Origin.
//
// An entry whose id is already in the catalogue (compared as Lookup compares names)
// overrides it key by key: keys the entry sets replace the old values, the others are
// kept, and a number set to 0 means unknown or unsupported. Keys that belong together
// are replaced together: setting any price_* key drops the other price_* keys of the old
// entry (likewise usable_memory_*, memory_gb/memory_gib, tdp_w/tdp_note). An id that is
// another name or alias of a catalogued GPU ("B200" for b200-sxm) is an error naming the id
// to use. Any other id adds a GPU.
// Every resulting entry is validated again.
//
// The document is added whole or not at all. Errors name the document, the entry and
// the key, e.g. `my.toml: gpu "x1" (entry 2): memory_gb: want a number, got the string "80 GB"`.
// Unknown keys are errors, as are an id, name or alias that names two different GPUs,
// an id given twice in one document, a document without entries and a schema_version
// other than 1.
func (c *Catalogue) AddTOML(name string, doc []byte) error {
	var file struct {
		SchemaVersion int              `toml:"schema_version"`
		GPU           []map[string]any `toml:"gpu"`
	}
	md, err := toml.Decode(string(doc), &file)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if un := md.Undecoded(); len(un) > 0 {
		return fmt.Errorf("%s: unknown key %q (allowed at the top level: schema_version, [[gpu]] tables)", name, un[0].String())
	}
	if md.IsDefined("schema_version") && file.SchemaVersion != 1 {
		return fmt.Errorf("%s: schema_version %d is not supported (want 1)", name, file.SchemaVersion)
	}
	if len(file.GPU) == 0 {
		return fmt.Errorf("%s: no [[gpu]] entries", name)
	}

	// Work on a copy so that a failing document leaves c unchanged.
	next := &Catalogue{gpus: append([]*GPU(nil), c.gpus...), raw: maps.Clone(c.raw)}
	if next.raw == nil {
		next.raw = map[string]map[string]any{}
	}
	seen := map[string]int{} // normalized id → entry number in this document
	for i, raw := range file.GPU {
		id, _ := raw["id"].(string)
		where := fmt.Sprintf("%s: [[gpu]] entry %d", name, i+1)
		if id != "" {
			where = fmt.Sprintf("%s: gpu %q (entry %d)", name, id, i+1)
		}
		if _, ok := raw["id"]; !ok {
			return fmt.Errorf("%s: id: is required", where)
		}
		key := norm(id)
		if key == "" {
			e, err := decodeEntry(raw) // reports a non-string id as a type error
			if err == nil {
				_, err = e.gpu()
			}
			return fmt.Errorf("%s: %w", where, err)
		}
		if j, dup := seen[key]; dup {
			return fmt.Errorf("%s: id: %q already given by entry %d of this file", where, id, j)
		}
		seen[key] = i + 1
		if g, ok := c.index[key]; ok && next.raw[key] == nil {
			// An alias or name of a catalogued GPU: an override needs the id, and a new GPU
			// may not take the name. Said first, before the partial entry's missing keys.
			return fmt.Errorf("%s: id %q is a name of gpu %q: to override that GPU use id = %q; to add another GPU give it an id no GPU is known by", where, id, g.ID, g.ID)
		}

		merged := maps.Clone(next.raw[key])
		if merged == nil {
			merged = map[string]any{}
		}
		for _, group := range keyGroups {
			if setsAny(raw, group) {
				for _, k := range group {
					delete(merged, k)
				}
			}
		}
		maps.Copy(merged, raw)
		if prev := next.raw[key]; prev != nil {
			merged["id"] = prev["id"] // an override keeps the catalogue's spelling of the id
		}
		e, err := decodeEntry(merged)
		if err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		g, err := e.gpu()
		if err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		g.Origin = name
		if next.raw[key] == nil {
			next.gpus = append(next.gpus, g)
		} else {
			for k, old := range next.gpus {
				if norm(old.ID) == key {
					next.gpus[k] = g
				}
			}
		}
		next.raw[key] = merged
	}
	if err := next.reindex(name); err != nil {
		return err
	}
	fillAll(next.gpus)
	*c = *next
	return nil
}

// keyGroups are keys that describe one figure together. An override that sets any key
// of a group replaces the whole group, so that a new price never keeps the old price's
// source and date, and memory_gib can replace memory_gb.
var keyGroups = [][]string{
	{"price_usd_per_hour", "price_provider", "price_source", "price_as_of", "price_alternatives"},
	{"usable_memory_bytes", "usable_memory_source"},
	{"memory_gb", "memory_gib", "memory_gb_variants"},
	{"memory_bandwidth_tbps", "memory_bandwidth_tbps_variants"},
	{"tdp_w", "tdp_note"},
}

func setsAny(raw map[string]any, keys []string) bool {
	for _, k := range keys {
		if _, ok := raw[k]; ok {
			return true
		}
	}
	return false
}

// reindex rebuilds the name index, failing when a name would resolve to two GPUs.
func (c *Catalogue) reindex(name string) error {
	c.index = make(map[string]*GPU, 8*len(c.gpus))
	for _, g := range c.gpus {
		for _, n := range g.names() {
			k := norm(n.text)
			if other, ok := c.index[k]; ok && other != g {
				return fmt.Errorf("%s: gpu %q: %s %q already names gpu %q", name, g.ID, n.kind, n.text, other.ID)
			}
			c.index[k] = g
		}
	}
	return nil
}

// name is one spelling by which a GPU can be looked up.
type name struct {
	kind string // "id", "name" or "alias"
	text string
}

// names lists the GPU's aliases, then its name, then its id: the order in which
// suggestions prefer a spelling.
func (g *GPU) names() []name {
	out := make([]name, 0, len(g.Aliases)+2)
	for _, a := range g.Aliases {
		out = append(out, name{"alias", a})
	}
	if norm(g.Name) != norm(g.ID) {
		out = append(out, name{"name", g.Name})
	}
	return append(out, name{"id", g.ID})
}

// Len returns the number of GPUs in the catalogue.
func (c *Catalogue) Len() int { return len(c.gpus) }

// List returns every GPU, sorted by vendor name and, within a vendor, in catalogue order
// (the embedded file groups generations newest first; added entries come last).
func (c *Catalogue) List() []*GPU {
	out := append([]*GPU(nil), c.gpus...)
	sort.SliceStable(out, func(i, j int) bool {
		return strings.ToLower(out[i].Vendor) < strings.ToLower(out[j].Vendor)
	})
	return out
}
