package models

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"roofline/data"
	"roofline/internal/suggest"

	"github.com/cenkalti/backoff/v5"
)

// Resolver finds a model's config.json by name. Its zero value reads paths, the
// embedded catalogue, the local Hugging Face cache under ~/.cache/huggingface and the Hub
// at https://huggingface.co without a token or a download cache.
type Resolver struct {
	// HFHome is the Hugging Face home folder ($HF_HOME); "" means ~/.cache/huggingface.
	HFHome string
	// HubURL is the Hub's base URL; "" means https://huggingface.co.
	HubURL string
	// Token, when set, is sent to the Hub as "Authorization: Bearer Token".
	Token string
	// Client makes Hub requests; nil means a client with a 30 s timeout per attempt that
	// honours the proxy environment (HTTPS_PROXY, HTTP_PROXY, NO_PROXY).
	Client *http.Client
	// HubAttempts is how many times a Hub request is tried when the network fails or
	// the Hub answers 429 or 5xx; 0 means 4. Waits between attempts grow exponentially
	// (github.com/cenkalti/backoff/v5) from RetryWait (0 means 500 ms), with jitter.
	HubAttempts int
	RetryWait   time.Duration
	// CacheDir, when set, keeps configs downloaded from the Hub (CacheDir/ORG--NAME/config.json)
	// and is read before the Hub is asked.
	CacheDir string
	// Offline forbids Hub requests.
	Offline bool
}

// maxConfigBytes bounds a config.json read from disk or the Hub.
const maxConfigBytes = 8 << 20

// CatalogueIDs lists the ids of the embedded model configs ("ORG/NAME", with the Hugging
// Face casing), sorted case-insensitively.
func CatalogueIDs() []string {
	entries, err := fs.ReadDir(data.FS, "models")
	if err != nil {
		return nil
	}
	var ids []string
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || !strings.HasSuffix(n, ".json") {
			continue
		}
		ids = append(ids, strings.Replace(strings.TrimSuffix(n, ".json"), "--", "/", 1))
	}
	sort.Slice(ids, func(i, j int) bool { return strings.ToLower(ids[i]) < strings.ToLower(ids[j]) })
	return ids
}

// catalogueID returns the catalogue id matching name case-insensitively, or "".
func catalogueID(name string) string {
	for _, id := range CatalogueIDs() {
		if strings.EqualFold(id, name) {
			return id
		}
	}
	return ""
}

// LoadCatalogue parses the embedded config of id (case-insensitive).
func LoadCatalogue(id string) (*Model, error) {
	cid := catalogueID(id)
	if cid == "" {
		return nil, unknownModel(id)
	}
	b, err := fs.ReadFile(data.FS, "models/"+strings.Replace(cid, "/", "--", 1)+".json")
	if err != nil {
		return nil, err
	}
	m, err := Parse(b, cid)
	if err != nil {
		return nil, err
	}
	m.Source = "catalogue"
	return m, nil
}

