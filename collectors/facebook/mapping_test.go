package facebook

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/govlisten/govlisten/config"
	"github.com/govlisten/govlisten/mention"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

var (
	testSource  = config.Source{Name: "dwp-page", Platform: "facebook", Kind: KindPagePosts, PageID: "100000000000001", Department: "DWP"}
	collectedAt = time.Date(2025, 6, 3, 9, 0, 0, 0, time.UTC)
)

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// want is what a test checks of one mapped mention.
type want struct {
	id, kind, parent, thread, authorID, authorName, text, url string
	created                                                   time.Time
	metrics                                                   mention.Metrics
	own                                                       bool
}

func TestMapPosts(t *testing.T) {
	tests := []struct {
		file      string
		src       config.Source
		want      []want
		after     string
		next      bool
		nextQuery string // the next page's parameters, without the token
	}{
		{
			file: "feed_page.json", src: testSource,
			want: []want{
				{
					id: "100000000000001_9007199254740993", kind: "post", thread: "100000000000001_9007199254740993",
					authorID: "5550001112223", authorName: "Priya N",
					text:    "Waited 3 hours on the helpline 😩 👩‍👩‍👧‍👦 #UniversalCredit",
					url:     "https://www.facebook.com/100000000000001/posts/9007199254740993",
					created: time.Date(2025, 6, 3, 7, 41, 9, 0, time.UTC),
					metrics: mention.Metrics{Likes: 42, Replies: 7, Shares: 3},
				},
				{ // media-only, by the Page itself
					id: "100000000000001_9007199254740995", kind: "post", thread: "100000000000001_9007199254740995",
					authorID: "100000000000001", authorName: "Department for Work and Pensions", own: true,
					url:     "https://www.facebook.com/100000000000001/posts/9007199254740995",
					created: time.Date(2025, 6, 3, 6, 12, 0, 0, time.UTC),
					metrics: mention.Metrics{Likes: 18},
				},
				{ // edited (updated_time later), author withheld
					id: "100000000000001_9007199254740997", kind: "post", thread: "100000000000001_9007199254740997",
					text:    "Diolch i'r tîm am eich help! EDIT: wedi cael ateb 🏴󠁧󠁢󠁷󠁬󠁳󠁿",
					url:     "https://www.facebook.com/100000000000001/posts/9007199254740997",
					created: time.Date(2025, 6, 2, 21, 0, 5, 0, time.UTC),
					metrics: mention.Metrics{Likes: 5, Replies: 2},
				},
			},
			after: "QVFIUmZAha2VBZAnRlcjI", next: true,
			nextQuery: "after=QVFIUmZAha2VBZAnRlcjI&fields=id%2Cmessage&limit=100&since=1748736000",
		},
		{
			file: "tagged_last.json", src: config.Source{Name: "hmrc-tagged", PageID: "100000000000002", Own: []string{"5550001112223"}},
			want: []want{{
				id: "5550001112223_123456789012345678", kind: "post", thread: "5550001112223_123456789012345678",
				authorID: "5550001112223", authorName: "Priya N", own: true, // listed in src.Own
				text:    "Big thanks to @HMRC for sorting my tax code so quickly 👏",
				url:     "https://www.facebook.com/5550001112223/posts/123456789012345678",
				created: time.Date(2025, 6, 1, 11, 0, 0, 0, time.UTC), // +0100
			}},
			after: "QVFIUmFmdGVy",
		},
		{
			file: "feed_timepaged.json", src: testSource,
			want: []want{{
				id: "100000000000001_42", kind: "post", thread: "100000000000001_42", text: "time-paged edge",
				created: time.Unix(1748937669, 0).UTC(),
			}},
			next: true, nextQuery: "__paging_token=enc_next&limit=100&until=1748937000",
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			body := readFixture(t, tt.file)
			ms, after, next, err := MapPosts(body, tt.src, collectedAt)
			if err != nil {
				t.Fatal(err)
			}
			if after != tt.after || next != tt.next {
				t.Errorf("after, next = %q, %v; want %q, %v", after, next, tt.after, tt.next)
			}
			r, _ := mapPosts(body, tt.src, collectedAt)
			if got := r.nextQuery.Encode(); got != tt.nextQuery {
				t.Errorf("next page's parameters = %q, want %q", got, tt.nextQuery)
			}
			checkMentions(t, ms, tt.want, tt.src)
			checkGolden(t, tt.file, ms)
		})
	}
}

