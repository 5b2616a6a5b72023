package twitter

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

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var (
	fixtureSource = config.Source{Name: "x-acme", Department: "DWP", Own: []string{"@DWP", "7712"}}
	fixtureTime   = time.Date(2026, 11, 5, 12, 0, 0, 0, time.UTC)
)

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestMapResponseFixtures(t *testing.T) {
	type want struct {
		id, kind, parent, thread, handle, name, text, lang, url string
		created                                                 time.Time
		metrics                                                 mention.Metrics
		own                                                     bool
	}
	cases := []struct {
		file      string
		next      string
		newest    string
		errs      int
		mentions  []want
		onlyCount bool
	}{
		{
			file: "search_page.json", next: "b26v89c19zqg8o3fpe17", newest: "1893456789012345679", errs: 1,
			mentions: []want{{
				id: "1893456789012345679", kind: "post", thread: "1893456789012345679", handle: "danak_builds", name: "Dana K",
				text: "@acme your new release broke my build 😩 #devops", lang: "en",
				url:     "https://x.com/danak_builds/status/1893456789012345679",
				created: time.Date(2025, 6, 2, 9, 14, 7, 0, time.UTC), metrics: mention.Metrics{Likes: 3, Replies: 1, Views: 212},
			}, {
				// Edited: the first id of the chain, the newest text, the
				// newest version's permalink; author 7712 is in Own.
				id: "1893456611111111112", kind: "reply", parent: "1893456600000000000", thread: "1893456600000000000",
				handle: "sam_ops", name: "Sam", text: "@acme thanks, fixed after the patch!", lang: "en",
				url:     "https://x.com/sam_ops/status/1893456700000000001",
				created: time.Date(2025, 6, 2, 8, 59, 41, 0, time.UTC), metrics: mention.Metrics{Likes: 1}, own: true,
			}},
		},
		{file: "no_data.json"},
		{file: "user_not_found.json", errs: 1},
		{
			file: "mentions_page.json", next: "7140dibdnow9c7btw4b0", newest: "1990000000000000123",
			mentions: []want{{
				id: "1990000000000000123", kind: "reply", parent: "1989999999999999000", thread: "1989999999999999000",
				handle: "DWP", name: "Department for Work and Pensions", lang: "en", own: true,
				text:    "@citizen_7 Hi, sorry to hear this. Please send us a DM with your reference number and we'll look into it. ^JM",
				url:     "https://x.com/DWP/status/1990000000000000123",
				created: time.Date(2026, 11, 2, 10, 0, 1, 0, time.UTC), metrics: mention.Metrics{Likes: 2, Views: 90},
			}, {
				id: "1989999999999999000", kind: "post", thread: "1989999999999999000", handle: "citizen_7", name: "Citizen Seven",
				text: "@DWP my Universal Credit payment is late again & nobody answers 👩🏽‍💻 #UniversalCredit", lang: "en",
				url:     "https://x.com/citizen_7/status/1989999999999999000",
				created: time.Date(2026, 11, 2, 9, 58, 0, 0, time.UTC), metrics: mention.Metrics{Likes: 17, Replies: 1, Shares: 4, Quotes: 1},
			}},
		},
		{
			file: "long_post.json", newest: "2000000000000000001", errs: 1,
			mentions: []want{{
				// Long post by a suspended author: note_tweet's full text,
				// unescaped; no handle, so the i/web permalink.
				id: "2000000000000000001", kind: "post", thread: "2000000000000000001", lang: "cy",
				text:    "Thread on the new Welsh language rules: Mae'n bwysig bod gwasanaethau cyhoeddus ar gael yn Gymraeg. Here is what changes for councils & schools from April <long> 👨‍👩‍👧 and what it means for families who rely on bilingual forms, the helpline, and the online portal that still only works in English for half the pages. Diolch i bawb a helpodd. 🏴󠁧󠁢󠁷󠁬󠁳󠁿",
				url:     "https://x.com/i/web/status/2000000000000000001",
				created: time.Date(2026, 11, 3, 12, 0, 0, 0, time.UTC), metrics: mention.Metrics{Likes: 40, Replies: 3, Shares: 12, Quotes: 2},
			}, {
				// A retweet is mapped as it comes.
				id: "2000000000000000000", kind: "post", thread: "2000000000000000000", handle: "rhys_eva", name: `Rhys "the Budget" Evans`,
				text: "RT @hmtreasury: Budget day: what it means for you ➡️ https://t.co/abc", lang: "en",
				url:     "https://x.com/rhys_eva/status/2000000000000000000",
				created: time.Date(2026, 11, 3, 11, 59, 59, 0, time.UTC), metrics: mention.Metrics{Shares: 31},
			}},
		},
		{
			file: "twarc2_line.json", newest: "2010000000000000042",
			mentions: []want{{
				id: "2010000000000000042", kind: "post", thread: "2010000000000000042", handle: "ffion_cymru", name: "Ffion",
				text: "Diolch i'r GIG am y gofal ardderchog yn yr ysbyty ❤️", lang: "cy",
				url:     "https://x.com/ffion_cymru/status/2010000000000000042",
				created: time.Date(2026, 11, 4, 8, 30, 15, 0, time.UTC), metrics: mention.Metrics{Likes: 9, Shares: 1, Views: 310},
			}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			body := readFixture(t, tc.file)
			page, err := MapResponse(body, fixtureSource, fixtureTime)
			if err != nil {
				t.Fatal(err)
			}
			if page.NextToken != tc.next || page.NewestID != tc.newest || len(page.Errors) != tc.errs {
				t.Fatalf("next %q newest %q errors %d", page.NextToken, page.NewestID, len(page.Errors))
			}
			if len(page.Mentions) != len(tc.mentions) {
				t.Fatalf("%d mentions, want %d", len(page.Mentions), len(tc.mentions))
			}
			for i, w := range tc.mentions {
				m := page.Mentions[i]
				got := want{m.ID, m.Kind, m.ParentID, m.ThreadID, m.AuthorHandle, m.AuthorName, m.Text, m.Lang, m.URL, m.CreatedAt, m.Metrics, m.Own}
				if got != w {
					t.Errorf("mention %d:\n got %+v\nwant %+v", i, got, w)
				}
				if m.V != mention.Version || m.Platform != mention.Twitter || !m.CollectedAt.Equal(fixtureTime) ||
					m.Source != (mention.Source{Name: "x-acme", Department: "DWP"}) {
					t.Errorf("mention %d: envelope %+v", i, m)
				}
				if !bytes.Contains(body, m.Raw) || !json.Valid(m.Raw) || m.Raw[0] != '{' {
					t.Errorf("mention %d: Raw is not the item's bytes: %s", i, m.Raw)
				}
				if err := m.Validate(); err != nil {
					t.Errorf("mention %d: %v", i, err)
				}
			}
			golden(t, strings.TrimSuffix(tc.file, ".json")+".golden", page.Mentions)
		})
	}
}