// Load finds and parses the config of name, trying in order: a path to a config.json
// or to a folder holding one; the embedded catalogue (case-insensitive id); the local
// Hugging Face cache (HFHome/hub/models--ORG--NAME/snapshots/*/config.json); CacheDir;
// the Hub (HubURL/ORG/NAME/resolve/main/config.json) unless Offline. An unknown name is
// an error suggesting close catalogue ids; a name that can only be a path (absolute, ./ or
// ../, or ending in .json) and does not exist is the file system's error.
func (r *Resolver) Load(ctx context.Context, name string) (*Model, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return nil, errors.New("model name is empty (give a catalogue id, a Hugging Face id or a path to a config.json)")
	}
	if st, err := os.Stat(name); err == nil {
		p := name
		if st.IsDir() {
			p = filepath.Join(name, "config.json")
		}
		b, err := readFile(p)
		if err != nil {
			return nil, err
		}
		return parseFrom(b, name, "path")
	} else if looksLikePath(name) {
		// "/tmp/x/config.json" was reported as an unknown model id, with the advice to
		// "give a path to a config.json", which it was.
		return nil, err
	}
	if catalogueID(name) != "" {
		return LoadCatalogue(name)
	}
	org, repo, ok := strings.Cut(name, "/")
	if !ok || org == "" || repo == "" || strings.Contains(repo, "/") || strings.ContainsAny(name, `\`) || strings.Contains(name, "..") {
		return nil, unknownModel(name)
	}
	if p := r.hfCached(org, repo); p != "" {
		b, err := readFile(p)
		if err != nil {
			return nil, err
		}
		return parseFrom(b, name, "hf-cache")
	}
	if r.CacheDir != "" {
		if b, err := readFile(filepath.Join(r.CacheDir, org+"--"+repo, "config.json")); err == nil {
			return parseFrom(b, name, "hub")
		}
	}
	if r.Offline {
		return nil, fmt.Errorf("%w (offline: the Hub was not asked)", unknownModel(name))
	}
	b, err := r.fetch(ctx, org, repo)
	if err != nil {
		// An unreachable Hub says nothing about the name; a catalogue id a typo away
		// ("…-Instruc") is most likely what was meant (a 404 names close ids already).
		if t := typoOf(name); len(t) > 0 && !strings.Contains(err.Error(), "did you mean") {
			err = fmt.Errorf("%w; did you mean %s (catalogue)?", err, strings.Join(t, ", "))
		}
		return nil, err
	}
	m, err := parseFrom(b, name, "hub")
	if err != nil {
		return nil, err
	}
	if r.CacheDir != "" {
		dir := filepath.Join(r.CacheDir, org+"--"+repo)
		if os.MkdirAll(dir, 0o755) == nil {
			_ = os.WriteFile(filepath.Join(dir, "config.json"), b, 0o644) // a cache: failure only costs a refetch
		}
	}
	return m, nil
}

// hfCached returns the newest snapshot config.json of ORG/NAME in the HF cache, or "".
func (r *Resolver) hfCached(org, repo string) string {
	home := r.HFHome
	if home == "" {
		h, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		home = filepath.Join(h, ".cache", "huggingface")
	}
	hub := filepath.Join(home, "hub")
	want := strings.ToLower("models--" + org + "--" + repo)
	entries, err := os.ReadDir(hub)
	if err != nil {
		return ""
	}
	var best string
	var bestTime time.Time
	for _, e := range entries {
		if strings.ToLower(e.Name()) != want {
			continue
		}
		snaps, _ := filepath.Glob(filepath.Join(hub, e.Name(), "snapshots", "*", "config.json"))
		for _, s := range snaps {
			if st, err := os.Stat(s); err == nil && (best == "" || st.ModTime().After(bestTime)) {
				best, bestTime = s, st.ModTime()
			}
		}
	}
	return best
}

// fetch downloads ORG/NAME's config.json from the Hub.
func (r *Resolver) fetch(ctx context.Context, org, repo string) ([]byte, error) {
	base := strings.TrimRight(r.HubURL, "/")
	if base == "" {
		base = "https://huggingface.co"
	}
	url := base + "/" + path.Join(org, repo) + "/resolve/main/config.json"
	client := r.Client
	if client == nil {
		// A clone of the default transport: proxy from the environment, dial timeouts.
		client = &http.Client{Timeout: 30 * time.Second, Transport: http.DefaultTransport.(*http.Transport).Clone()}
	}
	attempts := r.HubAttempts
	if attempts <= 0 {
		attempts = 4
	}
	exp := backoff.NewExponentialBackOff()
	if r.RetryWait > 0 {
		exp.InitialInterval = r.RetryWait
	}
	tries := 0
	b, err := backoff.Retry(ctx, func() ([]byte, error) {
		tries++
		return r.fetchOnce(ctx, client, url, org, repo)
	}, backoff.WithBackOff(exp), backoff.WithMaxTries(uint(attempts)))
	if err != nil && tries > 1 {
		return nil, fmt.Errorf("%v (gave up after %d attempts)", err, tries)
	}
	return b, err
}

// fetchOnce makes one Hub request; errors that another attempt cannot fix (401, 403,
// 404, a too-large body) are permanent.
func (r *Resolver) fetchOnce(ctx context.Context, client *http.Client, url, org, repo string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, backoff.Permanent(fmt.Errorf("%s/%s: %v", org, repo, err))
	}
	if r.Token != "" {
		req.Header.Set("Authorization", "Bearer "+r.Token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s/%s: fetching %s: %v", org, repo, url, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		hint := "set HF_TOKEN to a token with access to this repository"
		if r.Token != "" {
			hint = "the token was refused; check that it has access to this repository"
		}
		return nil, backoff.Permanent(fmt.Errorf("%s/%s: the Hub answered %s (gated or private model): %s", org, repo, resp.Status, hint))
	case resp.StatusCode == http.StatusNotFound:
		return nil, backoff.Permanent(fmt.Errorf("%w (the Hub answered 404)", unknownModel(org+"/"+repo)))
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return nil, fmt.Errorf("%s/%s: fetching %s: the Hub answered %s", org, repo, url, resp.Status)
	case resp.StatusCode != http.StatusOK:
		return nil, backoff.Permanent(fmt.Errorf("%s/%s: fetching %s: the Hub answered %s", org, repo, url, resp.Status))
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxConfigBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%s/%s: reading config.json from the Hub: %v", org, repo, err)
	}
	if len(b) > maxConfigBytes {
		return nil, backoff.Permanent(fmt.Errorf("%s/%s: config.json from the Hub is larger than %d bytes", org, repo, maxConfigBytes))
	}
	return b, nil
}

// parseFrom parses a config.json and records where it was found.
func parseFrom(b []byte, id, source string) (*Model, error) {
	m, err := Parse(b, id)
	if err != nil {
		return nil, err
	}
	m.Source = source
	return m, nil
}

func readFile(p string) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxConfigBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %v", p, err)
	}
	if len(b) > maxConfigBytes {
		return nil, fmt.Errorf("%s: larger than %d bytes: not a config.json", p, maxConfigBytes)
	}
	return b, nil
}

// unknownModel is the error for a name found nowhere, with close catalogue ids.
func unknownModel(name string) error {
	s := Suggest(name, 3)
	if len(s) == 0 {
		return fmt.Errorf("unknown model %q (run 'roofline models list' for the catalogue, or give a path to a config.json)", name)
	}
	return fmt.Errorf("unknown model %q (did you mean %s?)", name, strings.Join(s, ", "))
}

// looksLikePath reports whether name can only be a file path, not a catalogue or Hub id:
// absolute or relative to . or .., or ending in .json (Hub ids are ORG/NAME).
func looksLikePath(name string) bool {
	return filepath.IsAbs(name) || strings.HasPrefix(name, "./") || strings.HasPrefix(name, "../") || strings.HasSuffix(strings.ToLower(name), ".json")
}

// typoOf returns the catalogue ids within 2 single-character edits of name
// (case-insensitive) whose numbers are the name's: a misspelt id rather than another model
// ("Llama-3.1-405B-Instruct" is two edits from "Llama-3.1-70B-Instruct", another size, not a
// typo). It also returns the ids that differ from name only by an instruction-tuning
// suffix (-Instruct, -Chat, -it, -hf): the base and tuned checkpoints of one model share
// their config.json (the catalogue holds Llama-3.1-405B, not -405B-Instruct).
func typoOf(name string) []string {
	var out []string
	n := strings.ToLower(name)
	for _, id := range CatalogueIDs() {
		l := strings.ToLower(id)
		if suggest.Distance(n, l) <= 2 && slices.Equal(numbersOf(n), numbersOf(l)) || tunedSibling(n, l) {
			out = append(out, id)
		}
	}
	return out
}

// numbersOf lists the runs of digits in s ("llama-3.1-405b" → 3, 1, 405).
func numbersOf(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r < '0' || r > '9' })
}

// tunedSibling reports whether lower-case ids a and b differ only by an instruction-tuning
// suffix on one of them.
func tunedSibling(a, b string) bool {
	for _, suf := range []string{"-instruct", "-chat", "-it", "-hf"} {
		if a != b && (a+suf == b || b+suf == a) {
			return true
		}
	}
	return false
}

// Suggest returns up to n catalogue ids close to name: those containing it (or its part
// after "/") first, then by edit distance, case-insensitive.
func Suggest(name string, n int) []string {
	q := strings.ToLower(name)
	if _, after, ok := strings.Cut(q, "/"); ok {
		q = after
	}
	type cand struct {
		id string
		d  int
	}
	var cs []cand
	for _, id := range CatalogueIDs() {
		l := strings.ToLower(id)
		_, short, _ := strings.Cut(l, "/")
		d := suggest.Distance(q, short)
		if q != "" && strings.Contains(l, q) {
			d = -1
		}
		if d <= len(short)/2 {
			cs = append(cs, cand{id, d})
		}
	}
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].d < cs[j].d })
	var out []string
	for i := 0; i < len(cs) && i < n; i++ {
		out = append(out, cs[i].id)
	}
	return out
}

// ResolverFromEnv is the Resolver the roofline command uses, configured from the
// environment (getenv is os.Getenv or a test's): HF_HOME, HF_TOKEN, HF_ENDPOINT (the Hub's
// URL) and HF_HUB_OFFLINE=1|true|yes (no Hub requests); downloads are cached under
// $XDG_CACHE_HOME (else $HOME/.cache)/roofline/models. Without HOME nor HF_HOME no local
// Hugging Face cache is read.
func ResolverFromEnv(getenv func(string) string) *Resolver {
	r := &Resolver{
		HFHome: getenv("HF_HOME"),
		HubURL: getenv("HF_ENDPOINT"),
		Token:  getenv("HF_TOKEN"),
	}
	off := strings.ToLower(getenv("HF_HUB_OFFLINE"))
	r.Offline = off == "1" || off == "true" || off == "yes"
	cache := getenv("XDG_CACHE_HOME")
	if home := getenv("HOME"); cache == "" && home != "" {
		cache = filepath.Join(home, ".cache")
	}
	if r.HFHome == "" && cache != "" {
		r.HFHome = filepath.Join(cache, "huggingface")
	}
	if r.HFHome == "" {
		r.HFHome = filepath.Join(string(filepath.Separator), "nonexistent-hf-home") // no HOME: no local cache
	}
	if cache != "" {
		r.CacheDir = filepath.Join(cache, "roofline", "models")
	}
	return r
}