func TestMapComments(t *testing.T) {
	const post = "100000000000001_9007199254740993"
	body := readFixture(t, "comments_page.json")
	ms, after, next, err := MapComments(body, post, testSource, collectedAt)
	if err != nil {
		t.Fatal(err)
	}
	if after != "QVFIUmZAha2VBZAnRlcjI" || !next {
		t.Errorf("after, next = %q, %v", after, next)
	}
	r, _ := mapComments(body, post, testSource, collectedAt)
	if len(r.skipped) != 1 || !strings.Contains(r.skipped[0], "no id") {
		t.Errorf("skipped = %q, want the comment without an id", r.skipped)
	}
	checkMentions(t, ms, []want{
		{
			id: "9007199254740993_99001", kind: "comment", parent: post, thread: post,
			authorID: "5550001112224", authorName: "Gareth Jones", text: "Is the new form out yet? 🙏",
			url:     "https://www.facebook.com/100000000000001/posts/9007199254740993?comment_id=99001",
			created: time.Date(2025, 6, 3, 7, 45, 9, 0, time.UTC), metrics: mention.Metrics{Likes: 4, Replies: 1},
		},
		{ // the Page answering: an own reply
			id: "9007199254740993_99002", kind: "reply", parent: "9007199254740993_99001", thread: post,
			authorID: "100000000000001", authorName: "Department for Work and Pensions", own: true,
			text:    "Yes, it's on GOV.UK from today. ^AB",
			url:     "https://www.facebook.com/100000000000001/posts/9007199254740993?comment_id=99001&reply_comment_id=99002",
			created: time.Date(2025, 6, 3, 8, 2, 44, 0, time.UTC), metrics: mention.Metrics{Likes: 1},
		},
		{ // no message (a sticker), no from
			id: "9007199254740993_99004", kind: "comment", parent: post, thread: post,
			created: time.Date(2025, 6, 3, 8, 6, 0, 0, time.UTC), metrics: mention.Metrics{Likes: 2},
		},
		{
			id: "9007199254740993_99005", kind: "reply", parent: "9007199254740993_99001", thread: post, text: "same here",
			created: time.Date(2025, 6, 3, 8, 7, 0, 0, time.UTC),
		},
	}, testSource)
	checkGolden(t, "comments_page.json", ms)

	ms, after, next, err = MapComments(readFixture(t, "comments_empty.json"), post, testSource, collectedAt)
	if err != nil || len(ms) != 0 || after != "" || next {
		t.Errorf("empty page: %d mentions, %q, %v, %v", len(ms), after, next, err)
	}
}

func checkMentions(t *testing.T, got []*mention.Mention, wants []want, src config.Source) {
	t.Helper()
	if len(got) != len(wants) {
		t.Fatalf("%d mentions, want %d", len(got), len(wants))
	}
	for i, w := range wants {
		m := got[i]
		g := want{
			id: m.ID, kind: m.Kind, parent: m.ParentID, thread: m.ThreadID, authorID: m.AuthorID,
			authorName: m.AuthorName, text: m.Text, url: m.URL, created: m.CreatedAt, metrics: m.Metrics, own: m.Own,
		}
		if g != w {
			t.Errorf("mention %d:\n got %+v\nwant %+v", i, g, w)
		}
		if m.V != mention.Version || m.Platform != mention.Facebook || m.AuthorHandle != "" || m.Lang != "" {
			t.Errorf("mention %d: v=%d platform=%q handle=%q lang=%q", i, m.V, m.Platform, m.AuthorHandle, m.Lang)
		}
		if m.Source != (mention.Source{Name: src.Name, Department: src.Department}) || !m.CollectedAt.Equal(collectedAt) {
			t.Errorf("mention %d: source %+v, collected %v", i, m.Source, m.CollectedAt)
		}
		if m.CreatedAt.Location() != time.UTC {
			t.Errorf("mention %d: created_at not in UTC", i)
		}
		var item struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(m.Raw, &item); err != nil || item.ID != m.ID {
			t.Errorf("mention %d: raw %s does not hold id %s (%v)", i, m.Raw, m.ID, err)
		}
		if err := m.Validate(); err != nil {
			t.Errorf("mention %d: %v", i, err)
		}
	}
}

