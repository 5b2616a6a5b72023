package processors_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/govlisten/govlisten/processors"
	"github.com/govlisten/govlisten/processors/tagger"
)

const taxonomyV1 = `version: 1
departments:
  - slug: dwp
    name: Department for Work and Pensions
    rules: ['"universal credit"']
topics: []
`

const taxonomyV2 = `version: 1
departments:
  - slug: dwp
    name: Department for Work and Pensions
    rules: ['"universal credit"']
  - slug: hmrc
    name: HM Revenue and Customs
    rules: [HMRC]
topics: []
`

const taxonomyBroken = `version: 1
departments:
  - slug: dwp
    name: Department for Work and Pensions
    rules: ['"universal credit']
topics: []
`

// write replaces the file at once, as editors and Kubernetes do (a write
// in place could be read half-done by a concurrent check).
func write(t *testing.T, path, data string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func depts(tax *processors.Taxonomy, text string) string {
	d, _, _ := tax.Current().Match(text)
	return strings.Join(d, ",")
}

// A changed file is picked up, a broken one is refused with the rule named
// and the last good taxonomy stays in use, and an unchanged one changes
// nothing. The version names the file and its content.
func TestTaxonomyReload(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mine.yaml")
	write(t, path, taxonomyV1)
	tax, err := processors.LoadTaxonomy(path, processors.Compile(tagger.Options{}))
	if err != nil {
		t.Fatal(err)
	}
	v1 := tax.Current().Version
	if !strings.HasPrefix(v1, "mine@") || len(v1) != len("mine@")+12 {
		t.Fatalf("version %q, want mine@ and 12 hex digits", v1)
	}
	const text = "HMRC and universal credit both lost my forms"
	if got := depts(tax, text); got != "dwp" {
		t.Fatalf("v1 tags %q, want dwp", got)
	}

	write(t, path, taxonomyV2)
	if changed, err := tax.Reload(); err != nil || !changed {
		t.Fatalf("reload of a changed file: changed %v, err %v", changed, err)
	}
	v2 := tax.Current().Version
	if v2 == v1 || depts(tax, text) != "dwp,hmrc" {
		t.Fatalf("after reload: version %q (was %q), tags %q", v2, v1, depts(tax, text))
	}

	write(t, path, taxonomyBroken)
	changed, err := tax.Reload()
	if err == nil || changed {
		t.Fatalf("reload of a broken file: changed %v, err %v", changed, err)
	}
	if !strings.Contains(err.Error(), "dwp") {
		t.Fatalf("error %q does not name the category of the broken rule", err)
	}
	if tax.Current().Version != v2 || depts(tax, text) != "dwp,hmrc" {
		t.Fatalf("a broken file replaced the taxonomy in use")
	}

	// Back to v2's content: same version, whatever the file's timestamp.
	write(t, path, taxonomyV2)
	if changed, err := tax.Reload(); err != nil || changed {
		t.Fatalf("reload of v2 again: changed %v, err %v", changed, err)
	}
	if tax.Current().Version != v2 {
		t.Fatalf("same content, new version %q", tax.Current().Version)
	}
}

// Watch reloads by itself, logs the reload, and logs a broken file once.
func TestTaxonomyWatch(t *testing.T) {
	path := filepath.Join(t.TempDir(), "watched.yaml")
	write(t, path, taxonomyV1)
	tax, err := processors.LoadTaxonomy(path, processors.Compile(tagger.Options{}))
	if err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		tax.Watch(ctx, 10*time.Millisecond, slog.New(slog.NewTextHandler(&logs, nil)))
	}()
	defer func() { cancel(); <-done }()

	v1 := tax.Current().Version
	write(t, path, taxonomyV2)
	waitFor(t, func() bool { return tax.Current().Version != v1 }, "the changed file to be loaded")
	write(t, path, taxonomyBroken)
	waitFor(t, func() bool { return strings.Contains(logs.String(), "taxonomy not reloaded") }, "the broken file to be reported")
	time.Sleep(50 * time.Millisecond) // several more checks
	if n := strings.Count(logs.String(), "taxonomy not reloaded"); n != 1 {
		t.Fatalf("broken file reported %d times, want once:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), "taxonomy reloaded") {
		t.Fatalf("reload not logged:\n%s", logs.String())
	}
}

// The built-in taxonomy is versioned by its name and content.
func TestTaxonomyBuiltIn(t *testing.T) {
	tax, err := processors.LoadTaxonomy("", processors.Compile(tagger.Options{}))
	if err != nil {
		t.Fatal(err)
	}
	if v := tax.Current().Version; !strings.HasPrefix(v, "uk-government@") {
		t.Fatalf("built-in version %q", v)
	}
	if changed, err := tax.Reload(); changed || err != nil {
		t.Fatalf("built-in reload: changed %v, err %v", changed, err)
	}
}

func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// syncBuffer is a bytes.Buffer safe for the logger's goroutine and the test's.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
