package youtube

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/govlisten/govlisten/config"
	"github.com/govlisten/govlisten/mention"
)

var collectedAt = time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

func TestMapCommentThreads(t *testing.T) {
	channelSrc := config.Source{Name: "dwp-channel", Department: "DWP", Kind: KindChannelComments, ChannelID: "UCsimDWPgovuk00000000001"}
	searchSrc := config.Source{Name: "acme-search", Department: "DSIT", Kind: KindSearch, Query: "acme", Own: []string{"UCacmeOfficial000000000"}}
	tests := []struct {
		fixture string
		src     config.Source
		next    string
		want    []mention.Mention // Raw and CollectedAt are checked apart
	}{
		{
			fixture: "threads_html.json", src: searchSrc, next: "QURTSl9pM2Zha2VQYWdlVG9rZW4y",
			want: []mention.Mention{
				{ID: "UgzF4k3ThreadAAAA4AaABAg", Kind: "comment", ThreadID: "dQ9fakeVid1", AuthorID: "UCl3naFakeChannel0000001",
					AuthorHandle: "@lena_makes", AuthorName: "@lena_makes", Text: "Setup guide at 3:12 fixed it & saved my day 🎉\nThanks 3:12",
					URL: "https://www.youtube.com/watch?v=dQ9fakeVid1&lc=UgzF4k3ThreadAAAA4AaABAg", CreatedAt: mustTime("2025-06-01T18:22:05Z"),
					Metrics: mention.Metrics{Likes: 14, Replies: 3}},
				{ID: "UgzF4k3ThreadAAAA4AaABAg.9zReplyOne0", Kind: "reply", ParentID: "UgzF4k3ThreadAAAA4AaABAg", ThreadID: "dQ9fakeVid1",
					AuthorID: "UCacmeOfficial000000000", AuthorHandle: "@acme", AuthorName: "@acme", Text: "Glad it helped!",
					URL: "https://www.youtube.com/watch?v=dQ9fakeVid1&lc=UgzF4k3ThreadAAAA4AaABAg.9zReplyOne0", CreatedAt: mustTime("2025-06-01T19:02:11Z"),
					Metrics: mention.Metrics{Likes: 2}, Own: true},
				// No textOriginal: textDisplay's HTML becomes plain text.
				{ID: "UgxHtmlOnly00000004AaABAg", Kind: "comment", ThreadID: "dQ9fakeVid1", AuthorID: "UCgarethFakeChannel00001",
					AuthorName: "Gareth Evans", Text: "Tom & Jerry's \"guide\"\nline two <3",
					URL: "https://www.youtube.com/watch?v=dQ9fakeVid1&lc=UgxHtmlOnly00000004AaABAg", CreatedAt: mustTime("2025-06-01T17:00:00Z")},
			},
		},
		{
			fixture: "threads_plain.json", src: channelSrc,
			want: []mention.Mention{
				// Emoji, ZWJ and tag sequences byte-exact; a like count above 2^53 exact.
				{ID: "UgyEmoji000000000004AaABAg", Kind: "comment", ThreadID: "simDWPuc001", AuthorID: "UCaishaFakeChannel000001",
					AuthorHandle: "@aishajones12", AuthorName: "@aishajones12", Text: "Family of four on UC 👨‍👩‍👧‍👦 and still short 🏴󠁧󠁢󠁷󠁬󠁳󠁿 R&D <b>",
					URL: "https://www.youtube.com/watch?v=simDWPuc001&lc=UgyEmoji000000000004AaABAg", CreatedAt: mustTime("2026-11-02T09:00:05Z"),
					Metrics: mention.Metrics{Likes: 9007199254740993, Replies: 7}},
				// The channel's own reply.
				{ID: "UgyEmoji000000000004AaABAg.A0000000001", Kind: "reply", ParentID: "UgyEmoji000000000004AaABAg", ThreadID: "simDWPuc001",
					AuthorID: "UCsimDWPgovuk00000000001", AuthorHandle: "@DWPgovuk", AuthorName: "@DWPgovuk", Text: "We're sorry to hear this. Please contact us on 0800 328 5644.",
					URL: "https://www.youtube.com/watch?v=simDWPuc001&lc=UgyEmoji000000000004AaABAg.A0000000001", CreatedAt: mustTime("2026-11-02T09:05:00Z"),
					Metrics: mention.Metrics{Likes: 3}, Own: true},
				// Plain textDisplay without textOriginal, Welsh.
				{ID: "UgyEmoji000000000004AaABAg.A0000000002", Kind: "reply", ParentID: "UgyEmoji000000000004AaABAg", ThreadID: "simDWPuc001",
					AuthorID: "UCcarysFakeChannel000001", AuthorName: "Carys Hughes", Text: "Diolch, defnyddiol iawn",
					URL: "https://www.youtube.com/watch?v=simDWPuc001&lc=UgyEmoji000000000004AaABAg.A0000000002", CreatedAt: mustTime("2026-11-02T09:06:00Z")},
				// Edited: same id, the new text.
				{ID: "UgwEdited00000000004AaABAg", Kind: "comment", ThreadID: "simDWPuc001", AuthorID: "UCbenFakeChannel00000001",
					AuthorName: "Ben Smith", Text: "Payment arrived late — EDIT: sorted now, thanks",
					URL: "https://www.youtube.com/watch?v=simDWPuc001&lc=UgwEdited00000000004AaABAg", CreatedAt: mustTime("2026-11-02T08:00:00Z"),
					Metrics: mention.Metrics{Likes: 1}},
				// No author, no text, the video only on the thread.
				{ID: "UgzNoAuthor0000000004AaABAg", Kind: "comment", ThreadID: "simDWPuc001",
					URL: "https://www.youtube.com/watch?v=simDWPuc001&lc=UgzNoAuthor0000000004AaABAg", CreatedAt: mustTime("2026-11-02T07:00:00Z")},
			},
		},
		{fixture: "threads_empty.json", src: channelSrc},
	}
	for _, tc := range tests {
		t.Run(tc.fixture, func(t *testing.T) {
			body := readFixture(t, tc.fixture)
			got, next, err := MapCommentThreads(body, tc.src, collectedAt)
			if err != nil {
				t.Fatal(err)
			}
			if next != tc.next {
				t.Errorf("next = %q, want %q", next, tc.next)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %d mentions, want %d", len(got), len(tc.want))
			}
			for i, m := range got {
				checkMention(t, body, m, tc.want[i], tc.src)
			}
		})
	}
}

