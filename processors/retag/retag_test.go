package retag_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/govlisten/govlisten/internal/synth"
	"github.com/govlisten/govlisten/internal/testenv"
	"github.com/govlisten/govlisten/processors"
	"github.com/govlisten/govlisten/processors/retag"
	"github.com/govlisten/govlisten/processors/sink"
	"github.com/govlisten/govlisten/processors/tagger"
)

const oldRules = `version: 1
departments:
  - slug: dwp
    name: Department for Work and Pensions
    rules: ['"universal credit"']
topics:
  - slug: welfare
    name: Welfare
    rules: [benefits]
`

const newRules = `version: 1
departments:
  - slug: dwp
    name: Department for Work and Pensions
    rules: ['"universal credit"', pension*]
  - slug: hmrc
    name: HM Revenue and Customs
    rules: [HMRC, tax]
topics:
  - slug: welfare
    name: Welfare
    rules: [benefits, '"universal credit"']
  - slug: tax
    name: Tax
    rules: [tax]
`

func taxonomy(t *testing.T, dir, name, rules string) *processors.Taxonomy {
	t.Helper()
	path := filepath.Join(dir, name+".yaml")
	if err := os.WriteFile(path, []byte(rules), 0o600); err != nil {
		t.Fatal(err)
	}
	tax, err := processors.LoadTaxonomy(path, processors.Compile(tagger.Options{}))
	if err != nil {
		t.Fatal(err)
	}
	return tax
}

// failAfter is a store whose inserts fail after n pages: a crash mid-run.
type failAfter struct {
	*sink.Store
	n int
}

var errCrash = errors.New("simulated crash")

func (f *failAfter) Insert(ctx context.Context, rows []sink.Row) error {
	if f.n == 0 {
		return errCrash
	}
	f.n--
	return f.Store.Insert(ctx, rows)
}

// A re-tag interrupted after three pages resumes from its state file and,
// at the end, every stored mention carries the new taxonomy's tags and
// version, none is doubled, the rollup agrees with the base table in every
// month, and a second run stores nothing.
func TestRetagResumesAndRebuildsRollup(t *testing.T) {
	srv, _ := testenv.ClickHouseServer(t)
	st := testenv.Store(t, srv.DSN("retagtest"))
	ctx := context.Background()
	dir := t.TempDir()
	oldTax, newTax := taxonomy(t, dir, "old", oldRules), taxonomy(t, dir, "new", newRules)

	const n = 4000
	g := synth.New(7)
	rows := make([]sink.Row, n)
	for i := range rows {
		m := g.Next()
		if i%2 == 0 {
			m.CreatedAt = m.CreatedAt.AddDate(0, -1, 0) // two months, two rollup partitions
		}
		cur := oldTax.Current()
		rows[i] = sink.Row{M: m, Tags: cur.Tag(m), Taxonomy: cur.Version}
	}
	if err := st.Insert(ctx, rows); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond) // the re-tagged rows get a later processed_at

	opts := retag.Options{
		Since: time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC), Until: time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC),
		PageSize: 300, StateFile: filepath.Join(dir, "retag.state.json"),
	}
	s, err := retag.Run(ctx, &failAfter{Store: st, n: 3}, newTax, opts)
	if !errors.Is(err, errCrash) {
		t.Fatalf("first run: %v, want the simulated crash", err)
	}
	if s.Retagged == 0 {
		t.Fatalf("first run stored nothing before the crash")
	}
	if _, err := os.Stat(opts.StateFile); err != nil {
		t.Fatalf("no state file after the crash: %v", err)
	}
	var reads int64
	opts.Progress = func(r int64) { reads = r }
	s, err = retag.Run(ctx, st, newTax, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !s.Resumed || s.Read != n || reads != n {
		t.Fatalf("second run: resumed %v, read %d (progress %d), want a resumed run that read %d in all", s.Resumed, s.Read, reads, n)
	}
	if s.Changed == 0 {
		t.Fatalf("no mention changed tags; the test taxonomies should differ on synthetic text")
	}
	if _, err := os.Stat(opts.StateFile); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("state file left after a finished run: %v", err)
	}

	if got := testenv.Count(t, st, "SELECT count() FROM retagtest.mentions FINAL"); got != n {
		t.Fatalf("FINAL count %d, want %d", got, n)
	}
	cur := newTax.Current()
	if got := testenv.Count(t, st, "SELECT count() FROM retagtest.mentions FINAL WHERE taxonomy != '"+cur.Version+"'"); got != 0 {
		t.Fatalf("%d mentions not re-tagged", got)
	}
	// Every stored mention's tags are the new taxonomy's.
	want := map[string][2][]string{}
	for _, r := range rows {
		tags := cur.Tag(r.M)
		want[r.M.ID] = [2][]string{tags.Departments, tags.Topics}
	}
	q, err := st.Conn().Query(ctx, "SELECT id, departments, topics FROM retagtest.mentions FINAL")
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for q.Next() {
		var (
			id            string
			depts, topics []string
		)
		if err := q.Scan(&id, &depts, &topics); err != nil {
			t.Fatal(err)
		}
		w := want[id]
		if !slices.Equal(depts, w[0]) || !slices.Equal(topics, w[1]) {
			t.Fatalf("mention %s stored with %v %v, want %v %v", id, depts, topics, w[0], w[1])
		}
		seen++
	}
	q.Close()
	if seen != n {
		t.Fatalf("read back %d mentions, want %d", seen, n)
	}
	// The rollup counts each mention once, under its new tags, in both months.
	var mismatches uint64
	if err := st.Conn().QueryRow(ctx, `
		SELECT count() FROM (
			SELECT day, department, topic, toUInt64(uniqMerge(mentions)) AS r FROM retagtest.mentions_daily_tags GROUP BY day, department, topic
		) ALL FULL OUTER JOIN (
			SELECT day, department, topic, count() AS b FROM (
				SELECT day, arrayJoin(if(empty(departments), [''], departments)) AS department,
				       arrayJoin(if(empty(topics), [''], topics)) AS topic FROM retagtest.mentions FINAL)
			GROUP BY day, department, topic
		) USING (day, department, topic) WHERE r != b`).Scan(&mismatches); err != nil {
		t.Fatal(err)
	}
	if mismatches != 0 {
		t.Fatalf("%d day-department-topic cells differ between the rebuilt rollup and the base table", mismatches)
	}
	if got := testenv.Count(t, st, "SELECT uniqExact(toYYYYMM(day)) FROM retagtest.mentions_daily"); got != 2 {
		t.Fatalf("rollup has %d months, want 2", got)
	}

	// Nothing left to do: a new run reads everything and stores nothing.
	s, err = retag.Run(ctx, st, newTax, opts)
	if err != nil {
		t.Fatal(err)
	}
	if s.Resumed || s.Read != n || s.Retagged != 0 {
		t.Fatalf("third run: resumed %v, read %d, retagged %d; want a fresh run reading %d and storing none", s.Resumed, s.Read, s.Retagged, n)
	}
}
