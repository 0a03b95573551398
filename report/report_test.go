package report

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"html"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// The inputs are real outputs of the CLI (regenerate with roofline sweep/estimate/accuracy
// --output json; accuracy.json keeps a sample of the rows):
//
//	sweep.json: roofline sweep --model meta-llama/Llama-3.1-70B-Instruct --gpus H100,H200,A100,L40S
//	  --num-gpus 1,2,4,8 --weight-dtype bf16,fp8 --max-num-seqs 64,256 --input-len 1000 --output-len 200
//	  --concurrency 1-256 --constraint 'ttft:p95<500ms' --constraint 'itl:p99<50ms' --top 12 --output json
//	estimate.json: roofline estimate --model meta-llama/Llama-3.1-8B-Instruct --gpu H100 --input-len 1000
//	  --output-len 200 --concurrency 32 --output json
//
// and, for the page kinds added later (real CLI outputs as well):
//
//	plan.json: roofline plan --model meta-llama/Llama-3.1-8B-Instruct --target-rate 20 --input-len 1000
//	  --output-len 200 --gpus H100,A100,L40S -o json
//	compare.json: roofline compare --result ../bench/testdata/import/sglang_0801_200_1024_256.jsonl
//	  --model meta-llama/Llama-3.1-8B-Instruct --gpu H100 -o json (two benchmarks)
//	validate.json, bench.json: roofline validate / bench against roofline serve-sim --model
//	  meta-llama/Llama-3.1-8B-Instruct --gpu H100, --concurrency 4 --num-requests 40 --input-len 256
//	  --output-len 64 -o json
//	import_sglang.json: roofline import ../bench/testdata/import/sglang_0801_200_1024_256.jsonl -o json
//	sweep_run_results.jsonl: roofline sweep --run --server-cmd "roofline serve-sim --model
//	  meta-llama/Llama-3.1-8B-Instruct --gpu H100 --port {port} --max-num-seqs {max_num_seqs}"
//	  --server-args "max_num_seqs=[8,64]" --client-args "concurrency=[2,8]" --model
//	  meta-llama/Llama-3.1-8B-Instruct --gpus H100 --input-len 128 --output-len 32 --num-requests 20
var inputs = []struct {
	file, kind string
	plots      int // SVG plots the page must hold
}{
	{"sweep.json", KindSweep, 5},
	{"estimate.json", KindEstimate, 2},
	{"accuracy.json", KindAccuracy, 2},
	{"plan.json", KindPlan, 1},
	{"compare.json", KindCompare, 2},
	{"validate.json", KindValidate, 2},
	{"bench.json", KindBench, 2},
	{"import_sglang.json", KindBench, 1},
	{"sweep_run_results.jsonl", KindSweepRun, 1},
}