// checkMention compares m with want, filling what every mention shares,
// and checks Raw is a byte-exact slice of the response.
func checkMention(t *testing.T, body []byte, m *mention.Mention, want mention.Mention, src config.Source) {
	t.Helper()
	want.V, want.Platform, want.CollectedAt = mention.Version, mention.YouTube, collectedAt
	want.Source = mention.Source{Name: src.Name, Department: src.Department}
	raw := m.Raw
	if !bytes.Contains(body, raw) || !json.Valid(raw) {
		t.Errorf("%s: Raw is not a slice of the response: %.80s", m.ID, raw)
	}
	var rawID struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(raw, &rawID); err != nil || rawID.ID != m.ID {
		t.Errorf("%s: Raw holds item %q", m.ID, rawID.ID)
	}
	got := *m
	got.Raw = nil
	gb, _ := json.Marshal(got)
	wb, _ := json.Marshal(want)
	if !bytes.Equal(gb, wb) {
		t.Errorf("mention %s:\n got %s\nwant %s", m.ID, gb, wb)
	}
	if err := m.Validate(); err != nil {
		t.Errorf("%s: %v", m.ID, err)
	}
}

func TestMapComments(t *testing.T) {
	src := config.Source{Name: "dwp-uc", Kind: KindVideoComments, VideoID: "simDWPuc001", Own: []string{"UCsimDWPgovuk00000000001"}}
	body := readFixture(t, "comments_replies.json")
	got, next, err := MapComments(body, src, collectedAt)
	if err != nil {
		t.Fatal(err)
	}
	if next != "cnwxMjN8NHww" || len(got) != 2 {
		t.Fatalf("next %q, %d mentions", next, len(got))
	}
	want := []mention.Mention{
		// No videoId in the snippet: no thread, no URL (the collector
		// fills them from the thread).
		{ID: "UgyEmoji000000000004AaABAg.A0000000003", Kind: "reply", ParentID: "UgyEmoji000000000004AaABAg", AuthorID: "UCrhysFakeChannel0000001",
			AuthorHandle: "@rhysdavies7", AuthorName: "@rhysdavies7", Text: "Same here 😩", CreatedAt: mustTime("2026-11-02T09:10:00Z"), Metrics: mention.Metrics{Likes: 5}},
		// No parentId: the parent comes from the reply id.
		{ID: "UgyEmoji000000000004AaABAg.A0000000004", Kind: "reply", ParentID: "UgyEmoji000000000004AaABAg", ThreadID: "simDWPuc001", AuthorID: "UCsimDWPgovuk00000000001",
			AuthorHandle: "@DWPgovuk", AuthorName: "@DWPgovuk", Text: "No parentId in this one", URL: "https://www.youtube.com/watch?v=simDWPuc001&lc=UgyEmoji000000000004AaABAg.A0000000004",
			CreatedAt: mustTime("2026-11-02T09:11:00Z"), Own: true},
	}
	for i, m := range got {
		checkMention(t, body, m, want[i], src)
	}
	// The collector's path fills the video from the thread.
	items, _, err := parseComments(body, src, collectedAt, "simDWPuc001")
	if err != nil || items[0].m.ThreadID != "simDWPuc001" || !strings.HasSuffix(items[0].m.URL, "&lc=UgyEmoji000000000004AaABAg.A0000000003") {
		t.Errorf("fallback video: %v %+v", err, items[0].m)
	}
}

