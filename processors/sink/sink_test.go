package sink_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/govlisten/govlisten/collectors"
	"github.com/govlisten/govlisten/internal/synth"
	"github.com/govlisten/govlisten/internal/testenv"
	"github.com/govlisten/govlisten/processors/sink"
	"github.com/govlisten/govlisten/processors/tagger"
)

// Migrate twice changes nothing; the rollup counts distinct mentions even
// when a batch is inserted twice (a retried Send), and agrees with the base
// table per department and topic.
func TestMigrateInsertAndRollup(t *testing.T) {
	srv, _ := testenv.ClickHouseServer(t)
	st := testenv.Store(t, srv.DSN("sinktest"))
	ctx := context.Background()
	if err := st.Migrate(ctx); err != nil {
		t.Fatalf("second migrate: %v", err)
	}
	tx, _ := tagger.LoadTaxonomy("")
	tg, _ := tagger.New(tx)
	g := synth.New(1)
	rows := make([]sink.Row, 3000)
	for i := range rows {
		m := g.Next()
		rows[i] = sink.Row{M: m, Tags: tg.Tag(m)}
	}
	for range 2 {
		if err := st.Insert(ctx, rows); err != nil {
			t.Fatal(err)
		}
	}
	if got := testenv.Count(t, st, "SELECT count() FROM sinktest.mentions FINAL"); got != 3000 {
		t.Fatalf("FINAL count %d", got)
	}
	if got := testenv.Count(t, st, "SELECT toUInt64(sum(m)) FROM (SELECT uniqMerge(mentions) AS m FROM sinktest.mentions_daily GROUP BY day)"); got != 3000 {
		t.Fatalf("rollup counts %d mentions, want 3000", got)
	}
	// Per department and topic, the rollup view equals the base table.
	var mismatches uint64
	if err := st.Conn().QueryRow(ctx, `
		SELECT count() FROM (
			SELECT department, topic, toUInt64(uniqMerge(mentions)) AS r FROM sinktest.mentions_daily_tags GROUP BY department, topic
		) ALL FULL OUTER JOIN (
			SELECT department, topic, count() AS b FROM (
				SELECT arrayJoin(if(empty(departments), [''], departments)) AS department,
				       arrayJoin(if(empty(topics), [''], topics)) AS topic FROM sinktest.mentions FINAL)
			GROUP BY department, topic
		) USING (department, topic) WHERE r != b`).Scan(&mismatches); err != nil {
		t.Fatal(err)
	}
	if mismatches != 0 {
		t.Fatalf("%d department-topic pairs differ between the rollup and the base table", mismatches)
	}
	// The ledger takes a run.
	now := time.Now().UTC().Truncate(time.Second)
	if err := st.RecordRun(ctx, collectors.Run{ID: "r1", Source: "dwp-search", Platform: "twitter", Kind: "search",
		Started: now, Finished: now.Add(time.Second), Pages: 3, Fetched: 250, Published: 240, Duplicates: 10, Calls: 3,
		Truncated: true, TruncatedBy: "quota", Error: "quota spent"}); err != nil {
		t.Fatal(err)
	}
	if got := testenv.Count(t, st, "SELECT sum(items_published) FROM sinktest.collection_runs WHERE source = 'dwp-search' AND truncated_by = 'quota'"); got != 240 {
		t.Fatalf("ledger: %d", got)
	}
	// Text, ids and timestamps come back byte-exact.
	want := rows[17].M
	var text, id string
	var created time.Time
	if err := st.Conn().QueryRow(ctx, "SELECT text, id, created_at FROM sinktest.mentions FINAL WHERE id = ?", want.ID).Scan(&text, &id, &created); err != nil {
		t.Fatal(err)
	}
	if text != want.Text || id != want.ID || !created.Equal(want.CreatedAt) {
		t.Fatalf("stored %q %q %v, want %q %q %v", text, id, created, want.Text, want.ID, want.CreatedAt)
	}
}

