package sweeprun

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func TestParseGrid(t *testing.T) {
	// Expected combinations written by hand from the grammar: the first group varies slowest.
	for _, c := range []struct {
		in   string
		want []string
	}{
		{"", []string{""}},
		{"a=1", []string{"a=1"}},
		{"tp_size*dp_size=[(1,4),(2,2)];max_num_seqs=[64,256]",
			[]string{"tp_size=1;dp_size=4;max_num_seqs=64", "tp_size=1;dp_size=4;max_num_seqs=256",
				"tp_size=2;dp_size=2;max_num_seqs=64", "tp_size=2;dp_size=2;max_num_seqs=256"}},
		{"concurrency=[8,32];num_requests=200", []string{"concurrency=8;num_requests=200", "concurrency=32;num_requests=200"}},
		{" a = [ 1 , 2 ] ; b = x ;", []string{"a=1;b=x", "a=2;b=x"}},
		{`p="a b;c"`, []string{`p="a b;c"`}},
		{"OLLAMA_NUM_PARALLEL=[1,2]", []string{"OLLAMA_NUM_PARALLEL=1", "OLLAMA_NUM_PARALLEL=2"}},
		{"x*y*z=(1,2,3)", []string{"x=1;y=2;z=3"}},
		{"dir=/tmp/m-1.5", []string{"dir=/tmp/m-1.5"}},
	} {
		got, err := ParseGrid(c.in)
		if err != nil {
			t.Errorf("ParseGrid(%q): %v", c.in, err)
			continue
		}
		var s []string
		for _, p := range got {
			s = append(s, p.String())
		}
		if strings.Join(s, "|") != strings.Join(c.want, "|") {
			t.Errorf("ParseGrid(%q) = %q, want %q", c.in, s, c.want)
		}
	}
}

func TestParseGridErrors(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"a", "want '='"},
		{"a=", "want a value"},
		{"a=[1,2", "want ']'"},
		{"a*b=[1,2]", "want a tuple of 2 values"},
		{"a*b=[(1,2,3)]", "tuple of 3 values for 2 names"},
		{"a=1;a=2", "name a given twice"},
		{"a=1 b=2", "want ';'"},
		{"=1", "want a name"},
		{`a="x`, `closing '"'`},
	} {
		_, err := ParseGrid(c.in)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseGrid(%q): error %v, want one containing %q", c.in, err, c.want)
		}
	}
}

func TestParamsJSON(t *testing.T) {
	p := Params{{"tp_size", "2"}, {"dtype", "bfloat16"}, {"enforce_eager", "true"}, {"frac", "0.9"}, {"code", "007"}}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	// Numbers and booleans as JSON values; "007" is not a JSON number and stays a string.
	want := `{"tp_size":2,"dtype":"bfloat16","enforce_eager":true,"frac":0.9,"code":"007"}`
	if string(b) != want {
		t.Errorf("marshal = %s, want %s", b, want)
	}
	var back Params
	if err := json.Unmarshal(b, &back); err != nil || back.String() != p.String() {
		t.Errorf("round trip = %v (%v), want %v", back, err, p)
	}
	if (Params{{"b", "1"}, {"a", "2"}}).Key() != (Params{{"a", "2"}, {"b", "1"}}).Key() {
		t.Error("Key depends on argument order")
	}
}

// FuzzParseGrid checks that any text either fails with an error or expands to the
// product of its list lengths, every combination naming the same names, and that the
// String form of each combination parses back to itself.
func FuzzParseGrid(f *testing.F) {
	for _, s := range []string{"tp_size*dp_size=[(1,4),(2,2)];max_num_seqs=[64,256]", "concurrency=[8,32];num_requests=200",
		`a="x y"`, "a=[1,2];b=[3]", "a*b=(1,2)", ";", "a=[", `a="\"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseGrid(s)
		if err != nil {
			return
		}
		if len(got) == 0 {
			t.Fatalf("ParseGrid(%q): no combination and no error", s)
		}
		for _, p := range got {
			if len(p) != len(got[0]) {
				t.Fatalf("ParseGrid(%q): combinations of different lengths %v, %v", s, got[0], p)
			}
			back, err := ParseGrid(p.String())
			if err != nil || len(back) != 1 || back[0].String() != p.String() {
				t.Fatalf("ParseGrid(%q) gave %q, which parses back to %v, %v", s, p.String(), back, err)
			}
		}
	})
}

func ExampleParseGrid() {
	grid, _ := ParseGrid("tp_size*dp_size=[(1,4),(2,2)];max_num_seqs=[64,256]")
	l := Launcher{Framework: "vllm", Model: "meta-llama/Llama-3.1-8B-Instruct"}
	for _, p := range grid {
		line, _, _ := l.Command(p, nil, 8000)
		fmt.Println(line)
	}
	// Output:
	// vllm serve meta-llama/Llama-3.1-8B-Instruct --tensor-parallel-size 1 --data-parallel-size 4 --max-num-seqs 64 --host 127.0.0.1 --port 8000
	// vllm serve meta-llama/Llama-3.1-8B-Instruct --tensor-parallel-size 1 --data-parallel-size 4 --max-num-seqs 256 --host 127.0.0.1 --port 8000
	// vllm serve meta-llama/Llama-3.1-8B-Instruct --tensor-parallel-size 2 --data-parallel-size 2 --max-num-seqs 64 --host 127.0.0.1 --port 8000
	// vllm serve meta-llama/Llama-3.1-8B-Instruct --tensor-parallel-size 2 --data-parallel-size 2 --max-num-seqs 256 --host 127.0.0.1 --port 8000
}