// golden compares the mentions' JSON (as published on the bus) with a file.
func golden(t *testing.T, name string, ms []*mention.Mention) {
	t.Helper()
	var buf bytes.Buffer
	for _, m := range ms {
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		buf.Write(b)
		buf.WriteByte('\n')
	}
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("%s differs:\n got %s\nwant %s", name, buf.Bytes(), want)
	}
}

func TestMapResponseDetails(t *testing.T) {
	t.Run("created_at missing: read from the snowflake", func(t *testing.T) {
		page, err := MapResponse([]byte(`{"data":[{"id":"1893456789012345679","text":"hi","edit_history_tweet_ids":["1893456789012345679"]}],"meta":{"result_count":1}}`), config.Source{}, fixtureTime)
		if err != nil {
			t.Fatal(err)
		}
		want := time.Date(2025, 2, 23, 0, 24, 11, 883_000_000, time.UTC) // (id>>22) + 1288834974657 ms
		if m := page.Mentions[0]; !m.CreatedAt.Equal(want) || m.URL != "https://x.com/i/web/status/1893456789012345679" {
			t.Fatalf("created %s url %s", m.CreatedAt, m.URL)
		}
	})
	t.Run("an id beyond 2^53 is kept exactly", func(t *testing.T) {
		page, err := MapResponse([]byte(`{"data":[{"id":"1790000000000000123","text":"x","created_at":"2024-05-01T00:00:00.000Z"}],"meta":{"result_count":1}}`), config.Source{}, fixtureTime)
		if err != nil || page.Mentions[0].ID != "1790000000000000123" || page.NewestID != "1790000000000000123" {
			t.Fatalf("%v %+v", err, page)
		}
	})
	t.Run("newest id is numeric, not lexical", func(t *testing.T) {
		page, err := MapResponse([]byte(`{"data":[{"id":"999","text":"a","created_at":"2024-05-01T00:00:00Z"},{"id":"1000","text":"b","created_at":"2024-05-01T00:00:00Z"}],"meta":{"result_count":2}}`), config.Source{}, fixtureTime)
		if err != nil || page.NewestID != "1000" {
			t.Fatalf("%v %q", err, page.NewestID)
		}
	})
	t.Run("escaped text comes back exactly once", func(t *testing.T) {
		page, err := MapResponse([]byte(`{"data":[{"id":"1","text":"a &amp;lt; b &lt;3 &amp;&amp; c &gt; d","created_at":"2024-05-01T00:00:00Z"}],"meta":{}}`), config.Source{}, fixtureTime)
		if err != nil || page.Mentions[0].Text != "a &lt; b <3 && c > d" {
			t.Fatalf("%v %q", err, page.Mentions[0].Text)
		}
	})
}