func read(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDetect(t *testing.T) {
	for _, in := range inputs {
		if k, err := Detect(read(t, in.file)); k != in.kind || err != nil {
			t.Errorf("%s: kind %q, %v; want %s", in.file, k, err, in.kind)
		}
	}
	for _, bad := range []string{"", "[]", `{"a":1}`, "{"} {
		if _, err := Detect([]byte(bad)); err == nil {
			t.Errorf("Detect(%q) accepted", bad)
		}
	}
}

// TestRender checks each page is self-contained: its plots are inline SVG, and nothing is
// loaded from elsewhere (no scripts, no external sources).
func TestRender(t *testing.T) {
	for _, in := range inputs {
		var b bytes.Buffer
		kind, err := Render(&b, read(t, in.file))
		if err != nil || kind != in.kind {
			t.Fatalf("%s: %s, %v", in.file, kind, err)
		}
		h := b.String()
		if n := strings.Count(h, "<svg"); n != in.plots {
			t.Errorf("%s: %d SVG plots, want %d", in.file, n, in.plots)
		}
		for _, bad := range []string{"<script", `src="http`, `href="http`, "<?xml", "<link"} {
			if strings.Contains(h, bad) {
				t.Errorf("%s: page contains %q", in.file, bad)
			}
		}
		if !strings.HasPrefix(h, "<!DOCTYPE html>") || !strings.Contains(h, "</html>") {
			t.Errorf("%s: not a whole HTML page", in.file)
		}
	}
	if _, err := Render(&bytes.Buffer{}, []byte(`{"evaluated": "many", "configs": 3}`)); err == nil {
		t.Error("a malformed sweep rendered")
	}
}

// chromium finds headless Chromium: $ROOFLINE_CHROMIUM, then PATH, then the CI install
// script (which installs the Debian package with apt-get when it can).
func chromium(t *testing.T) string {
	if p := os.Getenv("ROOFLINE_CHROMIUM"); p != "" {
		return p
	}
	for _, n := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	out, err := exec.Command("bash", filepath.Join("..", ".ci", "chromium.sh")).Output()
	lines := strings.Fields(string(out))
	if err != nil || len(lines) == 0 {
		t.Skipf("headless Chromium is not installed and .ci/chromium.sh could not install it (%v): the HTML report was not rendered in a browser", err)
	}
	return lines[len(lines)-1]
}

var screenshots = flag.Bool("screenshots", false, "render the screenshots in testdata/ again with headless Chromium")

// TestScreenshot checks the screenshots kept in testdata/screenshot_KIND_WIDTH.png (every
// page at 1400 and 390 px wide): each must be a PNG of that size that is not blank (enough
// non-white pixels and colours: the plots drew). With -screenshots they are rendered again
// in headless Chromium first (about a minute; TestLayoutInBrowser checks the layout in
// the browser on every run).
func TestScreenshot(t *testing.T) {
	if !*screenshots {
		for _, in := range inputs {
			name := strings.TrimSuffix(strings.TrimSuffix(in.file, ".json"), ".jsonl")
			for _, width := range []int{1400, 390} {
				checkPNG(t, filepath.Join("testdata", fmt.Sprintf("screenshot_%s_%d.png", name, width)), width, 1600)
			}
		}
		return
	}
	bin := chromium(t)
	dir := t.TempDir()
	type job struct {
		page, shot, profile string
		width               int
	}
	var jobs []job
	for _, in := range inputs {
		var b bytes.Buffer
		if _, err := Render(&b, read(t, in.file)); err != nil {
			t.Fatal(err)
		}
		name := strings.TrimSuffix(strings.TrimSuffix(in.file, ".json"), ".jsonl")
		page := filepath.Join(dir, name+".html")
		if err := os.WriteFile(page, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, width := range []int{1400, 390} {
			shot, err := filepath.Abs(filepath.Join("testdata", fmt.Sprintf("screenshot_%s_%d.png", name, width)))
			if err != nil {
				t.Fatal(err)
			}
			os.Remove(shot)
			jobs = append(jobs, job{page, shot, filepath.Join(dir, fmt.Sprintf("profile-%s-%d", name, width)), width})
		}
	}
	sem := make(chan struct{}, 3)
	errs := make([]error, len(jobs))
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			_, errs[i] = runChromium(bin, "--user-data-dir="+j.profile, "--screenshot="+j.shot, fmt.Sprintf("--window-size=%d,1600", j.width), "file://"+j.page)
		}()
	}
	wg.Wait()
	for i, j := range jobs {
		if errs[i] != nil {
			t.Fatalf("%s: %v", j.shot, errs[i])
		}
		checkPNG(t, j.shot, j.width, 1600)
	}
}

// runChromium runs headless Chromium with args (90 s at most) and returns its stdout.
func runChromium(bin string, args ...string) (string, error) {
	cmd := exec.Command(bin, append([]string{"--headless", "--disable-gpu", "--no-sandbox", "--hide-scrollbars"}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		return "", err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			return "", fmt.Errorf("%v\n%s", err, stderr.String())
		}
	case <-time.After(90 * time.Second):
		cmd.Process.Kill()
		return "", fmt.Errorf("did not finish in 90 s")
	}
	return stdout.String(), nil
}

