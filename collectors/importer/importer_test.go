package importer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/govlisten/govlisten/mention"
)

func TestReadReportsBadLinesAndKeepsGoodOnes(t *testing.T) {
	good := `{"platform":"twitter","id":"%s","kind":"post","text":"ok","created_at":"2026-11-01T00:00:00Z","collected_at":"2026-11-01T00:00:00Z"}`
	line := func(id string) string { return strings.Replace(good, "%s", id, 1) }
	input := strings.Join([]string{
		line("1"),
		"",                                    // 2: blank, skipped silently
		`{"platform":"twitter","kind":"post"`, // 3: truncated
		line("4"),
		`{"platform":"twitter","kind":"post","text":"x","created_at":"2026-11-01T00:00:00Z","collected_at":"2026-11-01T00:00:00Z"}`, // 5: no id
		"garbage \xff",   // 6
		line("7") + "\r", // 7: CRLF
		line("8"),        // 8: no final newline
	}, "\n")
	var ids []string
	var bad []string
	err := Read(context.Background(), "in.jsonl", strings.NewReader(input), Formats["mention"],
		func(m *mention.Mention) error { ids = append(ids, m.ID); return nil },
		func(e *LineError) { bad = append(bad, e.Error()) })
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(ids, ",") != "1,4,7,8" {
		t.Fatalf("good lines: %v", ids)
	}
	if len(bad) != 3 || !strings.HasPrefix(bad[0], "in.jsonl:3: ") || !strings.HasPrefix(bad[1], "in.jsonl:5: id: missing") || !strings.HasPrefix(bad[2], "in.jsonl:6: ") {
		t.Fatalf("bad lines: %q", bad)
	}
}

func TestReadTooLongLine(t *testing.T) {
	input := strings.Repeat("x", MaxLine+10) + "\n" + `{"platform":"youtube","id":"a","kind":"comment","text":"ok","created_at":"2026-11-01T00:00:00Z","collected_at":"2026-11-01T00:00:00Z"}` + "\n"
	var ids, bad []string
	err := Read(context.Background(), "big", strings.NewReader(input), Formats["mention"],
		func(m *mention.Mention) error { ids = append(ids, m.ID); return nil },
		func(e *LineError) { bad = append(bad, e.Error()) })
	if err != nil || len(ids) != 1 || len(bad) != 1 || !strings.HasPrefix(bad[0], "big:1: line longer") {
		t.Fatalf("err %v ids %v bad %v", err, ids, bad)
	}
}

// Archives of API responses import through the collectors' own mapping.
func TestPlatformFormats(t *testing.T) {
	for _, tc := range []struct{ format, fixture string }{
		{"twitter-v2", "../twitter/testdata/search_page.json"},
		{"youtube-commentthreads", "../youtube/testdata/threads_html.json"},
		{"facebook-posts", "../facebook/testdata/feed_page.json"},
	} {
		t.Run(tc.format, func(t *testing.T) {
			raw, err := os.ReadFile(tc.fixture)
			if err != nil {
				t.Fatal(err)
			}
			var page bytes.Buffer
			if err := json.Compact(&page, raw); err != nil {
				t.Fatal(err)
			}
			want, err := Formats[tc.format](page.Bytes())
			if err != nil || len(want) == 0 {
				t.Fatalf("fixture maps to %d mentions, %v", len(want), err)
			}
			input := page.String() + "\n{\"data\": [ truncated\n" + page.String() + "\n"
			var got []*mention.Mention
			var bad []string
			err = Read(context.Background(), "archive.jsonl", strings.NewReader(input), Formats[tc.format],
				func(m *mention.Mention) error { got = append(got, m); return nil },
				func(e *LineError) { bad = append(bad, e.Error()) })
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 2*len(want) || got[0].ID != want[0].ID || got[0].Platform != want[0].Platform {
				t.Fatalf("imported %d mentions, want %d", len(got), 2*len(want))
			}
			if len(bad) != 1 || !strings.HasPrefix(bad[0], "archive.jsonl:2: ") {
				t.Fatalf("bad lines %q", bad)
			}
			for _, m := range got {
				if err := m.Validate(); err != nil {
					t.Fatalf("imported an invalid mention: %v", err)
				}
			}
		})
	}
}

// A mention emit rejects (too large for the bus) is a bad line and the
// import reads on; any other error from emit stops it.
func TestReadRejectedByEmit(t *testing.T) {
	line := func(id string) string {
		return `{"platform":"twitter","id":"` + id + `","kind":"post","text":"ok","created_at":"2026-11-01T00:00:00Z","collected_at":"2026-11-01T00:00:00Z"}`
	}
	input := line("1") + "\n" + line("2") + "\n" + line("3") + "\n"
	tooBig := errors.New("too large for the bus")
	var ids, bad []string
	err := Read(context.Background(), "in.jsonl", strings.NewReader(input), Formats["mention"],
		func(m *mention.Mention) error {
			if m.ID == "2" {
				return &RejectedError{Err: tooBig}
			}
			ids = append(ids, m.ID)
			return nil
		},
		func(e *LineError) { bad = append(bad, e.Error()) })
	if err != nil || strings.Join(ids, ",") != "1,3" || len(bad) != 1 || bad[0] != "in.jsonl:2: too large for the bus" {
		t.Fatalf("err %v, published %v, bad %q", err, ids, bad)
	}
	stop := errors.New("bus down")
	ids = nil
	err = Read(context.Background(), "in.jsonl", strings.NewReader(input), Formats["mention"],
		func(m *mention.Mention) error { ids = append(ids, m.ID); return stop },
		func(e *LineError) { t.Fatalf("bad line %v", e) })
	if !errors.Is(err, stop) || len(ids) != 1 {
		t.Fatalf("err %v after %v", err, ids)
	}
}
