package hardware

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
)

// Offer is one public price for a GPU from data/hardware/prices.csv: a rental per
// GPU-hour (on-demand, spot, serverless) or a list purchase price, with its date and source.
type Offer struct {
	Provider    string
	Offering    string  // on-demand, spot, serverless or purchase
	USDPerHour  float64 // per GPU-hour; 0 for a purchase price
	USDPurchase float64 // per GPU; 0 for a rental
	AsOf        string
	URL         string
	Note        string
}

// Offerings are the values --price-offering accepts.
var Offerings = []string{"on-demand", "reserved", "spot", "purchase"}

// AmortisationYears is the straight-line life over which a purchase price becomes a cost
// per GPU-hour: 5 years, the server useful life Amazon states in its 2024 10-K (Microsoft
// and Alphabet state 6 years); power and hosting are extra (see PowerPrice).
const AmortisationYears = 5.0

const pricesFile = "hardware/prices.csv"

var (
	offersByGPU  map[string][]Offer
	powerPrices  []Offer // rows for every GPU: electricity prices, USD per kWh in USDPerHour
	pricesErrVal error
)

func init() { offersByGPU, powerPrices, pricesErrVal = parsePrices(mustRead(pricesFile)) }

// PricesError reports a broken embedded prices table (nil normally).
func PricesError() error { return pricesErrVal }

// parsePrices reads the prices CSV (columns gpu, provider, offering, usd_per_gpu_hour,
// usd_purchase, power_w, usd_per_kwh, as_of, url, note).
func parsePrices(b []byte) (map[string][]Offer, []Offer, error) {
	r := csv.NewReader(bytes.NewReader(b))
	head, err := r.Read()
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", pricesFile, err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[h] = i
	}
	for _, k := range []string{"gpu", "provider", "offering", "usd_per_gpu_hour", "usd_purchase", "usd_per_kwh", "as_of", "url", "note"} {
		if _, ok := col[k]; !ok {
			return nil, nil, fmt.Errorf("%s: missing column %s", pricesFile, k)
		}
	}
	num := func(s string, line int, name string) (float64, error) {
		if strings.TrimSpace(s) == "" {
			return 0, nil
		}
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || v < 0 {
			return 0, fmt.Errorf("%s line %d: %s %q: want a number ≥ 0", pricesFile, line, name, s)
		}
		return v, nil
	}
	out := map[string][]Offer{}
	var power []Offer
	for line := 2; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", pricesFile, err)
		}
		hour, err := num(rec[col["usd_per_gpu_hour"]], line, "usd_per_gpu_hour")
		if err != nil {
			return nil, nil, err
		}
		buy, err := num(rec[col["usd_purchase"]], line, "usd_purchase")
		if err != nil {
			return nil, nil, err
		}
		kwh, err := num(rec[col["usd_per_kwh"]], line, "usd_per_kwh")
		if err != nil {
			return nil, nil, err
		}
		o := Offer{Provider: rec[col["provider"]], Offering: rec[col["offering"]], USDPerHour: hour, USDPurchase: buy,
			AsOf: rec[col["as_of"]], URL: rec[col["url"]], Note: rec[col["note"]]}
		switch {
		case o.Offering == "power (electricity price)":
			o.USDPerHour = kwh
			power = append(power, o)
		case o.Offering == "list purchase price" && buy > 0 && rec[col["gpu"]] != "gb200-per-gpu":
			// (the GB200 row prices a whole NVL72 rack with its CPUs and switches: not per GPU)
			o.Offering = "purchase"
			out[rec[col["gpu"]]] = append(out[rec[col["gpu"]]], o)
		case (o.Offering == "on-demand" || o.Offering == "spot" || o.Offering == "reserved") && hour > 0:
			out[rec[col["gpu"]]] = append(out[rec[col["gpu"]]], o)
		}
	}
	return out, power, nil
}

// Offers returns the public prices of a GPU (by catalogue id), in file order.
func (g *GPU) Offers() []Offer { return offersByGPU[g.ID] }

// Price is the price a cost is computed with: USD per GPU-hour and where it came from.
type Price struct {
	USDPerHour float64
	Offering   string
	// Source cites the provider, page and date (or the rule: median of N offers).
	Source string
	AsOf   string
}

// SelectPrice returns the price of one offering for a GPU: for on-demand the catalogue's
// own price when it has one, else the median of the public on-demand offers; for spot and
// reserved the median offer; for purchase the median list price amortised straight-line
// over AmortisationYears (8760 h a year, power not included). The median of an even
// count is the lower of the middle two, so the price is always one real, dated offer.
// A GPU without a price for the offering is an error that says how to give one.
func SelectPrice(g *GPU, offering string) (Price, error) {
	switch offering {
	case "", "on-demand":
		offering = "on-demand"
		if g.PriceUSDPerHour > 0 {
			return Price{USDPerHour: g.PriceUSDPerHour, Offering: offering, AsOf: g.PriceAsOf,
				Source: fmt.Sprintf("catalogue: %s, as of %s (on-demand)", gpuJoin(", ", g.PriceProvider, g.PriceSource), g.PriceAsOf)}, nil
		}
	case "spot", "reserved", "purchase":
	default:
		return Price{}, fmt.Errorf("--price-offering %q: allowed values are %s", offering, strings.Join(Offerings, ", "))
	}
	o, n := medianOffer(g, offering)
	if n == 0 {
		return Price{}, fmt.Errorf("%s: no %s price (give one with --price-per-gpu-hour USD, or price_usd_per_hour in a --gpu-file)", g.ID, offering)
	}
	src := fmt.Sprintf("%s %s, %s, as of %s (median of %d public %s offers in data/hardware/prices.csv)", o.Provider, offering, o.URL, o.AsOf, n, offering)
	if offering == "purchase" {
		return Price{USDPerHour: o.USDPurchase / (AmortisationYears * 8760), Offering: offering, AsOf: o.AsOf,
			Source: fmt.Sprintf("list price %.0f USD amortised over %g years (power not included): %s", o.USDPurchase, AmortisationYears, src)}, nil
	}
	return Price{USDPerHour: o.USDPerHour, Offering: offering, AsOf: o.AsOf, Source: src}, nil
}

// medianOffer returns the median offer of one offering (the lower middle one for an even
// count) and the number of offers.
func medianOffer(g *GPU, offering string) (Offer, int) {
	var offers []Offer
	for _, o := range g.Offers() {
		if o.Offering == offering {
			offers = append(offers, o)
		}
	}
	if len(offers) == 0 {
		return Offer{}, 0
	}
	val := func(o Offer) float64 {
		if offering == "purchase" {
			return o.USDPurchase
		}
		return o.USDPerHour
	}
	sort.SliceStable(offers, func(i, j int) bool { return val(offers[i]) < val(offers[j]) })
	return offers[(len(offers)-1)/2], len(offers)
}

// PowerPrice is the default electricity price, USD per kWh, with its source: the median of
// the US EIA census-division retail prices in data/hardware/prices.csv.
func PowerPrice() (usdPerKWh float64, source string) {
	if len(powerPrices) == 0 {
		return 0, ""
	}
	ps := append([]Offer(nil), powerPrices...)
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].USDPerHour < ps[j].USDPerHour })
	o := ps[(len(ps)-1)/2]
	note, _, _ := strings.Cut(o.Note, "; ")
	return o.USDPerHour, fmt.Sprintf("%s, %s, as of %s (median of %d EIA prices: %s)", o.Provider, o.URL, o.AsOf, len(ps), note)
}

// gpuJoin joins the non-empty parts with sep.
func gpuJoin(sep string, parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, sep)
}
