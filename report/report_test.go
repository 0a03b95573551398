package report

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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
var inputs = []struct {
	file, kind string
	plots      int // SVG plots the page must hold
}{
	{"sweep.json", KindSweep, 5},
	{"estimate.json", KindEstimate, 2},
	{"accuracy.json", KindAccuracy, 2},
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

// TestScreenshot renders each page in headless Chromium at 1200×2000 and keeps the
// screenshots in testdata/screenshot_KIND.png; each must be a PNG of that size that is not
// blank (enough non-white pixels and colours: the plots drew).
func TestScreenshot(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: no browser")
	}
	bin := chromium(t)
	dir := t.TempDir()
	for _, in := range inputs {
		var b bytes.Buffer
		if _, err := Render(&b, read(t, in.file)); err != nil {
			t.Fatal(err)
		}
		page := filepath.Join(dir, in.kind+".html")
		if err := os.WriteFile(page, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		shot, err := filepath.Abs(filepath.Join("testdata", "screenshot_"+in.kind+".png"))
		if err != nil {
			t.Fatal(err)
		}
		os.Remove(shot)
		cmd := exec.Command(bin, "--headless", "--disable-gpu", "--no-sandbox", "--hide-scrollbars",
			"--user-data-dir="+filepath.Join(dir, "profile-"+in.kind), "--screenshot="+shot, "--window-size=1200,2000", "file://"+page)
		done := make(chan error, 1)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Skipf("cannot start %s: %v", bin, err)
		}
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("%s: %v\n%s", bin, err, stderr.String())
			}
		case <-time.After(60 * time.Second):
			cmd.Process.Kill()
			t.Fatalf("%s did not finish in 60 s", bin)
		}
		checkPNG(t, shot)
	}
}

func checkPNG(t *testing.T, path string) {
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
	if b := img.Bounds(); b.Dx() != 1200 || b.Dy() != 2000 {
		t.Errorf("%s: %v, want 1200×2000", path, b)
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
