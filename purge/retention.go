// Package purge removes stored data on purpose: by age (retention: whole
// monthly partitions older than the configured months, from every table)
// and by person (erasure: one author's mentions from ClickHouse and from
// the NATS streams, with the rollups rebuilt to match). It is what
// `govlisten retention apply` and `govlisten erase` run; docs/data-protection.md
// describes both procedures and what they do not reach.
//
// Everything here works on ClickHouse 18.16 (Debian's package) as on
// current releases: retention drops partitions with ALTER TABLE ... DROP
// PARTITION YYYYMM (18.16 has no TTL), and erasure deletes and rewrites
// rows with mutations (ALTER TABLE ... DELETE / UPDATE, no lightweight
// DELETE), waiting for system.mutations to report them done. Tables and
// partitions are discovered from system.tables and system.parts, so a table
// added later is covered without a change here.
//
// It must never print, log or return a secret; author ids and handles are
// the operator's own input and appear in reports.
package purge

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/govlisten/govlisten/processors/sink"
)

// Partition is one monthly partition of one table.
type Partition struct {
	Table string
	// Month is the partition, YYYYMM.
	Month int
	// Rows and Bytes (on disk) in its active parts.
	Rows, Bytes uint64
}

// Skipped is a table retention leaves alone, with the reason.
type Skipped struct {
	Table  string
	Reason string
}

// RetentionPlan is what retention would drop.
type RetentionPlan struct {
	// Months kept, counting the current month.
	Months int
	// Oldest is the oldest month kept (YYYYMM); every partition before it goes.
	Oldest int
	// Drop lists the partitions older than Oldest, by table and month.
	Drop []Partition
	// Skipped lists the tables whose partitions are not by month.
	Skipped []Skipped
	// Sharded is true when the database holds Distributed tables (the
	// clustered schema): the partitions are this server's, and dropping
	// them reaches the other replicas of its shard but no other shard.
	Sharded bool
}

// OldestKept is the first month (YYYYMM) kept when months months are kept,
// counting now's month (UTC): with 3 in June 2026, 202604.
func OldestKept(months int, now time.Time) int {
	first := time.Date(now.UTC().Year(), now.UTC().Month()-time.Month(months-1), 1, 0, 0, 0, 0, time.UTC)
	return first.Year()*100 + int(first.Month())
}

var (
	monthlyKey = regexp.MustCompile(`^toYYYYMM\(.+\)$`)
	monthValue = regexp.MustCompile(`^[0-9]{6}$`)
)

// PlanRetention finds, in the store's database, every partition of a
// table partitioned by toYYYYMM(...) that is older than the months to keep.
// Tables partitioned any other way (or not at all) are listed in Skipped.
// months must be at least 1: 0 means keep everything and is refused here so
// that no caller can drop everything by mistake.
func PlanRetention(ctx context.Context, st *sink.Store, months int, now time.Time) (*RetentionPlan, error) {
	if months < 1 {
		return nil, fmt.Errorf("retention of %d months: keep at least 1 (retention.months 0 means keep everything)", months)
	}
	plan := &RetentionPlan{Months: months, Oldest: OldestKept(months, now)}
	keys := map[string]string{}
	rows, err := st.Conn().Query(ctx, "SELECT name, engine, partition_key FROM system.tables WHERE database = ?", st.DB())
	if err != nil {
		return nil, fmt.Errorf("listing tables of %s: %w", st.DB(), err)
	}
	for rows.Next() {
		var name, engine, key string
		if err := rows.Scan(&name, &engine, &key); err != nil {
			rows.Close()
			return nil, err
		}
		keys[name] = key
		plan.Sharded = plan.Sharded || engine == "Distributed"
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}

	rows, err = st.Conn().Query(ctx, "SELECT table, partition, sum(rows), sum(bytes_on_disk) FROM system.parts "+
		"WHERE database = ? AND active GROUP BY table, partition ORDER BY table, partition", st.DB())
	if err != nil {
		return nil, fmt.Errorf("listing partitions of %s: %w", st.DB(), err)
	}
	defer rows.Close()
	skipped := map[string]string{}
	for rows.Next() {
		var (
			table, part string
			n, b        uint64
		)
		if err := rows.Scan(&table, &part, &n, &b); err != nil {
			return nil, err
		}
		key := keys[table]
		if !monthlyKey.MatchString(key) {
			if key == "" {
				skipped[table] = "not partitioned"
			} else {
				skipped[table] = "partitioned by " + key + ", not by month"
			}
			continue
		}
		month, err := strconv.Atoi(part)
		if !monthValue.MatchString(part) || err != nil || month%100 < 1 || month%100 > 12 {
			skipped[table] = fmt.Sprintf("partition %q is not a month (YYYYMM)", part)
			continue
		}
		if month < plan.Oldest {
			plan.Drop = append(plan.Drop, Partition{Table: table, Month: month, Rows: n, Bytes: b})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for t, r := range skipped {
		plan.Skipped = append(plan.Skipped, Skipped{Table: t, Reason: r})
	}
	sort.Slice(plan.Skipped, func(i, j int) bool { return plan.Skipped[i].Table < plan.Skipped[j].Table })
	return plan, nil
}

// DropPartitions drops every partition of plan.Drop, oldest first, calling
// done after each. It stops at the first error; running it again (after a
// new PlanRetention) carries on where it stopped.
//
// A materialized view's rollup table is a table like any other here: its
// old months go with the base table's, so the rollups never claim mentions
// that are no longer stored.
func DropPartitions(ctx context.Context, st *sink.Store, plan *RetentionPlan, done func(Partition)) error {
	drop := append([]Partition(nil), plan.Drop...)
	sort.SliceStable(drop, func(i, j int) bool { return drop[i].Month < drop[j].Month })
	for _, p := range drop {
		q := fmt.Sprintf("ALTER TABLE %s.%s DROP PARTITION %d", ident(st.DB()), ident(p.Table), p.Month)
		if err := st.Conn().Exec(ctx, q); err != nil {
			return fmt.Errorf("dropping partition %d of %s: %w", p.Month, p.Table, err)
		}
		if done != nil {
			done(p)
		}
	}
	return nil
}

// ident quotes a ClickHouse identifier.
func ident(s string) string {
	return "`" + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), "`", "\\`") + "`"
}

// quote is a ClickHouse string literal.
func quote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// quoteList is a comma-separated list of string literals.
func quoteList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = quote(s)
	}
	return strings.Join(q, ", ")
}