// A mentions table created by the first schema (no taxonomy column, three
// sentiment labels) is brought up to date by migrate, keeping its rows, and
// takes the new columns and label afterwards.
func TestMigrateUpgradesFirstSchema(t *testing.T) {
	srv, _ := testenv.ClickHouseServer(t)
	ctx := context.Background()
	st, err := sink.OpenDSN(ctx, srv.DSN("upgradetest"), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	stmts, err := sink.Statements(sink.SchemaParams{DB: "upgradetest"})
	if err != nil {
		t.Fatal(err)
	}
	// The first schema: 001 without what 004 adds.
	for _, s := range stmts {
		if s.File != "clickhouse/001_mentions.sql" {
			continue
		}
		sql := s.SQL
		if !strings.Contains(sql, "CREATE TABLE") {
			if err := st.Conn().Exec(ctx, sql); err != nil {
				t.Fatal(err)
			}
			continue
		}
		for _, cut := range []string{", 'unsupported' = 2", "taxonomy String COMMENT 'the taxonomy that tagged the row, as name@content-hash',"} {
			if !strings.Contains(sql, cut) {
				t.Fatalf("001 no longer contains %q; update this test", cut)
			}
			sql = strings.Replace(sql, cut, "", 1)
		}
		if err := st.Conn().Exec(ctx, sql); err != nil {
			t.Fatalf("creating the first schema: %v", err)
		}
	}
	// (A batch: 18.16 never answers an INSERT ... VALUES sent through Exec.)
	b, err := st.Conn().PrepareBatch(ctx, "INSERT INTO upgradetest.mentions (platform, id, kind, text, created_at, collected_at, sentiment_label, processed_at)")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if err := b.Append("twitter", "1", "post", "before the upgrade", now, now, "negative", now); err != nil {
		t.Fatal(err)
	}
	if err := b.Send(); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := st.Migrate(ctx); err != nil {
			t.Fatalf("migrate over the first schema: %v", err)
		}
	}
	m := synth.New(3).Next()
	if err := st.Insert(ctx, []sink.Row{{M: m, Tags: tagger.Tags{Sentiment: tagger.Score{Label: "unsupported"}}, Taxonomy: "t@1"}}); err != nil {
		t.Fatalf("insert after the upgrade: %v", err)
	}
	if got := testenv.Count(t, st, "SELECT count() FROM upgradetest.mentions WHERE (text = 'before the upgrade' AND taxonomy = '') OR (taxonomy = 't@1' AND sentiment_label = 'unsupported')"); got != 2 {
		t.Fatalf("after the upgrade %d of the 2 rows read back as stored", got)
	}
}

// An insertion's blocks become one part of mentions and of each rollup.
// An aborted insertion of mentions already stored (the batch of a failed
// insert, which the processor naks, so that it comes back) doubles nothing,
// even where the server keeps what it received before the connection
// closed, as 18.16 does.
func TestInsertionBlocksMakeOnePart(t *testing.T) {
	srv, _ := testenv.ClickHouseServer(t)
	st := testenv.Store(t, srv.DSN("blocks"))
	ctx := context.Background()
	tx, _ := tagger.LoadTaxonomy("")
	tg, _ := tagger.New(tx)
	g := synth.New(7)
	block := func(n int) []sink.Row {
		rows := make([]sink.Row, n)
		for i := range rows {
			m := g.Next()
			m.CreatedAt = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC) // one partition
			rows[i] = sink.Row{M: m, Tags: tg.Tag(m)}
		}
		return rows
	}
	in, err := st.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	first := block(1000)
	for _, rows := range [][]sink.Row{first, block(1), block(2500)} {
		if err := in.Write(rows); err != nil {
			t.Fatal(err)
		}
	}
	if in.Rows() != 3501 {
		t.Fatalf("Rows() = %d after 3,501 written", in.Rows())
	}
	if got := testenv.Count(t, st, "SELECT count() FROM blocks.mentions"); got != 0 {
		t.Fatalf("%d rows visible before Commit", got)
	}
	if err := in.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := testenv.Count(t, st, "SELECT count() FROM blocks.mentions"); got != 3501 {
		t.Fatalf("%d rows stored, want 3501", got)
	}
	for _, table := range []string{"mentions", "mentions_daily", "mentions_hourly"} {
		got := testenv.Count(t, st, "SELECT count() FROM system.parts WHERE database = 'blocks' AND table = '"+table+"' AND active")
		if got != 1 {
			t.Errorf("%s: %d parts after one insertion of three blocks, want 1", table, got)
		}
	}

	again, err := st.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := again.Write(first[:500]); err != nil {
		t.Fatal(err)
	}
	again.Abort()
	time.Sleep(time.Second) // for the server to end the insert either way
	if got := testenv.Count(t, st, "SELECT count() FROM blocks.mentions FINAL"); got != 3501 {
		t.Fatalf("after an aborted re-insert, %d mentions after FINAL, want 3501", got)
	}
	if got := testenv.Count(t, st, "SELECT toUInt64(uniqMerge(mentions)) FROM blocks.mentions_daily"); got != 3501 {
		t.Fatalf("after an aborted re-insert, the rollup counts %d mentions, want 3501", got)
	}
}
