package hardware

import (
	"math"
	"strings"
	"testing"
)

// TestSelectPrice checks the offer picked for each offering against data/hardware/prices.csv
// read by hand: H200 spot offers are Mithril 1.01, CoreWeave 2.6162 and AWS 3.3998 USD per
// GPU-hour, median CoreWeave 2.6162; MI325X has one on-demand offer (TensorWave 1.95); the
// H200 list price is 32000 USD, over 5 years of 8760 h = 0.7306 USD per GPU-hour.
func TestSelectPrice(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		gpu, offering string
		want          float64
		source        string
	}{
		{"h200-sxm-141gb", "spot", 2.6162, "CoreWeave"},
		{"mi325x", "on-demand", 1.95, "TensorWave"},
		{"h200-sxm-141gb", "purchase", 32000.0 / (5 * 8760), "amortised over 5 years"},
	} {
		g, err := c.Lookup(tc.gpu)
		if err != nil {
			t.Fatal(err)
		}
		p, err := SelectPrice(g, tc.offering)
		if err != nil {
			t.Fatalf("%s %s: %v", tc.gpu, tc.offering, err)
		}
		if math.Abs(p.USDPerHour-tc.want) > 1e-9 || !strings.Contains(p.Source, tc.source) || p.AsOf == "" {
			t.Errorf("%s %s: %g USD/h (%s, as of %q), want %g from %s", tc.gpu, tc.offering, p.USDPerHour, p.Source, p.AsOf, tc.want, tc.source)
		}
	}
	g, _ := c.Lookup("mi355x")
	if _, err := SelectPrice(g, "spot"); err == nil || !strings.Contains(err.Error(), "--price-per-gpu-hour") {
		t.Errorf("mi355x spot: want an error that says how to give a price, got %v", err)
	}
	if _, err := SelectPrice(g, "monthly"); err == nil || !strings.Contains(err.Error(), "allowed values") {
		t.Errorf("unknown offering: got %v", err)
	}
}

// TestPowerPrice: the default is the median of the five EIA April 2025 census-division
// prices in the file (7.37, 8.72, 9.04, 12.82, 17.29 ¢/kWh) = 9.04 ¢/kWh.
func TestPowerPrice(t *testing.T) {
	v, src := PowerPrice()
	if math.Abs(v-0.0904) > 1e-12 || !strings.Contains(src, "EIA") {
		t.Errorf("PowerPrice = %g (%s), want 0.0904 from EIA", v, src)
	}
}