// checkGolden compares the mapped mentions, as JSON, with
// testdata/golden/<name>; -update rewrites it.
func checkGolden(t *testing.T, name string, ms []*mention.Mention) {
	t.Helper()
	got, err := json.MarshalIndent(ms, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, append(got, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(bytes.TrimSpace(got), bytes.TrimSpace(want)) {
		t.Errorf("mapping of %s differs from %s:\n%s", name, path, got)
	}
}

// TestRawIsTheAPIBytes checks that Raw holds the item exactly as sent,
// escapes and all, not re-marshalled.
func TestRawIsTheAPIBytes(t *testing.T) {
	body := readFixture(t, "feed_page.json")
	ms, _, _, err := MapPosts(body, testSource, collectedAt)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if !bytes.Contains(body, m.Raw) {
			t.Errorf("raw of %s is not a slice of the response body:\n%s", m.ID, m.Raw)
		}
	}
	if !bytes.Contains(ms[0].Raw, []byte(`\ud83d\ude29`)) || !bytes.Contains(ms[0].Raw, []byte(`https:\/\/`)) {
		t.Errorf("raw lost the API's escapes: %s", ms[0].Raw)
	}
}

func TestMapRejectsBadPages(t *testing.T) {
	for _, file := range []string{"truncated.json", "no_data.json", "bad_time.json", "numeric_id.json", "error_body.json", "bad_utf8.json"} {
		t.Run(file, func(t *testing.T) {
			body := readFixture(t, file)
			if ms, _, _, err := MapPosts(body, testSource, collectedAt); err == nil {
				t.Errorf("MapPosts: no error, %d mentions", len(ms))
			}
			if ms, _, _, err := MapComments(body, "1_2", testSource, collectedAt); err == nil {
				t.Errorf("MapComments: no error, %d mentions", len(ms))
			}
		})
	}
}

func TestGraphTime(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
		bad  bool
	}{
		{in: `"2025-06-03T07:41:09+0000"`, want: time.Date(2025, 6, 3, 7, 41, 9, 0, time.UTC)},
		{in: `"2025-06-03T08:41:09+0100"`, want: time.Date(2025, 6, 3, 7, 41, 9, 0, time.UTC)},
		{in: `"2025-06-03T07:41:09Z"`, want: time.Date(2025, 6, 3, 7, 41, 9, 0, time.UTC)},
		{in: `1748936469`, want: time.Date(2025, 6, 3, 7, 41, 9, 0, time.UTC)},
		{in: `null`},
		{in: `"2025-06-03 07:41:09"`, bad: true},
		{in: `1.5`, bad: true},
		{in: `{}`, bad: true},
	}
	for _, tt := range tests {
		var g graphTime
		err := json.Unmarshal([]byte(tt.in), &g)
		if (err != nil) != tt.bad || !g.Equal(tt.want) {
			t.Errorf("%s: %v, %v; want %v (error %v)", tt.in, g.Time, err, tt.want, tt.bad)
		}
	}
	// time.RFC3339 itself refuses Graph's offset: the reason for TimeLayout.
	if _, err := time.Parse(time.RFC3339, "2025-06-03T07:41:09+0000"); err == nil {
		t.Error("time.RFC3339 parsed +0000; TimeLayout may be unnecessary")
	}
}

func FuzzMapPosts(f *testing.F) {
	for _, name := range []string{"feed_page.json", "tagged_last.json", "feed_timepaged.json", "truncated.json", "bad_time.json"} {
		f.Add(readFixture(f, name))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		ms, _, _, err := MapPosts(body, testSource, collectedAt)
		checkFuzzed(t, ms, err)
	})
}

func FuzzMapComments(f *testing.F) {
	for _, name := range []string{"comments_page.json", "comments_empty.json", "numeric_id.json", "bad_utf8.json"} {
		f.Add(readFixture(f, name))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		ms, _, _, err := MapComments(body, "100000000000001_1", testSource, collectedAt)
		checkFuzzed(t, ms, err)
	})
}

// checkFuzzed: bad input is an error with nothing mapped; good input maps
// to valid mentions whose Raw is JSON holding their id.
func checkFuzzed(t *testing.T, ms []*mention.Mention, err error) {
	if err != nil {
		if ms != nil {
			t.Fatalf("error %v with %d mentions", err, len(ms))
		}
		return
	}
	for _, m := range ms {
		if err := m.Validate(); err != nil {
			t.Fatalf("invalid mention: %v", err)
		}
		if !json.Valid(m.Raw) {
			t.Fatalf("raw is not JSON: %q", m.Raw)
		}
		if _, err := json.Marshal(m); err != nil {
			t.Fatalf("mention does not marshal: %v", err)
		}
	}
}
