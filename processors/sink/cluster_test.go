package sink_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/govlisten/govlisten/analytics"
	"github.com/govlisten/govlisten/collectors"
	"github.com/govlisten/govlisten/config"
	"github.com/govlisten/govlisten/internal/chlocal"
	"github.com/govlisten/govlisten/internal/synth"
	"github.com/govlisten/govlisten/internal/testenv"
	"github.com/govlisten/govlisten/processors/sink"
	"github.com/govlisten/govlisten/processors/tagger"
)

// The replicated schema on a real cluster: ZooKeeper and three
// clickhouse-server processes, shard 01 with two replicas and shard 02 with
// one. migrate --cluster creates everything on every server (twice: it is
// idempotent); the processor's inserts go through the Distributed mentions
// table to the shard of each mention and are replicated within the shard;
// a redelivered batch lands on the same shards, so FINAL through the
// Distributed table counts each mention once; the rollups, the ledger and
// a rollup rebuild work through their Distributed tables.
func TestClusterSchema(t *testing.T) {
	const cluster, db = "govlisten_test", "clustertest"
	c := testenv.ClickHouseCluster(t, cluster, 2, 1)
	r1, r2, other := c.Shards[0][0], c.Shards[0][1], c.Shards[1][0]
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()

	cfg := config.Default()
	cfg.ClickHouse.DSN = r1.DSN(db)
	cfg.ClickHouse.Cluster = cluster
	st, err := sink.Open(ctx, &cfg, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	start := time.Now()
	for i := range 2 {
		if err := st.Migrate(ctx); err != nil {
			t.Fatalf("migrate %d: %v", i+1, err)
		}
	}
	t.Logf("migrate ON CLUSTER twice: %s", time.Since(start).Round(time.Millisecond))

	// Every server has every table, with the engine of its shape.
	want := map[string]string{
		"mentions_local": "ReplicatedReplacingMergeTree", "mentions": "Distributed",
		"mentions_daily_local": "ReplicatedAggregatingMergeTree", "mentions_daily": "Distributed", "mentions_daily_mv": "MaterializedView", "mentions_daily_tags": "View",
		"mentions_hourly_local": "ReplicatedAggregatingMergeTree", "mentions_hourly": "Distributed", "mentions_hourly_mv": "MaterializedView", "mentions_hourly_tags": "View",
		"collection_runs_local": "ReplicatedMergeTree", "collection_runs": "Distributed",
		"alerts_local": "ReplicatedReplacingMergeTree", "alerts": "Distributed",
		"questions_local": "ReplicatedReplacingMergeTree", "questions": "Distributed", "questions_mv": "MaterializedView", "questions_backfilled": "View",
		"mentions_daily_counts_local": "ReplicatedMergeTree", "mentions_daily_counts": "Distributed",
		"mentions_daily_settled_local": "ReplicatedReplacingMergeTree", "mentions_daily_settled": "Distributed",
	}
	conns := map[string]*sink.Store{}
	for _, srv := range c.Servers() {
		s := open(t, srv, db)
		conns[srv.Addr()] = s
		for table, engine := range want {
			var got string
			if err := s.Conn().QueryRow(ctx, "SELECT engine FROM system.tables WHERE database = ? AND name = ?", db, table).Scan(&got); err != nil {
				t.Fatalf("%s on %s: %v", table, srv.Addr(), err)
			}
			if got != engine {
				t.Errorf("%s on %s is %s, want %s", table, srv.Addr(), got, engine)
			}
		}
	}

	// A column added to the local tables (as a later schema file would)
	// reaches the Distributed table on every server at the next migrate.
	if err := st.Conn().Exec(ctx, "ALTER TABLE "+db+".mentions_local ON CLUSTER "+cluster+" ADD COLUMN later String DEFAULT ''"); err != nil {
		t.Fatal(err)
	}
	if err := st.Migrate(ctx); err != nil {
		t.Fatalf("migrate after a new column: %v", err)
	}
	for _, srv := range c.Servers() {
		if n := testenv.Count(t, conns[srv.Addr()], "SELECT count() FROM system.columns WHERE database = '"+db+"' AND table = 'mentions' AND name = 'later'"); n != 1 {
			t.Errorf("the Distributed mentions on %s lacks the new column", srv.Addr())
		}
	}

	// Insert through the Distributed table, then the same batch again (a
	// redelivery).
	tx, _ := tagger.LoadTaxonomy("")
	tg, _ := tagger.New(tx)
	g := synth.New(7)
	rows := make([]sink.Row, 2000)
	for i := range rows {
		m := g.Next()
		rows[i] = sink.Row{M: m, Tags: tg.Tag(m), Taxonomy: "t@1"}
	}
	if err := st.Insert(ctx, rows); err != nil {
		t.Fatal(err)
	}
	local := func(s *sink.Store, final string) uint64 {
		return testenv.Count(t, s, "SELECT count() FROM "+db+".mentions_local "+final)
	}
	// insert_distributed_sync: the shards have the rows when Insert returns.
	s1, s2 := local(conns[r1.Addr()], ""), local(conns[other.Addr()], "")
	if s1+s2 != uint64(len(rows)) || s1 == 0 || s2 == 0 {
		t.Fatalf("after the insert shard 01 has %d rows and shard 02 %d, want %d in all on both", s1, s2, len(rows))
	}
	syncReplicas(t, c, conns, db)
	if got := local(conns[r2.Addr()], ""); got != s1 {
		t.Fatalf("replica 2 of shard 01 has %d rows, replica 1 %d", got, s1)
	}

	// The same mentions again, re-tagged: a block that differs from the
	// first (an identical block would be dropped by the replicated tables'
	// block deduplication).
	for i := range rows {
		rows[i].Taxonomy = "t@2"
	}
	if err := st.Insert(ctx, rows); err != nil {
		t.Fatal(err)
	}
	// Each shard got its own mentions again (the sharding key is the
	// mention), so FINAL collapses them shard by shard.
	if a, b := local(conns[r1.Addr()], ""), local(conns[other.Addr()], ""); a != 2*s1 || b != 2*s2 {
		t.Fatalf("after the redelivery the shards have %d and %d rows, want %d and %d", a, b, 2*s1, 2*s2)
	}
	syncReplicas(t, c, conns, db)
	for _, srv := range c.Servers() {
		s := conns[srv.Addr()]
		if got := testenv.Count(t, s, "SELECT count() FROM "+db+".mentions FINAL"); got != uint64(len(rows)) {
			t.Errorf("mentions FINAL through %s: %d, want %d", srv.Addr(), got, len(rows))
		}
		if got := testenv.Count(t, s, "SELECT toUInt64(sum(m)) FROM (SELECT uniqMerge(mentions) AS m FROM "+db+".mentions_daily GROUP BY day)"); got != uint64(len(rows)) {
			t.Errorf("mentions_daily through %s counts %d mentions, want %d", srv.Addr(), got, len(rows))
		}
	}
	if got := local(conns[r2.Addr()], "FINAL"); got != s1 {
		t.Errorf("replica 2 of shard 01 has %d mentions after FINAL, want %d", got, s1)
	}
	// The store's own reads go through the Distributed table too.
	first, last := rows[0].M.CreatedAt, rows[0].M.CreatedAt
	for _, r := range rows {
		if r.M.CreatedAt.Before(first) {
			first = r.M.CreatedAt
		}
		if r.M.CreatedAt.After(last) {
			last = r.M.CreatedAt
		}
	}
	if n, err := st.CountDays(ctx, first, last); err != nil || n != uint64(len(rows)) {
		t.Errorf("CountDays: %d, %v; want %d", n, err, len(rows))
	}

	// The ledger, through its Distributed table.
	now := time.Now().UTC().Truncate(time.Second)
	if err := st.RecordRun(ctx, collectors.Run{ID: "r1", Source: "dwp-search", Platform: "twitter", Kind: "search", Started: now, Finished: now, Published: 5}); err != nil {
		t.Fatal(err)
	}
	syncReplicas(t, c, conns, db)
	if got := testenv.Count(t, conns[other.Addr()], "SELECT sum(items_published) FROM "+db+".collection_runs WHERE source = 'dwp-search'"); got != 5 {
		t.Errorf("ledger through shard 02: %d", got)
	}

	// A rebuild of every month leaves the rollups' counts as they were.
	months := map[int]bool{}
	for _, r := range rows {
		months[r.M.CreatedAt.Year()*100+int(r.M.CreatedAt.Month())] = true
	}
	for m := range months {
		if err := st.RebuildRollups(ctx, m); err != nil {
			t.Fatalf("rebuilding %d: %v", m, err)
		}
	}
	syncReplicas(t, c, conns, db)
	for _, table := range []string{"mentions_daily", "mentions_hourly"} {
		if got := testenv.Count(t, conns[r2.Addr()], "SELECT toUInt64(sum(m)) FROM (SELECT uniqMerge(mentions) AS m FROM "+db+"."+table+" GROUP BY platform)"); got != uint64(len(rows)) {
			t.Errorf("%s after the rebuild counts %d mentions, want %d", table, got, len(rows))
		}
	}

	// Table questions holds, through its Distributed table, one row per
	// question and own mention of mentions, after the redelivery and the
	// rebuild, and again after migrate copied every question once more
	// through it (as on a database that predates the table).
	questions := func(when string) {
		t.Helper()
		want := testenv.Count(t, st, "SELECT count() FROM "+db+".mentions FINAL WHERE own = 1 OR position(text, '?') > 0 OR match(text, '"+strings.ReplaceAll(analytics.QuestionStart, `\`, `\\`)+"')")
		for _, srv := range c.Servers() {
			if got := testenv.Count(t, conns[srv.Addr()], "SELECT count() FROM "+db+".questions FINAL"); got != want || want == 0 {
				t.Errorf("%s: questions FINAL through %s has %d rows, mentions %d questions and own mentions", when, srv.Addr(), got, want)
			}
		}
	}
	questions("after the rebuild")
	if err := st.Conn().Exec(ctx, "DROP TABLE "+db+".questions_backfilled ON CLUSTER "+cluster); err != nil {
		t.Fatal(err)
	}
	if err := st.Migrate(ctx); err != nil {
		t.Fatalf("migrate copying the questions again: %v", err)
	}
	syncReplicas(t, c, conns, db)
	questions("after the backfill")

	// Settling counts each day across the shards once, readable through
	// every server; a day that changes is settled again, and the mutation
	// that deletes its older counts runs ON CLUSTER.
	later := time.Now().Add(sink.SettleQuiet + time.Minute)
	farDay := later.Add(48 * time.Hour).Truncate(24 * time.Hour)
	done, err := st.SettleBefore(ctx, farDay, later)
	if err != nil {
		t.Fatal(err)
	}
	days := testenv.Count(t, st, "SELECT uniqExact(day) FROM "+db+".mentions")
	if uint64(len(done)) != days {
		t.Errorf("settled %d days, want the %d days of the mentions", len(done), days)
	}
	settledCounts := func(when string) {
		t.Helper()
		syncReplicas(t, c, conns, db)
		for _, srv := range c.Servers() {
			q := "SELECT sum(mentions) FROM " + db + ".mentions_daily_counts WHERE (day, settled_at) GLOBAL IN (SELECT day, max(settled_at) FROM " + db + ".mentions_daily_settled GROUP BY day)"
			if got := testenv.Count(t, conns[srv.Addr()], q); got != uint64(len(rows)) {
				t.Errorf("%s: the settled counts through %s add up to %d mentions, want %d", when, srv.Addr(), got, len(rows))
			}
		}
	}
	settledCounts("after settling")
	time.Sleep(1100 * time.Millisecond) // a newer processed_at (whole seconds)
	for i := range rows {
		rows[i].Taxonomy = "t@3"
	}
	if err := st.Insert(ctx, rows[:1]); err != nil {
		t.Fatal(err)
	}
	if done, err = st.SettleBefore(ctx, farDay, later.Add(time.Minute)); err != nil || len(done) != 1 || !done[0].Again {
		t.Fatalf("settling the changed day: %+v, %v; want it settled again", done, err)
	}
	settledCounts("after settling a day again")
}

func open(t *testing.T, srv *chlocal.Server, db string) *sink.Store {
	t.Helper()
	s, err := sink.OpenDSN(context.Background(), srv.DSN(db), srv.DSN(db), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// syncReplicas waits until every replica has fetched what its shard
// received (an insert through a Distributed table reaches one replica of
// each shard; the others copy it in the background).
func syncReplicas(t *testing.T, c *testenv.Cluster, conns map[string]*sink.Store, db string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, srv := range c.Servers() {
		for _, table := range []string{"mentions_local", "mentions_daily_local", "mentions_hourly_local", "collection_runs_local", "alerts_local", "questions_local",
			"mentions_daily_counts_local", "mentions_daily_settled_local"} {
			if err := conns[srv.Addr()].Conn().Exec(ctx, "SYSTEM SYNC REPLICA "+db+"."+table); err != nil {
				t.Fatalf("SYSTEM SYNC REPLICA %s on %s: %v", table, srv.Addr(), err)
			}
		}
	}
}

// The one-host rendering names no cluster feature; the cluster rendering
// has ON CLUSTER in every statement that changes the schema, only
// Replicated engines, each with its own path, and a Distributed table
// with the public name over every stored table.
func TestClusterRendering(t *testing.T) {
	plain, err := sink.Statements(sink.SchemaParams{DB: "govlisten"})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range plain {
		for _, bad := range []string{"ON CLUSTER", "Replicated", "_local", "Distributed", "{shard}"} {
			if strings.Contains(s.SQL, bad) {
				t.Errorf("one-host %s statement %d contains %q", s.File, s.N, bad)
			}
		}
	}
	sts, err := sink.Statements(sink.SchemaParams{DB: "govlisten", Cluster: "prod"})
	if err != nil {
		t.Fatal(err)
	}
	var (
		stored      = map[string]bool{}
		distributed = map[string]string{}
		paths       = map[string]bool{}
		engineRE    = regexp.MustCompile(`CREATE TABLE IF NOT EXISTS govlisten\.(\w+) ON CLUSTER prod \([\s\S]*\) ENGINE = (Replicated\w*MergeTree)\('(/clickhouse/tables/\{shard\}/govlisten/\w+)', '\{replica\}'`)
		distRE      = regexp.MustCompile(`^CREATE TABLE IF NOT EXISTS govlisten\.(\w+) ON CLUSTER prod AS govlisten\.(\w+)\s+ENGINE = Distributed\(prod, govlisten, (\w+), (.+)\)$`)
	)
	for _, s := range sts {
		if !strings.HasPrefix(s.SQL, "INSERT") && !strings.Contains(s.SQL, " ON CLUSTER prod") {
			t.Errorf("%s statement %d has no ON CLUSTER", s.File, s.N)
		}
		if m := engineRE.FindStringSubmatch(s.SQL); m != nil {
			if !strings.HasSuffix(m[1], "_local") {
				t.Errorf("replicated table %s is not named *_local", m[1])
			}
			if paths[m[3]] {
				t.Errorf("two tables share the path %s", m[3])
			}
			stored[m[1]], paths[m[3]] = true, true
		} else if strings.Contains(s.SQL, "MergeTree") && strings.HasPrefix(s.SQL, "CREATE TABLE") {
			t.Errorf("%s statement %d: a table that is not Replicated:\n%s", s.File, s.N, s.SQL)
		}
		if m := distRE.FindStringSubmatch(s.SQL); m != nil {
			if m[2] != m[3] || m[2] != m[1]+"_local" {
				t.Errorf("Distributed %s is over %s / %s", m[1], m[2], m[3])
			}
			distributed[m[1]] = m[4]
		}
	}
	for table := range stored {
		if _, ok := distributed[strings.TrimSuffix(table, "_local")]; !ok {
			t.Errorf("no Distributed table over %s", table)
		}
	}
	if k := distributed["mentions"]; k != "cityHash64(platform, id)" {
		t.Errorf("mentions is sharded by %q, want the mention: cityHash64(platform, id)", k)
	}
	if len(stored) < 5 {
		t.Errorf("only %d replicated tables: %v", len(stored), stored)
	}
	// The rebuild files follow the same pattern.
	for _, name := range []string{"clickhouse/rebuild/mentions_daily.sql", "clickhouse/rebuild/mentions_hourly.sql", "clickhouse/rebuild/questions.sql", "clickhouse/rebuild/settled.sql"} {
		rb, err := sink.RebuildStatements(name, sink.SchemaParams{DB: "govlisten", Cluster: "prod"}, 202611)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(rb[0].SQL, "_local ON CLUSTER prod DROP PARTITION 202611") {
			t.Errorf("%s: %s", name, rb[0].SQL)
		}
	}
	// A cluster name that is not an identifier is refused.
	if _, err := sink.Statements(sink.SchemaParams{DB: "govlisten", Cluster: "a b"}); err == nil {
		t.Error("cluster name with a space accepted")
	}
}
