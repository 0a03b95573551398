package bench

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
)

// Prompt is one request's input. InputLen is its length in tokens as far as the client
// knows (approximate; the server's usage gives the real count) and OutputLen the
// max_tokens to ask for when Config.OutputLen is 0.
type Prompt struct {
	Text      string
	InputLen  int
	OutputLen int
}

// words are short, common English words; each, with its leading space, is one token in
// the byte-pair vocabularies of Llama 3, Qwen 2.5, Mistral and GPT-4-class tokenizers,
// so n of them joined by spaces make a prompt of about n tokens.
var words = strings.Fields(`the of and to in is that for it as was with be by on not he this are or
his from at which but have an had they you were their one all we can her has there been if more
when will would who so no time people water house world small light day year good new first
last long great little own other old right big high different large next early young few public
same able`)

// SyntheticPrompt returns request index's prompt of inputLen words (≈ tokens), the first
// prefixLen of them the same for every index. The text depends only on seed, index and
// the lengths.
func SyntheticPrompt(seed uint64, index, inputLen, prefixLen int) Prompt {
	var b strings.Builder
	prefix := rand.New(rand.NewPCG(seed, 1<<63))
	own := rand.New(rand.NewPCG(seed, uint64(index)))
	for i := 0; i < inputLen; i++ {
		r := own
		if i < prefixLen {
			r = prefix
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(words[r.IntN(len(words))])
	}
	return Prompt{Text: b.String(), InputLen: inputLen}
}

// PromptTokens counts the tokens of a prompt the way this package builds prompts: a synthetic
// prompt (SyntheticPrompt: words of the synthetic vocabulary joined by single spaces) has one
// token per word; any other text is estimated at 4 bytes per token (approxTokens). At least 1.
func PromptTokens(text string) int {
	n := 0
	for _, f := range strings.Split(text, " ") {
		if !synthetic[f] {
			return approxTokens(text)
		}
		n++
	}
	return max(n, 1)
}

var synthetic = func() map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}()

// approxTokens estimates the tokens of text without a tokenizer: 4 bytes per token
// (the usual rule of thumb for English BPE vocabularies), at least 1.
func approxTokens(text string) int {
	n := (len(text) + 3) / 4
	if n < 1 {
		n = 1
	}
	return n
}

// LoadJSONL reads a dataset with one JSON object per line: "prompt" (text, required),
// optional "output_len" (max_tokens for that prompt). Unknown fields are ignored;
// blank lines are skipped. InputLen is estimated at 4 bytes per token.
func LoadJSONL(r io.Reader) ([]Prompt, error) {
	br := bufio.NewReader(r)
	var ps []Prompt
	for line := 1; ; line++ {
		b, err := br.ReadBytes('\n')
		if s := strings.TrimSpace(string(b)); s != "" {
			var v struct {
				Prompt    *string `json:"prompt"`
				OutputLen int     `json:"output_len"`
			}
			if jerr := json.Unmarshal([]byte(s), &v); jerr != nil {
				return nil, fmt.Errorf("jsonl line %d: %v", line, jerr)
			}
			if v.Prompt == nil || *v.Prompt == "" {
				return nil, fmt.Errorf(`jsonl line %d: "prompt" missing or empty`, line)
			}
			if v.OutputLen < 0 {
				return nil, fmt.Errorf(`jsonl line %d: "output_len" %d: must be ≥ 1`, line, v.OutputLen)
			}
			ps = append(ps, Prompt{Text: *v.Prompt, InputLen: approxTokens(*v.Prompt), OutputLen: v.OutputLen})
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	if len(ps) == 0 {
		return nil, fmt.Errorf("jsonl: no prompts")
	}
	return ps, nil
}

// LoadShareGPT reads a ShareGPT JSON file (an array of {"conversations": [{"from":
// "human", "value": …}, {"from": "gpt", "value": …}, …]}) as vllm bench serve does: the
// first turn is the prompt, the second turn's length (estimated at 4 bytes per token)
// the output length. Conversations with fewer than two turns are skipped.
func LoadShareGPT(r io.Reader) ([]Prompt, error) {
	var convs []struct {
		Conversations []struct {
			From  string `json:"from"`
			Value string `json:"value"`
		} `json:"conversations"`
	}
	if err := json.NewDecoder(r).Decode(&convs); err != nil {
		return nil, fmt.Errorf("sharegpt: %v (want a JSON array of {\"conversations\": [...]})", err)
	}
	var ps []Prompt
	for _, c := range convs {
		if len(c.Conversations) < 2 || c.Conversations[0].Value == "" {
			continue
		}
		ps = append(ps, Prompt{
			Text:      c.Conversations[0].Value,
			InputLen:  approxTokens(c.Conversations[0].Value),
			OutputLen: approxTokens(c.Conversations[1].Value),
		})
	}
	if len(ps) == 0 {
		return nil, fmt.Errorf("sharegpt: no conversation with two turns")
	}
	return ps, nil
}