func TestMapResponseRejectsWhatIsNotAPage(t *testing.T) {
	for name, body := range map[string]string{
		"empty":            ``,
		"null":             `null`,
		"array":            `[{"id":"1"}]`,
		"truncated":        `{"data":[{"id":"1","text":"hel`,
		"problem object":   `{"title":"Unauthorized","type":"about:blank","status":401,"detail":"Unauthorized"}`,
		"invalid request":  `{"errors":[{"parameters":{"max_results":["5"]},"message":"bad"}],"title":"Invalid Request","detail":"One or more parameters to your request was invalid.","type":"https://api.twitter.com/2/problems/invalid-request"}`,
		"no data or meta":  `{}`,
		"id as number":     `{"data":[{"id":1893456789012345679,"text":"x"}],"meta":{}}`,
		"id not numeric":   `{"data":[{"id":"abc","text":"x","created_at":"2024-05-01T00:00:00Z"}],"meta":{}}`,
		"id missing":       `{"data":[{"text":"x","created_at":"2024-05-01T00:00:00Z"}],"meta":{}}`,
		"bad created_at":   `{"data":[{"id":"1","text":"x","created_at":"yesterday"}],"meta":{}}`,
		"no time at all":   `{"data":[{"id":"12","text":"x"}],"meta":{}}`,
		"negative metric":  `{"data":[{"id":"1","text":"x","created_at":"2024-05-01T00:00:00Z","public_metrics":{"like_count":-1}}],"meta":{}}`,
		"data not a list":  `{"data":{"id":"1","text":"x"},"meta":{}}`,
		"trailing garbage": `{"meta":{"result_count":0}} {}`,
		"year 9999":        `{"data":[{"id":"1","text":"x","created_at":"9999-01-01T00:00:00Z"}],"meta":{}}`,
	} {
		if page, err := MapResponse([]byte(body), fixtureSource, fixtureTime); err == nil {
			t.Errorf("%s: mapped %+v", name, page)
		}
	}
}

func FuzzMapResponse(f *testing.F) {
	for _, name := range []string{"search_page.json", "no_data.json", "mentions_page.json", "long_post.json", "twarc2_line.json", "user_not_found.json"} {
		f.Add(readFixture(f, name))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		page, err := MapResponse(body, fixtureSource, fixtureTime)
		if err != nil {
			if page != nil {
				t.Fatal("a page with an error")
			}
			return
		}
		for _, m := range page.Mentions {
			if err := m.Validate(); err != nil {
				t.Fatalf("mapped an invalid mention: %v", err)
			}
			if !isID(m.ID) || !json.Valid(m.Raw) {
				t.Fatalf("id %q raw %q", m.ID, m.Raw)
			}
		}
		if len(page.Mentions) > 0 && !isID(page.NewestID) {
			t.Fatalf("newest id %q", page.NewestID)
		}
	})
}
