package main

import (
	"strings"
	"testing"
	"time"
)

// govlisten settle leaves alone a day whose mentions were stored a moment
// ago: it settles only days quiet for sink.SettleQuiet (the counting
// itself is tested in package analytics).
func TestSettleCommand(t *testing.T) {
	e := newEnv(t, sharedClickHouse(t))
	old := time.Now().UTC().AddDate(0, 0, -3)
	e.mustRun("import", writeLines(t, [][]byte{mentionLine(t, "1", "1", "a", old), mentionLine(t, "2", "1", "a", old)}))
	e.mustRun("process", "--once")
	out := e.mustRun("settle")
	if !strings.Contains(out, "settled 0 day(s)") {
		t.Errorf("settle right after storing: %s", out)
	}
	if n := e.count("SELECT count() FROM DB.mentions_daily_settled"); n != 0 {
		t.Errorf("%d settlings of a day stored a moment ago", n)
	}
}
