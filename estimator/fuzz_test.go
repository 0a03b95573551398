package estimator

import "testing"

// FuzzParseProfile: any input either decodes into a valid profile or returns an error; never a panic.
func FuzzParseProfile(f *testing.F) {
	for _, n := range EngineNames() {
		b, _ := profileBytes(n)
		f.Add(b)
	}
	f.Add([]byte("name = \"x\"\ngemm_efficiency = 2.5\n"))
	f.Add([]byte("[sources]\n"))
	f.Add([]byte("memory_model = 3"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParseProfile("fuzz.toml", b)
		if err == nil {
			if p == nil {
				t.Fatal("nil profile without error")
			}
			if err := p.Validate(); err != nil {
				t.Fatalf("accepted profile does not validate: %v", err)
			}
		}
	})
}
