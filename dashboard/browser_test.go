package dashboard_test

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// chromium is Debian's browser; scripts/deps.sh installs it.
const chromium = "/usr/bin/chromium"

//go:embed testdata/a11y.js
var a11yJS string

// a11y is what testdata/a11y.js returns.
type a11y struct {
	Charts []struct {
		Name          string
		Marks         int
		Width, Height float64
		Title         string
		Table         bool
	}
	Unnamed, Unlabelled, HeadingErrors []string
	LowContrast, LowMarkContrast       []string
	Headings                           []int
	Checked                            int
}

// browserTest loads the dashboard in a real Chromium, checks that the
// charts render with accessible names and data tables, changes the
// department with the keyboard only (Tab, arrow keys, Enter) and sees the
// view follow, and checks accessibility rules in the rendered page.
func browserTest(t *testing.T, base string) {
	if _, err := os.Stat(chromium); err != nil {
		t.Fatalf("the browser test needs Debian's chromium at %s: %v\ninstall it with `apt-get install -y chromium` (`make test` does, through scripts/deps.sh)", chromium, err)
	}
	parent, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	actx, cancel := chromedp.NewExecAllocator(parent,
		chromedp.ExecPath(chromium),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 1000),
	)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()

	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/?range=7d"), chromedp.WaitVisible("h1")); err != nil {
		t.Fatalf("loading the dashboard: %v", err)
	}
	screenshot(t, ctx, "dashboard-7d.png")
	report := check(t, ctx)
	if len(report.Charts) != 4 {
		t.Errorf("%d charts, want 4 (volume, sentiment, top departments, top topics)", len(report.Charts))
	}
	for _, c := range report.Charts {
		if c.Marks == 0 || c.Width < 100 || c.Height < 50 || c.Title != c.Name || !c.Table {
			t.Errorf("chart %q: %d marks, %.0fx%.0f px, title %q, data table %v", c.Name, c.Marks, c.Width, c.Height, c.Title, c.Table)
		}
	}
	if len(report.Charts) > 0 && !strings.Contains(report.Charts[0].Name, "55 in total") {
		t.Errorf("volume chart %q, want 55 mentions in total", report.Charts[0].Name)
	}

	// Keyboard only: the first Tab reaches the skip link; Tab on to the
	// department, arrow down to Department for Work and Pensions, Tab to
	// Show, Enter.
	press(t, ctx, kb.Tab)
	if got := eval[string](t, ctx, `document.activeElement.className`); got != "skip-link" {
		t.Errorf("the first Tab focuses %q, want the skip link", got)
	}
	focus(t, ctx, "department", kb.Tab)
	if style := eval[string](t, ctx, `getComputedStyle(document.activeElement).outlineStyle`); style == "none" {
		t.Errorf("the focused select has no visible outline")
	}
	focusValue(t, ctx, "dwp", kb.ArrowDown)
	focus(t, ctx, "show", kb.Tab)
	press(t, ctx, kb.Enter)
	waitFor(t, ctx, `location.search.includes("department=dwp") && document.readyState === "complete" && !!document.querySelector("h1")`)
	if h1 := eval[string](t, ctx, `document.querySelector("h1").textContent`); h1 != "Public mentions: Department for Work and Pensions" {
		t.Errorf("after choosing the department, the heading is %q", h1)
	}
	if sel := eval[string](t, ctx, `document.getElementById("department").value`); sel != "dwp" {
		t.Errorf("the department control shows %q, want dwp", sel)
	}
	screenshot(t, ctx, "dashboard-7d-dwp.png")
	report = check(t, ctx)
	if len(report.Charts) == 0 || !strings.Contains(report.Charts[0].Name, "47 in total") {
		t.Errorf("volume chart after the filter: %+v, want 47 mentions in total", report.Charts)
	}
}

// screenshot saves the whole page as a PNG test artifact, in
// $GOVLISTEN_TEST_ARTIFACTS or else test-artifacts/ at the top of the
// repository (ignored by git), for a person to look at after a run.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("GOVLISTEN_TEST_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("..", "test-artifacts")
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // 100: PNG, not JPEG
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", path, len(png))
}

// check runs the accessibility checks in the page and fails t on any
// finding.
func check(t *testing.T, ctx context.Context) a11y {
	t.Helper()
	r := eval[a11y](t, ctx, a11yJS)
	for _, list := range []struct {
		what string
		got  []string
	}{
		{"images or charts without an accessible name", r.Unnamed},
		{"form controls without a label", r.Unlabelled},
		{"headings out of order", r.HeadingErrors},
		{"text below 4.5:1 contrast", r.LowContrast},
		{"chart marks below 3:1 contrast", r.LowMarkContrast},
	} {
		if len(list.got) > 0 {
			t.Errorf("%s: %v", list.what, list.got)
		}
	}
	if r.Checked < 50 {
		t.Errorf("contrast checked on %d elements only", r.Checked)
	}
	return r
}

func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("evaluating %.60q: %v", js, err)
	}
	return v
}

func press(t *testing.T, ctx context.Context, key string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.KeyEvent(key)); err != nil {
		t.Fatalf("pressing %q: %v", key, err)
	}
}

// focus presses key until the element with id has the focus (at most 40
// times).
func focus(t *testing.T, ctx context.Context, id, key string) {
	t.Helper()
	for range 40 {
		if eval[string](t, ctx, `document.activeElement.id`) == id {
			return
		}
		press(t, ctx, key)
	}
	t.Fatalf("%q never got the keyboard focus", id)
}

// focusValue presses key until the focused control's value is want.
func focusValue(t *testing.T, ctx context.Context, want, key string) {
	t.Helper()
	for range 40 {
		if eval[string](t, ctx, `document.activeElement.value`) == want {
			return
		}
		press(t, ctx, key)
	}
	t.Fatalf("the focused control never took the value %q", want)
}

// waitFor evaluates js until it is true; a navigation in between is
// retried. The parent context bounds it.
func waitFor(t *testing.T, ctx context.Context, js string) {
	t.Helper()
	var last error
	for ctx.Err() == nil {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js))
		if err == nil && ok {
			return
		}
		last = err
		select {
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("waiting for %s: %v", js, errors.Join(last, ctx.Err(), fmt.Errorf("gave up")))
}
