package hardware_test

import (
	"bytes"
	"strings"
	"testing"

	"roofline/hardware"
)

// TestWriteTableUnknownValues: a GPU with only memory and bandwidth prints "-" for every
// figure the catalogue does not hold, never 0 (the datasheet entry below is made up and
// gives memory, bandwidth and the required BF16 peak only).
func TestWriteTableUnknownValues(t *testing.T) {
	cat, err := hardware.Load()
	if err != nil {
		t.Fatal(err)
	}
	if err := cat.AddTOML("x.toml", []byte("[[gpu]]\nid = \"x1\"\nvendor = \"Example\"\nmemory_gb = 96\nmemory_bandwidth_tbps = 2.5\nbf16_tflops_dense = 400\n")); err != nil {
		t.Fatal(err)
	}
	g, err := cat.Lookup("x1")
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := hardware.WriteTable(&b, []*hardware.GPU{g}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(b.String(), "\n")
	row := strings.Fields(lines[1])
	// id, vendor, "96.0 GB", "2.50 TB/s", "400 TFLOP/s", then fp8, link, TDP, price: unknown.
	want := []string{"x1", "Example", "96.0", "GB", "2.50", "TB/s", "400", "TFLOP/s", "-", "-", "-", "-"}
	if strings.Join(row, " ") != strings.Join(want, " ") {
		t.Errorf("row = %q, want %q", row, want)
	}
	if !strings.Contains(b.String(), "\n1 GPUs.") {
		t.Errorf("no count line in %q", b.String())
	}
	b.Reset()
	if err := hardware.WriteGPU(&b, g); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"scale-up link     none\n", "TDP               -\n", "price             unknown (set price_usd_per_hour in a --gpu-file)\n"} {
		if !strings.Contains(b.String(), s) {
			t.Errorf("WriteGPU: no %q in\n%s", s, b.String())
		}
	}
}

// TestPick: aliases of one GPU count once, in the order first named; "all" is the whole
// catalogue; an empty list and an unknown name are errors.
func TestPick(t *testing.T) {
	cat, err := hardware.Load()
	if err != nil {
		t.Fatal(err)
	}
	gs, err := cat.Pick("H100, h100 sxm,H200")
	if err != nil || len(gs) != 2 || gs[0].ID != "h100-sxm5-80gb" || gs[1].ID != "h200-sxm-141gb" {
		t.Errorf("Pick: %v, %v; want h100-sxm5-80gb, h200-sxm-141gb", gs, err)
	}
	if all, err := cat.Pick(" ALL "); err != nil || len(all) != cat.Len() {
		t.Errorf("Pick(all): %d GPUs, %v; want %d", len(all), err, cat.Len())
	}
	for _, bad := range []string{",", "H10"} {
		if _, err := cat.Pick(bad); err == nil {
			t.Errorf("Pick(%q): no error", bad)
		}
	}
}
