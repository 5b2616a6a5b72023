package importer

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"sort"
	"testing"

	"github.com/govlisten/govlisten/mention"
)

// FuzzRead feeds arbitrary bytes as a file to Read with every import format
// (mention, twitter-v2, youtube-commentthreads, facebook-posts), the path of
// `govlisten import`.
//
// Properties: no panic; Read itself never fails on an in-memory file; it
// splits the file into the same numbered lines as a plain split on "\n"
// (CRLF and a missing final newline allowed) and reports exactly the lines
// whose decoding fails, by number; a bad line publishes nothing (no
// half-read page); every mention published is valid; and a mention record
// published by the mention format reads back the same from its own JSON.
func FuzzRead(f *testing.F) {
	good := `{"platform":"twitter","id":"1","kind":"post","text":"ok","created_at":"2026-11-01T00:00:00Z","collected_at":"2026-11-01T00:00:00Z"}`
	f.Add([]byte(good + "\n\n{\"platform\":\"twitter\"\ngarbage \xff\r\n" + good))
	f.Add([]byte("\r\n\n \t\n"))
	for _, fixture := range []string{"../twitter/testdata/search_page.json", "../youtube/testdata/threads_html.json", "../facebook/testdata/feed_page.json"} {
		raw, err := os.ReadFile(fixture)
		if err != nil {
			f.Fatal(err)
		}
		var line bytes.Buffer
		if err := json.Compact(&line, raw); err != nil {
			f.Fatal(err)
		}
		f.Add(append(line.Bytes(), '\n'))
	}
	names := make([]string, 0, len(Formats))
	for n := range Formats {
		names = append(names, n)
	}
	sort.Strings(names)
	f.Fuzz(func(t *testing.T, data []byte) {
		// The lines as a plain split sees them.
		lines := bytes.Split(data, []byte("\n"))
		if len(lines) > 0 && len(lines[len(lines)-1]) == 0 {
			lines = lines[:len(lines)-1]
		}
		for _, name := range names {
			format := Formats[name]
			var wantBad []int
			wantMentions := 0
			for i, l := range lines {
				l = bytes.TrimSuffix(l, []byte("\r"))
				if len(bytes.TrimSpace(l)) == 0 {
					continue
				}
				ms, err := format(l)
				if err != nil {
					if len(ms) > 0 {
						t.Fatalf("%s: line %d is bad (%v) but gives %d mentions", name, i+1, err, len(ms))
					}
					wantBad = append(wantBad, i+1)
				}
				wantMentions += len(ms)
			}
			var got []*mention.Mention
			var bad []int
			err := Read(context.Background(), "fuzz", bytes.NewReader(data), format,
				func(m *mention.Mention) error { got = append(got, m); return nil },
				func(e *LineError) { bad = append(bad, e.Line) })
			if err != nil {
				t.Fatalf("%s: Read failed on an in-memory file: %v", name, err)
			}
			if !equalInts(bad, wantBad) {
				t.Fatalf("%s: bad lines %v, want %v", name, bad, wantBad)
			}
			if len(got) != wantMentions {
				t.Fatalf("%s: %d mentions, want %d", name, len(got), wantMentions)
			}
			for _, m := range got {
				if err := m.Validate(); err != nil {
					t.Fatalf("%s: published an invalid mention: %v", name, err)
				}
				if name != "mention" {
					continue
				}
				b, err := json.Marshal(m)
				if err != nil {
					t.Fatal(err)
				}
				back, err := Formats["mention"](b)
				if err != nil || len(back) != 1 {
					t.Fatalf("a published record does not read back: %v\n%s", err, b)
				}
				if back[0].MsgID() != m.MsgID() || back[0].Text != m.Text || back[0].ID != m.ID {
					t.Fatalf("a published record reads back changed:\n%+v\n%+v", *m, *back[0])
				}
			}
		}
	})
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