func TestMapRejects(t *testing.T) {
	good := string(readFixture(t, "threads_plain.json"))
	tests := map[string]string{
		"truncated":         good[:len(good)/2],
		"not json":          "<html>502 Bad Gateway</html>",
		"wrong kind":        `{"kind":"youtube#commentListResponse","items":[]}`,
		"no kind":           `{"items":[]}`,
		"array":             `[]`,
		"item without id":   `{"kind":"youtube#commentThreadListResponse","items":[{"snippet":{"topLevelComment":{"snippet":{"publishedAt":"2026-11-02T07:00:00Z"}}}}]}`,
		"no snippet":        `{"kind":"youtube#commentThreadListResponse","items":[{"id":"x"}]}`,
		"bad time":          strings.Replace(good, `"publishedAt":"2026-11-02T08:00:00Z"`, `"publishedAt":"yesterday"`, 1),
		"missing time":      strings.Replace(good, `"publishedAt":"2026-11-02T08:00:00Z",`, ``, 1),
		"year 1":            strings.Replace(good, `"publishedAt":"2026-11-02T08:00:00Z"`, `"publishedAt":"0001-01-01T00:00:00Z"`, 1),
		"negative likes":    strings.Replace(good, `"likeCount":1,`, `"likeCount":-1,`, 1),
		"likes as string":   strings.Replace(good, `"likeCount":1,`, `"likeCount":"1",`, 1),
		"bad reply":         strings.Replace(good, `"id":"UgyEmoji000000000004AaABAg.A0000000002",`, ``, 1),
		"invalid utf-8":     strings.Replace(good, "Diolch", "Diolch\xff", 1),
		"items not a list":  `{"kind":"youtube#commentThreadListResponse","items":{}}`,
		"replies not list":  strings.Replace(good, `"replies":{"comments":[`, `"replies":{"comments":{"x":[`, 1),
		"topLevel a string": `{"kind":"youtube#commentThreadListResponse","items":[{"id":"x","snippet":{"topLevelComment":"x"}}]}`,
	}
	for name, body := range tests {
		t.Run(name, func(t *testing.T) {
			ms, _, err := MapCommentThreads([]byte(body), config.Source{}, collectedAt)
			if err == nil || ms != nil {
				t.Fatalf("err %v, %d mentions; want an error and nothing", err, len(ms))
			}
		})
	}
	if _, _, err := MapComments([]byte(good), config.Source{}, collectedAt); err == nil {
		t.Error("MapComments took a commentThreadListResponse")
	}
}

func TestPlainText(t *testing.T) {
	for in, want := range map[string]string{
		"plain & simple":                        "plain & simple",
		"a <3 b":                                "a <3 b",
		"Tom &amp; Jerry<br>next":               "Tom & Jerry\nnext",
		`see <a href="https://x.example">x</a>`: "see x",
		"&lt;b&gt; literal":                     "<b> literal",
		"<b>bold</b> &#39;q&#39;":               "bold 'q'",
		"emoji 👨‍👩‍👧 &amp; co":                  "emoji 👨‍👩‍👧 & co",
	} {
		if got := plainText(in); got != want {
			t.Errorf("plainText(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzMapCommentThreads(f *testing.F) {
	for _, name := range []string{"threads_html.json", "threads_plain.json", "threads_empty.json", "comments_replies.json"} {
		f.Add(readFixture(f, name))
	}
	src := config.Source{Name: "fuzz", Kind: KindChannelComments, ChannelID: "UCsimDWPgovuk00000000001", Own: []string{"UCacmeOfficial000000000"}}
	f.Fuzz(func(t *testing.T, body []byte) {
		ms, _, err := MapCommentThreads(body, src, collectedAt)
		if err != nil {
			if ms != nil {
				t.Fatal("mentions returned with an error")
			}
			return
		}
		for _, m := range ms {
			if err := m.Validate(); err != nil {
				t.Fatalf("invalid mention %s: %v", m.ID, err)
			}
			if !json.Valid(m.Raw) {
				t.Fatalf("Raw of %s is not JSON", m.ID)
			}
		}
		// Replies pages go through the same comment mapping.
		if rs, _, err := MapComments(body, src, collectedAt); err == nil {
			for _, m := range rs {
				if err := m.Validate(); err != nil {
					t.Fatalf("invalid reply %s: %v", m.ID, err)
				}
			}
		}
	})
}
