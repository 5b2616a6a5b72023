package main

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/govlisten/govlisten/mention"
)

// mentionLine is one mention record by the given X author.
func mentionLine(t *testing.T, id, authorID, handle string, created time.Time) []byte {
	t.Helper()
	m := mention.Mention{V: 1, Platform: mention.Twitter, ID: id, Kind: mention.KindPost, AuthorID: authorID, AuthorHandle: handle,
		AuthorName: "Name of " + handle, Text: "the helpline kept me waiting " + id, CreatedAt: created.UTC(), CollectedAt: created.UTC().Add(time.Minute),
		Raw: json.RawMessage(`{"id":"` + id + `","author_id":"` + authorID + `"}`)}
	b, err := json.Marshal(&m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (e *env) mustRun(args ...string) string {
	e.t.Helper()
	out, stderr, code := e.run(nil, args...)
	if code != 0 {
		e.t.Fatalf("govlisten %s exited %d:\n%s\n%s", strings.Join(args, " "), code, out, stderr)
	}
	return out
}

// govlisten erase, as an operator runs it: it shows and asks first, then
// removes the author from ClickHouse and from what is still on the stream,
// and the processors carry on with the rest.
func TestEraseCommand(t *testing.T) {
	e := newEnv(t, sharedClickHouse(t))
	now := time.Now().UTC().Add(-time.Hour)
	var first, second [][]byte
	for i := range 3 {
		first = append(first, mentionLine(t, fmt.Sprint(5000+i), "5550001", "Alice_Cmd", now), mentionLine(t, fmt.Sprint(6000+i), "6660001", "bob_cmd", now))
	}
	second = append(second, mentionLine(t, "5100", "5550001", "Alice_Cmd", now), mentionLine(t, "6100", "6660001", "bob_cmd", now))
	e.mustRun("import", writeLines(t, first))
	e.mustRun("process", "--once")
	e.mustRun("import", writeLines(t, second))
	const byA = "SELECT count() FROM DB.mentions WHERE author_id = '5550001' OR lower(author_handle) = 'alice_cmd' OR position(raw, '5550001') > 0"

	out, stderr, code := e.run(nil, "erase", "--author", "@alice_cmd")
	if code != 1 || !strings.Contains(stderr, "--yes") || !strings.Contains(out, "3 mentions (3 stored rows): to delete") {
		t.Fatalf("erase without --yes, not on a terminal: exit %d\n%s\n%s", code, out, stderr)
	}
	if n := e.count(byA); n != 3 {
		t.Fatalf("erase without --yes changed ClickHouse: %d of the author's rows", n)
	}

	pseudo := append(e.vars, "GOVLISTEN_PRIVACY_PSEUDONYMISE=true")
	e.vars, pseudo = pseudo, e.vars
	if _, stderr, code := e.run(nil, "erase", "--author", "@alice_cmd", "--yes"); code != 1 || !strings.Contains(stderr, "GOVLISTEN_PRIVACY_KEY") {
		t.Fatalf("pseudonymisation on, no key: exit %d: %s", code, stderr)
	}
	e.vars = pseudo

	out = e.mustRun("erase", "--author", "@alice_cmd", "--yes")
	for _, want := range []string{"known as: 5550001, alice_cmd", "3 mentions (3 stored rows): deleted", "1 of 2 messages: deleted", "Not covered"} {
		if !strings.Contains(out, want) {
			t.Errorf("erase output lacks %q:\n%s", want, out)
		}
	}
	t.Log(out)
	e.mustRun("process", "--once")
	if n := e.count(byA); n != 0 {
		t.Errorf("%d rows of the author left", n)
	}
	if n := e.count("SELECT count() FROM DB.mentions FINAL WHERE author_id = '6660001'"); n != 4 {
		t.Errorf("the other author has %d mentions, want 4", n)
	}
	if n := e.count("SELECT toUInt64(uniqMerge(mentions)) FROM DB.mentions_daily"); n != 4 {
		t.Errorf("the daily rollup counts %d mentions, want 4", n)
	}
}

// govlisten retention apply refuses to run with retention.months 0, shows
// with --dry-run, and drops the old months.
func TestRetentionCommand(t *testing.T) {
	e := newEnv(t, sharedClickHouse(t))
	now := time.Now().UTC()
	old := now.AddDate(0, -14, 0)
	e.mustRun("import", writeLines(t, [][]byte{
		mentionLine(t, "1", "1", "a", old), mentionLine(t, "2", "1", "a", old), mentionLine(t, "3", "1", "a", now.Add(-time.Hour)),
	}))
	e.mustRun("process", "--once")
	oldMonth := fmt.Sprintf("%d%02d", old.Year(), old.Month())

	if _, stderr, code := e.run(nil, "retention", "apply"); code != 1 || !strings.Contains(stderr, "retention.months is 0") {
		t.Fatalf("retention.months 0: exit %d: %s", code, stderr)
	}
	out := e.mustRun("retention", "apply", "--months", "12", "--dry-run")
	if !regexp.MustCompile(`would drop\s+mentions\s+`+oldMonth+`\s+2 rows`).MatchString(out) || !strings.Contains(out, "mentions_daily") {
		t.Fatalf("dry run output:\n%s", out)
	}
	if n := e.count("SELECT count() FROM DB.mentions"); n != 3 {
		t.Fatalf("dry run dropped data: %d mentions left", n)
	}
	e.vars = append(e.vars, "GOVLISTEN_RETENTION_MONTHS=12")
	out = e.mustRun("retention", "apply")
	if !strings.Contains(out, "dropped  mentions") || !strings.Contains(out, "kept 12 months") {
		t.Fatalf("retention output:\n%s", out)
	}
	if n := e.count("SELECT count() FROM DB.mentions"); n != 1 {
		t.Errorf("%d mentions left, want the recent one", n)
	}
	t.Log(out)
}
