package main

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/govlisten/govlisten/processors/sink"
)

// govlisten alerts --once, as cron runs it every few minutes: a spike two
// hours ago is posted once; a second run posts nothing; a webhook that
// fails gets it on the next run; the token is never printed.
func TestAlertsCommand(t *testing.T) {
	e := newEnv(t, sharedClickHouse(t))
	// The spike: dwp, 40 mentions in the hour that ended an hour ago, 3 an
	// hour in the 12 hours before it. Real time: the command judges the
	// hours before now.
	spike := time.Now().UTC().Truncate(time.Hour).Add(-2 * time.Hour)
	var rows []sink.Row
	for h := 12; h >= 1; h-- {
		for i := 0; i < 3; i++ {
			rows = append(rows, briefRow(fmt.Sprintf("5%02d%02d", h, i), spike.Add(-time.Duration(h)*time.Hour+time.Duration(i)*time.Minute), "Universal Credit payment date", "dwp", i == 0, 1))
		}
	}
	for i := 0; i < 40; i++ {
		rows = append(rows, briefRow(fmt.Sprintf("6%03d", i), spike.Add(time.Duration(i)*time.Minute), "Jobcentre sanctions chaos", "dwp", i < 30, uint64(100+i)))
	}
	e.insertRows(rows)
	hourAlerts := func(bodies []string) int {
		n := 0
		for _, b := range bodies {
			if strings.Contains(b, "Spike: Department for Work and Pensions") && strings.Contains(b, "in the hour from "+spike.Format("15:04")) {
				n++
			}
		}
		return n
	}
	base := e.vars

	// First a webhook that fails: the alert is stored, not sent; exit 1.
	failing := newChatHook(t, http.StatusInternalServerError)
	e.vars = append(slices.Clone(base), "GOVLISTEN_ALERTS_WEBHOOK_URL="+failing.URL())
	out, stderr, code := e.run(nil, "alerts", "--once", "--since", "6h")
	noSecret(t, "alerts --once to a failing webhook", out, stderr)
	if code != 1 || !strings.Contains(stderr, "retried next run") {
		t.Fatalf("alerts --once to a failing webhook: exit %d\n%s", code, stderr)
	}
	id := "hour:department:dwp:" + spike.Format(time.RFC3339)
	if n := e.count("SELECT count() FROM DB.alerts FINAL WHERE id = '" + id + "' AND notified_at = toDateTime(0)"); n != 1 {
		t.Fatalf("%d unsent alerts %s stored, want 1", n, id)
	}

	// Then a working one, twice: posted once.
	hook := newChatHook(t, http.StatusOK)
	e.vars = append(slices.Clone(base), "GOVLISTEN_ALERTS_WEBHOOK_URL="+hook.URL(), "GOVLISTEN_ALERTS_FORMAT=slack")
	for run := 1; run <= 2; run++ {
		out, stderr, code := e.run(nil, "alerts", "--once", "--since", "6h")
		noSecret(t, "alerts --once", out, stderr)
		if code != 0 {
			t.Fatalf("alerts --once, run %d: exit %d\n%s", run, code, stderr)
		}
	}
	if n := hourAlerts(hook.Bodies()); n != 1 {
		t.Fatalf("the hour's spike was posted %d times over two runs, want 1: %q", n, hook.Bodies())
	}
	if n := e.count("SELECT count() FROM DB.alerts FINAL WHERE id = '" + id + "' AND notified_at > toDateTime(0) AND has(top_terms, 'sanctions') AND mentions = 40"); n != 1 {
		t.Fatalf("the alert is not stored as sent with its numbers and words")
	}
	e.vars = base
}
