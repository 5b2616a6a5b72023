package privacy

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/govlisten/govlisten/config"
	"github.com/govlisten/govlisten/mention"
)

var (
	keyA = []byte("0123456789abcdef0123456789abcdef-key-A")
	keyB = []byte("0123456789abcdef0123456789abcdef-key-B")
)

func mustNew(t *testing.T, key []byte) *Pseudonymiser {
	t.Helper()
	p, err := New(key)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestAuthorIsKeyedDeterministicAndNormalised(t *testing.T) {
	a, b := mustNew(t, keyA), mustNew(t, keyA)
	got := a.Author("@Foo")
	if !IsPseudonym(got) || !strings.HasPrefix(got, "p_") || len(got) != 22 {
		t.Fatalf("Author(@Foo) = %q, want p_ and 20 base32 characters", got)
	}
	for _, same := range []string{"foo", "FOO", " @foo ", "@FOO"} {
		if s := b.Author(same); s != got {
			t.Errorf("Author(%q) = %q, want %q (same author)", same, s, got)
		}
	}
	if a.Author("bar") == got {
		t.Error("different authors share a pseudonym")
	}
	if other := mustNew(t, keyB).Author("@Foo"); other == got {
		t.Error("different keys give the same pseudonym")
	}
	if a.Author(got) != got {
		t.Error("Author of a pseudonym is not the pseudonym itself")
	}
	if a.Author("") != "" || a.Author("@") != "" {
		t.Error("empty author is not empty")
	}
	var off *Pseudonymiser
	if off.Author("Foo") != "Foo" {
		t.Error("nil Pseudonymiser changed an author")
	}
}

func TestKeyIsRequired(t *testing.T) {
	if _, err := New([]byte("short-secret-value")); err == nil || strings.Contains(err.Error(), "short-secret-value") {
		t.Fatalf("New(short key) = %v; want an error that does not show the key", err)
	}
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	cfg := config.Default().Privacy

	p, err := Load(cfg, getenv)
	if p != nil || err != nil {
		t.Fatalf("pseudonymise off: Load = %v, %v; want nil, nil", p, err)
	}
	cfg.Pseudonymise = true
	if _, err := Load(cfg, getenv); !errors.Is(err, ErrNoKey) || !strings.Contains(err.Error(), "GOVLISTEN_PRIVACY_KEY") {
		t.Fatalf("no key: Load error = %v; want ErrNoKey naming GOVLISTEN_PRIVACY_KEY", err)
	}
	env["GOVLISTEN_PRIVACY_KEY"] = "too-short-but-secret"
	if _, err := Load(cfg, getenv); err == nil || strings.Contains(err.Error(), "too-short-but-secret") {
		t.Fatalf("short key: Load error = %v; want one that does not show the key", err)
	}
	env["GOVLISTEN_PRIVACY_KEY"] = string(keyA)
	p, err = Load(cfg, getenv)
	if err != nil || p.Author("x") != mustNew(t, keyA).Author("x") {
		t.Fatalf("key from the environment: %v", err)
	}
	delete(env, "GOVLISTEN_PRIVACY_KEY")
	file := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(file, append(keyB, '\n'), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.KeyFile = file
	p, err = Load(cfg, getenv)
	if err != nil || p.Author("x") != mustNew(t, keyB).Author("x") {
		t.Fatalf("key from a file: %v", err)
	}
	cfg.KeyFile = filepath.Join(t.TempDir(), "missing")
	if _, err := Load(cfg, getenv); err == nil {
		t.Fatal("missing key file: no error")
	}
}

// Raw documents in the platforms' real shapes (see collectors/*/testdata).
const (
	xRaw = `{"id":"1893456789012345679","text":"@acme your new release broke my build <3 & more","author_id":"2904417781",` +
		`"created_at":"2025-06-02T09:14:07.000Z","conversation_id":"1893456789012345679","lang":"en",` +
		`"public_metrics":{"retweet_count":0,"reply_count":1,"like_count":3,"quote_count":0,"impression_count":212},` +
		`"entities":{"mentions":[{"start":0,"end":5,"username":"acme","id":"1100220033"}]},` +
		`"author":{"id":"2904417781","name":"Dana K","username":"danak_builds","description":"builds things in Leeds","location":"Leeds"},` +
		`"expanded_url":"https://x.com/danak_builds/status/1893456789012345679"}`
	ytRaw = `{"kind":"youtube#commentThread","id":"UgyThread","snippet":{"channelId":"UCdept","videoId":"vid1",` +
		`"topLevelComment":{"kind":"youtube#comment","id":"UgyThread","snippet":{"textOriginal":"Waiting 3 weeks @DWPgovuk",` +
		`"authorDisplayName":"@RhysDavies7","authorProfileImageUrl":"https://yt3.ggpht.com/rhys.jpg",` +
		`"authorChannelUrl":"http://www.youtube.com/@RhysDavies7","authorChannelId":{"value":"UCrhys0000000000000001"},` +
		`"likeCount":5,"publishedAt":"2026-11-02T09:10:00Z"}},"totalReplyCount":1},` +
		`"replies":{"comments":[{"kind":"youtube#comment","id":"UgyThread.r1","snippet":{"textOriginal":"same here",` +
		`"parentId":"UgyThread","authorDisplayName":"Megan Price","authorProfileImageUrl":"https://yt3.ggpht.com/megan.jpg",` +
		`"authorChannelUrl":"http://www.youtube.com/channel/UCmegan000000000000001","authorChannelId":{"value":"UCmegan000000000000001"},` +
		`"publishedAt":"2026-11-02T09:11:00Z"}}]}}`
	fbRaw = `{"id":"100000000000001_9007199254740993","message":"Waited 3 hours on the helpline","created_time":"2025-06-03T07:41:09+0000",` +
		`"permalink_url":"https://www.facebook.com/5550001112223/posts/9007199254740993","from":{"id":"5550001112223","name":"Priya N",` +
		`"picture":{"data":{"url":"https://scontent/priya.jpg"}}},"comments":{"data":[{"id":"c1","message":"me too",` +
		`"from":{"id":"5550001112224","name":"Gareth Jones"}}],"summary":{"total_count":1}}}`
)

func sample(platform string) *mention.Mention {
	m := &mention.Mention{V: 1, Platform: platform, Kind: mention.KindPost,
		CreatedAt: time.Date(2026, 11, 2, 9, 10, 0, 0, time.UTC), CollectedAt: time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)}
	switch platform {
	case mention.Twitter:
		m.ID, m.AuthorID, m.AuthorHandle, m.AuthorName = "1893456789012345679", "2904417781", "danak_builds", "Dana K"
		m.Text, m.URL, m.Raw = "@acme your new release broke my build <3 & more", "https://x.com/danak_builds/status/1893456789012345679", json.RawMessage(xRaw)
	case mention.YouTube:
		m.ID, m.Kind, m.AuthorID, m.AuthorHandle, m.AuthorName = "UgyThread", mention.KindComment, "UCrhys0000000000000001", "@RhysDavies7", "@RhysDavies7"
		m.Text, m.URL, m.Raw = "Waiting 3 weeks @DWPgovuk", "https://www.youtube.com/watch?v=vid1&lc=UgyThread", json.RawMessage(ytRaw)
	case mention.Facebook:
		m.ID, m.AuthorID, m.AuthorName = "100000000000001_9007199254740993", "5550001112223", "Priya N"
		m.Text, m.URL, m.Raw = "Waited 3 hours on the helpline", "https://www.facebook.com/5550001112223/posts/9007199254740993", json.RawMessage(fbRaw)
	}
	return m
}

// leaks lists which of the identifying strings s still contains.
func leaks(s string, secrets ...string) []string {
	var out []string
	for _, x := range secrets {
		if strings.Contains(strings.ToLower(s), strings.ToLower(x)) {
			out = append(out, x)
		}
	}
	return out
}

func TestApply(t *testing.T) {
	p := mustNew(t, keyA)
	for _, tc := range []struct {
		platform string
		secrets  []string // must be gone from the whole record
		kept     []string // must still be in raw
		url      string
	}{
		{mention.Twitter, []string{"2904417781", "danak_builds", "Dana K", "Leeds"}, []string{`"username":"acme"`, "<3 & more", "1100220033"},
			"https://x.com/i/web/status/1893456789012345679"},
		{mention.YouTube, []string{"UCrhys0000000000000001", "RhysDavies7", "rhys.jpg", "UCmegan000000000000001", "Megan Price", "megan.jpg"},
			[]string{"@DWPgovuk", "same here", p.Author("UCmegan000000000000001")}, "https://www.youtube.com/watch?v=vid1&lc=UgyThread"},
		{mention.Facebook, []string{"5550001112223", "Priya N", "priya.jpg", "5550001112224", "Gareth Jones"},
			[]string{"me too", p.Author("5550001112224")}, "https://www.facebook.com/" + p.Author("5550001112223") + "/posts/9007199254740993"},
	} {
		t.Run(tc.platform, func(t *testing.T) {
			m := sample(tc.platform)
			text := m.Text
			wantID, wantHandle := p.Author(m.AuthorID), p.Author(m.AuthorHandle)
			p.Apply(m)
			if m.AuthorID != wantID || !IsPseudonym(m.AuthorID) {
				t.Errorf("AuthorID = %q, want %q", m.AuthorID, wantID)
			}
			if m.AuthorHandle != wantHandle {
				t.Errorf("AuthorHandle = %q, want %q", m.AuthorHandle, wantHandle)
			}
			if m.AuthorName != "" {
				t.Errorf("AuthorName = %q, want empty", m.AuthorName)
			}
			if m.Text != text {
				t.Errorf("Text changed to %q", m.Text)
			}
			if m.URL != tc.url {
				t.Errorf("URL = %q, want %q", m.URL, tc.url)
			}
			if !json.Valid(m.Raw) {
				t.Fatalf("raw is not JSON: %s", m.Raw)
			}
			whole, _ := json.Marshal(m)
			if l := leaks(string(whole), tc.secrets...); len(l) > 0 {
				t.Errorf("record still contains %q:\n%s", l, whole)
			}
			for _, k := range tc.kept {
				if !strings.Contains(string(m.Raw), k) {
					t.Errorf("raw lost %q:\n%s", k, m.Raw)
				}
			}
			if !strings.Contains(string(m.Raw), m.AuthorID) {
				t.Errorf("raw does not carry the author's pseudonym %s:\n%s", m.AuthorID, m.Raw)
			}
			// Idempotent: a second Apply changes nothing.
			again := *m
			p.Apply(&again)
			if a, b := mustJSON(t, m), mustJSON(t, &again); a != b {
				t.Errorf("second Apply changed the mention:\n%s\n%s", a, b)
			}
		})
	}
}

func mustJSON(t *testing.T, m *mention.Mention) string {
	t.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestApplyIsDeterministic(t *testing.T) {
	a, b := mustNew(t, keyA), mustNew(t, keyA)
	for _, platform := range []string{mention.Twitter, mention.YouTube, mention.Facebook} {
		m1, m2 := sample(platform), sample(platform)
		a.Apply(m1)
		b.Apply(m2)
		if mustJSON(t, m1) != mustJSON(t, m2) {
			t.Errorf("%s: two Pseudonymisers with one key disagree", platform)
		}
		m3 := sample(platform)
		mustNew(t, keyB).Apply(m3)
		if m3.AuthorID == m1.AuthorID {
			t.Errorf("%s: another key gave the same pseudonym", platform)
		}
	}
}

func TestApplyOddRaw(t *testing.T) {
	p := mustNew(t, keyA)
	for name, raw := range map[string]string{
		"truncated":     `{"author_id":"2904417781","text":"cut o`,
		"two values":    `{"author_id":"2904417781"} {"x":1}`,
		"not json":      `author 2904417781 said`,
		"deeply nested": strings.Repeat("[", 20000) + strings.Repeat("]", 20000),
	} {
		m := sample(mention.Twitter)
		m.Raw = json.RawMessage(raw)
		p.Apply(m)
		if m.Raw != nil {
			t.Errorf("%s: unparsable raw kept: %.80s", name, m.Raw)
		}
		if m.AuthorID != p.Author("2904417781") {
			t.Errorf("%s: author not pseudonymised", name)
		}
	}
	for name, raw := range map[string]string{
		"null":          `null`,
		"string":        `"2904417781"`,
		"array":         `[{"author_id":2904417781},{"from":"someone"},{"author":"danak_builds"},{"users":[{"id":1,"username":"x"},"danak_builds"]}]`,
		"wrong types":   `{"authorChannelId":5,"from":[1],"authorDisplayName":{"a":1},"author_id":{"x":1}}`,
		"html escaping": `{"t":"<b>&amp;</b>"}`,
	} {
		m := sample(mention.Twitter)
		m.Raw = json.RawMessage(raw)
		p.Apply(m)
		if !json.Valid(m.Raw) {
			t.Errorf("%s: raw became invalid: %s", name, m.Raw)
		}
		if l := leaks(string(m.Raw), "2904417781", "danak_builds"); len(l) > 0 {
			t.Errorf("%s: raw still contains %q: %s", name, l, m.Raw)
		}
		if name == "html escaping" && string(m.Raw) != raw {
			t.Errorf("raw without authors changed: %s", m.Raw)
		}
	}
	var off *Pseudonymiser
	m := sample(mention.Twitter)
	off.Apply(m)
	if m.AuthorID != "2904417781" || string(m.Raw) != xRaw {
		t.Error("nil Pseudonymiser changed a mention")
	}
}

func TestStripAuthor(t *testing.T) {
	megan := func(s string) bool { return Normalise(s) == "ucmegan000000000000001" }
	out, n, err := StripAuthor([]byte(ytRaw), megan)
	if err != nil || n != 1 {
		t.Fatalf("YouTube thread: removed %d, err %v; want 1 reply removed", n, err)
	}
	if l := leaks(string(out), "UCmegan", "Megan Price", "same here"); len(l) > 0 {
		t.Errorf("reply still there (%q): %s", l, out)
	}
	if !strings.Contains(string(out), "Waiting 3 weeks") || !strings.Contains(string(out), "UCrhys0000000000000001") {
		t.Errorf("the thread's own comment was removed: %s", out)
	}

	gareth := func(s string) bool { return Normalise(s) == "5550001112224" }
	out, n, err = StripAuthor([]byte(fbRaw), gareth)
	if err != nil || n != 1 || strings.Contains(string(out), "Gareth") || !strings.Contains(string(out), "Priya N") {
		t.Fatalf("Facebook post: removed %d, err %v: %s", n, err, out)
	}

	// The whole document is the author's: nothing is left.
	dana := func(s string) bool { return Normalise(s) == "danak_builds" }
	if out, n, err = StripAuthor([]byte(xRaw), dana); err != nil || out != nil || n != 1 {
		t.Fatalf("own document: out %s, removed %d, err %v; want nil, 1", out, n, err)
	}
	// Mentioned, not authored: unchanged.
	acme := func(s string) bool { return Normalise(s) == "acme" || s == "1100220033" }
	if out, n, _ = StripAuthor([]byte(xRaw), acme); n != 0 || string(out) != xRaw {
		t.Fatalf("a mentioned account was stripped: %s", out)
	}
	if _, _, err = StripAuthor([]byte(`{"a":`), acme); err == nil {
		t.Fatal("truncated JSON: no error")
	}
	// Pseudonymised documents: the stored pseudonyms are recognised.
	p := mustNew(t, keyA)
	m := sample(mention.YouTube)
	p.Apply(m)
	pm := p.Author("UCmegan000000000000001")
	out, n, err = StripAuthor(m.Raw, func(s string) bool { return s == pm })
	if err != nil || n != 1 || strings.Contains(string(out), pm) {
		t.Fatalf("pseudonymised thread: removed %d, err %v: %s", n, err, out)
	}
}

func FuzzApply(f *testing.F) {
	for _, s := range []string{xRaw, ytRaw, fbRaw, ``, `null`, `[`, `{"from":{"id":1}}`} {
		f.Add(s)
	}
	p, err := New(keyA)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		m := sample(mention.Twitter)
		m.Raw = json.RawMessage(raw)
		p.Apply(m)
		if len(m.Raw) > 0 && !json.Valid(m.Raw) {
			t.Fatalf("invalid raw out: %q", m.Raw)
		}
		if strings.Contains(string(m.Raw), `"2904417781"`) {
			t.Fatalf("author id left as a value in raw: %s", m.Raw)
		}
	})
}

func BenchmarkApply(b *testing.B) {
	p, err := New(keyA)
	if err != nil {
		b.Fatal(err)
	}
	for _, platform := range []string{mention.Twitter, mention.YouTube, mention.Facebook} {
		b.Run(platform, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				p.Apply(sample(platform))
			}
		})
	}
}
