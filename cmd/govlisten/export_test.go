package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/govlisten/govlisten/processors/sink"
)

// govlisten export, as an analyst runs it: stdout and a file, both
// formats, and clear refusals of bad flags, which write nothing.
func TestExportCommand(t *testing.T) {
	e := newEnv(t, sharedClickHouse(t))
	day := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	var rows []sink.Row
	for i := range 30 {
		dept := "dwp"
		if i%3 == 0 {
			dept = "hmrc"
		}
		rows = append(rows, briefRow(fmt.Sprintf("5%03d", i), day.Add(time.Duration(i)*2*time.Hour), fmt.Sprintf("=1+%d, \"quoted\"\nline", i), dept, i%2 == 0, uint64(i)))
	}
	e.insertRows(rows)

	out, stderr, code := e.run(nil, "export", "--since", "2026-11-20", "--until", "2026-11-22", "--department", "dwp", "--progress", "never")
	if code != 0 {
		t.Fatalf("export exited %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 16 { // 24 in the two days, a third of them hmrc
		t.Fatalf("exported %d lines for dwp, want 16", len(lines))
	}
	for _, l := range lines {
		var r struct {
			ID          string   `json:"id"`
			Text        string   `json:"text"`
			Departments []string `json:"departments"`
		}
		if err := json.Unmarshal([]byte(l), &r); err != nil || len(r.Departments) != 1 || r.Departments[0] != "dwp" || !strings.HasPrefix(r.Text, "=1+") {
			t.Errorf("line %s: %+v, %v", l, r, err)
		}
	}

	file := filepath.Join(t.TempDir(), "week.csv")
	if _, stderr, code := e.run(nil, "export", "--since", "2026-11-20T00:00:00Z", "--until", "2026-11-20T12:00:00Z", "--format", "csv", "-o", file); code != 0 {
		t.Fatalf("export --format csv exited %d: %s", code, stderr)
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1+6 || recs[0][1] != "id" || !strings.HasPrefix(recs[1][10], "'=1+") {
		t.Errorf("csv: %d records, first %v", len(recs), recs[:min(2, len(recs))])
	}
	if entries, _ := os.ReadDir(filepath.Dir(file)); len(entries) != 1 {
		t.Errorf("%d files beside the export, want only it", len(entries))
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--since", "2026-11-20", "--department", "ministry-of-magic"}, `--department "ministry-of-magic" is not a department`},
		{[]string{"--since", "2026-11-20", "--topic", "quidditch"}, `--topic "quidditch" is not a topic`},
		{[]string{"--since", "2026-11-22", "--until", "2026-11-20"}, "to: must be after from"},
		{[]string{"--since", "yesterday"}, `--since "yesterday": want YYYY-MM-DD`},
		{[]string{"--since", "2026-11-20", "--platform", "myspace"}, `platform: "myspace" is not one of`},
		{[]string{"--since", "2020-01-01", "--until", "2026-01-01"}, "the range may cover at most"},
	} {
		out, stderr, code := e.run(nil, append([]string{"export"}, c.args...)...)
		if code != 1 || !strings.Contains(stderr, c.want) || out != "" {
			t.Errorf("export %v: exit %d, stdout %d bytes, stderr %q; want exit 1, nothing written, and %q", c.args, code, len(out), tail(stderr, 300), c.want)
		}
	}
}