// layoutCheck runs in the browser over every page (each in an iframe of the width under
// test) and reports, per page, the horizontal overflow of the document (px; > 0 means the
// page scrolls sideways) and every text drawn smaller than 10 px: HTML text at its computed
// font size, SVG text at its font size times the scale the SVG is drawn at.
const layoutCheck = `window.addEventListener("load", function () {
  var res = [];
  document.querySelectorAll("iframe").forEach(function (f) {
    var d = f.contentDocument, w = f.contentWindow, small = [];
    d.querySelectorAll("*").forEach(function (el) {
      var text = false;
      el.childNodes.forEach(function (n) { if (n.nodeType === 3 && n.textContent.trim() !== "") text = true; });
      if (!text || el.tagName === "STYLE" || el.tagName === "TITLE") return;
      var px = parseFloat(w.getComputedStyle(el).fontSize);
      if (el instanceof w.SVGElement && el.getScreenCTM()) { var m = el.getScreenCTM(); px *= Math.hypot(m.a, m.b); }
      if (px < 10) small.push(el.tagName + " " + px.toFixed(1) + "px " + JSON.stringify(el.textContent.trim().slice(0, 30)));
    });
    res.push({page: f.getAttribute("data-page"), width: w.innerWidth,
      overflow: d.documentElement.scrollWidth - d.documentElement.clientWidth, small: small});
  });
  var pre = document.createElement("pre");
  pre.id = "layout-check";
  pre.textContent = JSON.stringify(res);
  document.body.appendChild(pre);
});`

// TestLayoutInBrowser renders every page kind in headless Chromium at 1400 px and at 390
// px (a phone) and checks that no page overflows sideways (tables scroll inside their own
// box) and that no text, HTML or in a plot, is drawn under 10 px.
func TestLayoutInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: no browser")
	}
	bin := chromium(t)
	var host strings.Builder
	host.WriteString("<!DOCTYPE html><html><body>")
	for _, in := range inputs {
		var b bytes.Buffer
		if _, err := Render(&b, read(t, in.file)); err != nil {
			t.Fatal(err)
		}
		for _, width := range []int{1400, 390} {
			fmt.Fprintf(&host, `<iframe data-page="%s" width="%d" height="900" srcdoc="%s"></iframe>`, in.file, width, html.EscapeString(b.String()))
		}
	}
	host.WriteString("<script>" + layoutCheck + "</script></body></html>")
	dir := t.TempDir()
	page := filepath.Join(dir, "host.html")
	if err := os.WriteFile(page, []byte(host.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := runChromium(bin, "--user-data-dir="+filepath.Join(dir, "profile"), "--virtual-time-budget=10000", "--window-size=1500,1000", "--dump-dom", "file://"+page)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`<pre id="layout-check">(.*?)</pre>`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("the check did not run in the browser:\n%.2000s", out)
	}
	var res []struct {
		Page     string
		Width    int
		Overflow float64
		Small    []string
	}
	if err := json.Unmarshal([]byte(html.UnescapeString(m[1])), &res); err != nil {
		t.Fatal(err)
	}
	if len(res) != 2*len(inputs) {
		t.Fatalf("%d pages checked, want %d", len(res), 2*len(inputs))
	}
	for _, r := range res {
		if r.Overflow > 0 {
			t.Errorf("%s at %d px: the page is %g px wider than the screen", r.Page, r.Width, r.Overflow)
		}
		if len(r.Small) > 0 {
			t.Errorf("%s at %d px: %d texts under 10 px, e.g. %v", r.Page, r.Width, len(r.Small), r.Small[:min(3, len(r.Small))])
		}
	}
}

func checkPNG(t *testing.T, path string, w, h int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if b := img.Bounds(); b.Dx() != w || b.Dy() != h {
		t.Errorf("%s: %v, want %d×%d", path, b, w, h)
	}
	inked, colours := ink(img)
	// A blank page is all white; a page with its plots has several per cent of drawn pixels
	// and many colours (lines, markers, antialiasing).
	if inked < 0.02 || colours < 50 {
		t.Errorf("%s looks blank: %.1f%% non-white pixels, %d colours", path, 100*inked, colours)
	}
}

func ink(img image.Image) (frac float64, colours int) {
	b := img.Bounds()
	seen := map[uint32]bool{}
	n := 0
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, _ := img.At(x, y).RGBA()
			if r < 0xf000 || g < 0xf000 || bl < 0xf000 {
				n++
			}
			seen[(r>>11)<<10|(g>>11)<<5|bl>>11] = true
		}
	}
	return float64(n) / float64(b.Dx()*b.Dy()/4), len(seen)
}
