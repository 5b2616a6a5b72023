package processors

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/govlisten/govlisten/deploy"
	"github.com/govlisten/govlisten/processors/sentiment"
	"github.com/govlisten/govlisten/processors/tagger"
)

// Tagging is one compiled taxonomy and the version every row it tags
// records.
type Tagging struct {
	*tagger.Tagger
	// Version is name@content-hash: the file's base name (uk-government for
	// the built-in one) and the first 12 hex digits of the SHA-256 of its
	// contents and of the built-in sentiment model's data
	// (sentiment.Fingerprint), so two deployments with the same file and
	// release record the same version, and a new sentiment model is a new
	// version that `govlisten retag` applies.
	Version string
}

// Build compiles a taxonomy file's contents; name is for errors.
type Build func(name string, data []byte) (*tagger.Tagger, error)

// Taxonomy holds the taxonomy the processor tags with, and reloads it when
// its file changes. A file that does not compile is reported and the last
// good taxonomy stays in use, so a typo never stops tagging.
type Taxonomy struct {
	path  string // empty: the built-in taxonomy, which never changes
	build Build
	cur   atomic.Pointer[Tagging]
	stamp stamp
}

// stamp is what changes when a file is rewritten; a change of stamp makes
// Reload read and hash the file.
type stamp struct {
	size    int64
	modTime time.Time
}

// LoadTaxonomy reads and compiles the taxonomy at path, or the built-in one
// when path is empty. The error names the file and, for a rule, the rule.
func LoadTaxonomy(path string, build Build) (*Taxonomy, error) {
	t := &Taxonomy{path: path, build: build}
	if _, err := t.Reload(); err != nil {
		return nil, err
	}
	return t, nil
}

// Current returns the taxonomy in use. It is safe to call from any
// goroutine; a batch should call it once and tag every message with it.
func (t *Taxonomy) Current() *Tagging { return t.cur.Load() }

// Reload re-reads the file when it changed since the last load and swaps in
// the new taxonomy if it compiles. It reports whether the taxonomy in use
// changed. On error the taxonomy in use is kept.
func (t *Taxonomy) Reload() (bool, error) {
	name, data, st, err := t.read()
	if err != nil {
		return false, err
	}
	if data == nil {
		return false, nil // unchanged
	}
	version := Version(name, data)
	if cur := t.cur.Load(); cur != nil && cur.Version == version {
		t.stamp = st
		return false, nil
	}
	tg, err := t.build(name, data)
	if err != nil {
		if t.cur.Load() != nil {
			t.stamp = st // report a bad file once, not on every check
		}
		return false, err
	}
	t.cur.Store(&Tagging{Tagger: tg, Version: version})
	t.stamp = st
	return true, nil
}

// read returns the file's contents, or nil data when its stamp has not
// changed since the last load.
func (t *Taxonomy) read() (name string, data []byte, st stamp, err error) {
	if t.path == "" {
		if t.cur.Load() != nil {
			return "", nil, st, nil
		}
		data, err := deploy.Taxonomy.ReadFile(deploy.DefaultTaxonomy)
		return "built-in " + deploy.DefaultTaxonomy, data, st, err
	}
	fi, err := os.Stat(t.path)
	if err != nil {
		return "", nil, st, fmt.Errorf("taxonomy: %w", err)
	}
	st = stamp{size: fi.Size(), modTime: fi.ModTime()}
	if t.cur.Load() != nil && st == t.stamp {
		return "", nil, st, nil
	}
	data, err = os.ReadFile(t.path)
	if err != nil {
		return "", nil, st, fmt.Errorf("taxonomy: %w", err)
	}
	return t.path, data, st, nil
}

// Version is the version that rows tagged with the taxonomy file name
// (a path, or the built-in name) holding data record: Tagging.Version.
func Version(name string, data []byte) string {
	h := sha256.New()
	h.Write(data)
	h.Write([]byte(sentiment.Fingerprint()))
	return versionName(name) + "@" + hex.EncodeToString(h.Sum(nil))[:12]
}

// versionName is the name part of a version: the file's base name without
// its extension.
func versionName(name string) string {
	base := filepath.Base(strings.TrimPrefix(name, "built-in "))
	return strings.TrimSuffix(strings.TrimSuffix(base, ".yaml"), ".yml")
}

// Watch checks the file every interval until ctx is done, reloading it when
// it changed. It logs each reload and each failed one. Polling the file's
// size and modification time, rather than subscribing to file-system
// events, also sees the symlink swap by which Kubernetes updates a mounted
// ConfigMap and files on network mounts, at the cost of one stat a
// few seconds.
func (t *Taxonomy) Watch(ctx context.Context, interval time.Duration, log *slog.Logger) {
	if t.path == "" || interval <= 0 {
		return
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	var lastErr string
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		changed, err := t.Reload()
		switch {
		case err != nil:
			if err.Error() != lastErr { // once per distinct error, not every tick
				log.Error("taxonomy not reloaded; still tagging with the last good one", "file", t.path, "version", t.Current().Version, "err", err)
			}
			lastErr = err.Error()
		case changed:
			lastErr = ""
			log.Info("taxonomy reloaded", "file", t.path, "version", t.Current().Version)
		}
	}
}

// Compile is the Build processors use: the file parsed and compiled by
// package tagger with opts (sentiment thresholds, language detection).
func Compile(opts tagger.Options) Build {
	return func(name string, data []byte) (*tagger.Tagger, error) {
		tx, err := tagger.ParseTaxonomy(name, data)
		if err != nil {
			return nil, err
		}
		return tagger.Compile(tx, opts)
	}
}
