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
