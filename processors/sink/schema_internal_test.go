package sink

import (
	"strings"
	"testing"
)

// A statement of a clustered rendering that would change one server only,
// or store rows without replication, is refused with the file and number.
func TestCheckClustered(t *testing.T) {
	for _, c := range []struct {
		sql string
		bad string
	}{
		{"CREATE TABLE IF NOT EXISTS db.t ON CLUSTER c (a UInt8) ENGINE = ReplicatedMergeTree('/p', '{replica}') ORDER BY a", ""},
		{"CREATE VIEW IF NOT EXISTS db.v ON CLUSTER c AS SELECT 1", ""},
		{"INSERT INTO db.t SELECT 1", ""},
		{"CREATE VIEW IF NOT EXISTS db.v AS SELECT 1", "without {{.OnCluster}}"},
		{"ALTER TABLE db.t ADD COLUMN b UInt8", "without {{.OnCluster}}"},
		{"drop table db.t", "without {{.OnCluster}}"},
		{"CREATE TABLE IF NOT EXISTS db.t ON CLUSTER c (a UInt8) ENGINE = ReplacingMergeTree(a) ORDER BY a", "ENGINE = ReplacingMergeTree"},
		{"CREATE TABLE IF NOT EXISTS db.t ON CLUSTER other (a UInt8) ENGINE = ReplicatedMergeTree('/p', '{replica}') ORDER BY a", "without {{.OnCluster}}"},
	} {
		err := checkClustered(Statement{File: "f.sql", N: 3, SQL: c.sql}, "c")
		switch {
		case c.bad == "" && err != nil:
			t.Errorf("%s: %v", c.sql, err)
		case c.bad != "" && (err == nil || !strings.Contains(err.Error(), c.bad) || !strings.Contains(err.Error(), "f.sql, statement 3")):
			t.Errorf("%s: %v, want an error naming %q", c.sql, err, c.bad)
		}
	}
	// Engines render for both shapes.
	p := SchemaParams{DB: "govlisten", Cluster: "c"}
	if e, _ := p.Engine("mentions", "ReplacingMergeTree(processed_at)"); e != "ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/govlisten/mentions', '{replica}', processed_at)" {
		t.Error(e)
	}
	if e, _ := p.Engine("runs", "MergeTree()"); e != "ReplicatedMergeTree('/clickhouse/tables/{shard}/govlisten/runs', '{replica}')" {
		t.Error(e)
	}
	if _, err := p.Engine("x", "Log"); err == nil {
		t.Error("Log accepted as a MergeTree engine")
	}
	if e, _ := (SchemaParams{DB: "govlisten"}).Engine("mentions", "ReplacingMergeTree(processed_at)"); e != "ReplacingMergeTree(processed_at)" {
		t.Error(e)
	}
	if _, err := (SchemaParams{DB: "govlisten"}).Distributed("mentions", "rand()"); err == nil {
		t.Error("Distributed on one host")
	}
	// 18.16's clusters take no column comments; the stripping keeps quotes.
	got := columnComment.ReplaceAllString("a String COMMENT 'it''s (a \\' b)', b UInt8 COMMENT 'x'", "")
	if got != "a String, b UInt8" {
		t.Errorf("comments stripped to %q", got)
	}
}

// A backfill must be followed by the view that records it done; the
// schema files are.
func TestCheckBackfills(t *testing.T) {
	insert := Statement{File: "f.sql", N: 2, SQL: "INSERT INTO db.t (a) SELECT a FROM db.s"}
	marker := Statement{File: "f.sql", N: 3, SQL: "CREATE VIEW IF NOT EXISTS db.t_backfilled ON CLUSTER c (done UInt8) AS SELECT toUInt8(1) AS done"}
	other := Statement{File: "f.sql", N: 3, SQL: "CREATE TABLE IF NOT EXISTS db.u (a UInt8) ENGINE = Memory"}
	if err := checkBackfills([]Statement{insert, marker}); err != nil {
		t.Error(err)
	}
	for _, sts := range [][]Statement{{insert}, {insert, other}} {
		if err := checkBackfills(sts); err == nil || !strings.Contains(err.Error(), "f.sql, statement 2") {
			t.Errorf("%d statements: %v, want an error naming f.sql, statement 2", len(sts), err)
		}
	}
	for _, cluster := range []string{"", "c"} {
		if _, err := Statements(SchemaParams{DB: "govlisten", Cluster: cluster}); err != nil {
			t.Error(err)
		}
	}
}

// auto compression is none only when every address is this host.
func TestLoopback(t *testing.T) {
	for _, tc := range []struct {
		addrs []string
		want  bool
	}{
		{[]string{"127.0.0.1:9000"}, true},
		{[]string{"localhost:9000"}, true},
		{[]string{"[::1]:9000"}, true},
		{[]string{"127.0.0.2:9000", "127.0.0.1:9001"}, true},
		{[]string{"127.0.0.1:9000", "ch2.internal:9000"}, false},
		{[]string{"10.0.0.5:9000"}, false},
		{[]string{"clickhouse:9000"}, false},
		{nil, false},
	} {
		if got := loopback(tc.addrs); got != tc.want {
			t.Errorf("loopback(%v) = %v, want %v", tc.addrs, got, tc.want)
		}
	}
}
