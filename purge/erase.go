package purge

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/govlisten/govlisten/bus"
	"github.com/govlisten/govlisten/mention"
	"github.com/govlisten/govlisten/privacy"
	"github.com/govlisten/govlisten/processors/sink"
)

// Eraser removes one author's mentions from everywhere govlisten keeps
// them: table mentions (and, through a rebuild, the rollups), the mention
// lists of alerts, and streams MENTIONS and DLQ. Processors may keep
// running meanwhile (see Erase). Not safe for concurrent use.
type Eraser struct {
	Store *sink.Store
	JS    jetstream.JetStream
	// Pseudo is the processors' Pseudonymiser when privacy.pseudonymise is
	// on, so the author is also found under their pseudonyms; nil when off.
	Pseudo *privacy.Pseudonymiser
	// MutationTimeout bounds the wait for each ClickHouse mutation. Default 1h.
	MutationTimeout time.Duration
	// Progress, when set, is told what is being done.
	Progress func(format string, args ...any)
}

// Request is one erasure.
type Request struct {
	// Author is an id or handle ('@' optional, any case) or a pseudonym.
	Author string
	// Platform, when set, limits the erasure to twitter, youtube or facebook.
	Platform string
	// DryRun finds and counts, and changes nothing.
	DryRun bool
}

// Report says what an erasure found (DryRun) or removed.
type Report struct {
	// Identities are the author's ids and handles found, normalised (lower
	// case, no '@'), with their pseudonyms when pseudonymisation is on.
	Identities []string
	// Mentions is how many distinct mentions by the author were in table
	// mentions; Rows counts every stored version of them.
	Mentions, Rows uint64
	// RawScrubbed is how many rows of other authors' mentions held the
	// author's replies or comments in their raw JSON (a YouTube thread, a
	// Facebook post with its comments); those parts were removed.
	RawScrubbed uint64
	// Alerts is how many alerts listed one of the author's mentions; the
	// mention was taken off the list.
	Alerts uint64
	// Months are the months (YYYYMM) whose rollups were rebuilt.
	Months []int
	// Streams: MENTIONS, then DLQ.
	Streams []StreamReport
	// Passes is how many times everything was searched: a second search
	// finds what processors stored while the first one ran.
	Passes int
	DryRun bool
}

const maxPasses = 3

// Erase finds the author and removes them (unless req.DryRun):
//
//  1. who: the author's ids and handles are gathered from the mentions that
//     match the one given, in ClickHouse and on the streams, so asking by
//     handle also finds the mentions that carry only the id (and the
//     reverse), on every platform unless req.Platform says otherwise;
//  2. the streams: their messages are securely deleted (others' messages
//     whose raw holds the author's parts are published again without them);
//     this comes first so no processor stores them afterwards;
//  3. ClickHouse: other authors' rows whose raw holds the author's parts
//     are rewritten without them (ALTER TABLE ... UPDATE), the author's rows
//     deleted (ALTER TABLE ... DELETE), both waited for in
//     system.mutations, the mentions taken off alerts' lists, and the
//     rollups of every month touched rebuilt from mentions FINAL;
//  4. again from 1, until a search finds nothing: a batch a processor had
//     in hand during step 2 reaches ClickHouse afterwards and is caught.
//
// It stops with an error after maxPasses passes if the author's mentions
// are still arriving (a collector is still collecting them). Every step can
// be repeated: running Erase again after an error finishes the job.
func (e *Eraser) Erase(ctx context.Context, req Request) (*Report, error) {
	if privacy.Normalise(req.Author) == "" {
		return nil, errors.New("erase: no author given")
	}
	switch req.Platform {
	case "", mention.Twitter, mention.YouTube, mention.Facebook:
	default:
		return nil, fmt.Errorf("erase: platform %q is not twitter, youtube or facebook", req.Platform)
	}
	var engine string
	if err := e.Store.Conn().QueryRow(ctx, "SELECT engine FROM system.tables WHERE database = ? AND name = 'mentions'", e.Store.DB()).Scan(&engine); err != nil {
		return nil, fmt.Errorf("erase: finding table %s.mentions: %w", e.Store.DB(), err)
	}
	if engine == "Distributed" {
		// Mutations go to the shards' local tables, ON CLUSTER, and must be
		// waited for on every shard: not done yet.
		return nil, fmt.Errorf("erase: %s.mentions is a Distributed table (clickhouse.cluster); erasure on the clustered schema is not supported yet", e.Store.DB())
	}
	id := newIdentity(req.Author, e.Pseudo)
	rep := &Report{DryRun: req.DryRun, Streams: []StreamReport{{Stream: bus.StreamMentions}, {Stream: bus.StreamDLQ}}}
	streams := []struct{ name, subjects string }{{bus.StreamMentions, bus.SubjectMentions}, {bus.StreamDLQ, bus.SubjectDLQ}}
	months := map[int]bool{}
	for pass := 1; ; pass++ {
		rep.Passes = pass
		// 1. Who, until no new id or handle turns up.
		var plans [2][]msgAction
		for round := 0; round < 4; round++ {
			n := len(id.all)
			if err := e.expand(ctx, id, req.Platform); err != nil {
				return rep, err
			}
			for i, s := range streams {
				a, scanned, err := planStream(ctx, e.JS, s.name, s.subjects, id, req.Platform)
				if err != nil {
					return rep, err
				}
				plans[i] = a
				if pass == 1 {
					rep.Streams[i].Scanned = scanned
				}
			}
			if len(id.all) == n {
				break
			}
		}
		rep.Identities = id.values()
		ch, err := e.planClickHouse(ctx, id, req.Platform)
		if err != nil {
			return rep, err
		}
		if req.DryRun {
			rep.Mentions, rep.Rows, rep.RawScrubbed = uint64(len(ch.mentions)), ch.rows, uint64(len(ch.rewrites))
			rep.Months = sortedMonths(ch.months)
			for i := range plans {
				for _, a := range plans[i] {
					if a.data != nil {
						rep.Streams[i].Rewritten++
					} else {
						rep.Streams[i].Deleted++
					}
				}
			}
			rep.Alerts, err = e.countAlerts(ctx, ch.mentions)
			return rep, err
		}
		if len(plans[0])+len(plans[1]) == 0 && ch.rows == 0 && len(ch.rewrites) == 0 {
			rep.Months = sortedMonths(months)
			return rep, nil
		}
		if pass > maxPasses {
			return rep, fmt.Errorf("erase: the author's mentions are still arriving after %d passes (is a collector still collecting them?); run erase again", maxPasses)
		}
		// 2. The streams.
		for i, s := range streams {
			if len(plans[i]) > 0 {
				e.progress("%s: deleting %d messages", s.name, len(plans[i]))
			}
			if err := applyStream(ctx, e.JS, s.name, plans[i], &rep.Streams[i]); err != nil {
				return rep, err
			}
		}
		// 3. ClickHouse.
		if err := e.applyClickHouse(ctx, id, req.Platform, ch, rep); err != nil {
			return rep, err
		}
		for m := range ch.months {
			months[m] = true
		}
	}
}

func (e *Eraser) progress(format string, args ...any) {
	if e.Progress != nil {
		e.Progress(format, args...)
	}
}

func sortedMonths(m map[int]bool) []int {
	out := make([]int, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Ints(out)
	return out
}

// authorSQL matches the author's rows of table mentions.
func authorSQL(id *identity, platform string) string {
	s := fmt.Sprintf("(lowerUTF8(author_id) IN (%s) OR lowerUTF8(author_handle) IN (%s))", quoteList(id.values()), quoteList(id.handles()))
	if platform != "" {
		s = "(" + s + " AND platform = " + quote(platform) + ")"
	}
	return s
}

// expand adds the ids and handles stored with the author's mentions.
func (e *Eraser) expand(ctx context.Context, id *identity, platform string) error {
	for range 4 {
		rows, err := e.Store.Conn().Query(ctx, "SELECT DISTINCT author_id, author_handle FROM "+ident(e.Store.DB())+".mentions WHERE "+authorSQL(id, platform))
		if err != nil {
			return fmt.Errorf("finding the author in mentions: %w", err)
		}
		grew := false
		for rows.Next() {
			var a, h string
			if err := rows.Scan(&a, &h); err != nil {
				rows.Close()
				return err
			}
			grew = id.add(a) || grew
			grew = id.add(h) || grew
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if !grew {
			return nil
		}
	}
	return nil
}

// chPlan is what erasure would change in ClickHouse.
type chPlan struct {
	rows     uint64
	mentions []string // platform:id, as alerts list them
	months   map[int]bool
	rewrites []rawRewrite
}

// rawRewrite is one stored row of another author's mention whose raw
// held the author's parts.
type rawRewrite struct {
	platform, id string
	hash         uint64 // cityHash64 of the raw stored now: only that version is rewritten
	raw          string
}

func (e *Eraser) planClickHouse(ctx context.Context, id *identity, platform string) (*chPlan, error) {
	db := ident(e.Store.DB())
	p := &chPlan{months: map[int]bool{}}
	rows, err := e.Store.Conn().Query(ctx, "SELECT toString(platform), id, toYYYYMM(day), count() FROM "+db+".mentions WHERE "+authorSQL(id, platform)+
		" GROUP BY platform, id, toYYYYMM(day)")
	if err != nil {
		return nil, fmt.Errorf("finding the author's mentions: %w", err)
	}
	seen := map[string]bool{}
	for rows.Next() {
		var (
			plat, mid string
			month     uint32
			n         uint64
		)
		if err := rows.Scan(&plat, &mid, &month, &n); err != nil {
			rows.Close()
			return nil, err
		}
		p.rows += n
		p.months[int(month)] = true
		if k := plat + ":" + mid; !seen[k] {
			seen[k] = true
			p.mentions = append(p.mentions, k)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	sort.Strings(p.mentions)

	// Others' mentions whose raw names the author somewhere: a cheap
	// substring search narrows them down, StripAuthor decides.
	var conds []string
	for _, v := range id.values() {
		conds = append(conds, "positionCaseInsensitiveUTF8(raw, "+quote(v)+") > 0")
	}
	q := "SELECT toString(platform), id, cityHash64(raw), raw FROM " + db + ".mentions WHERE NOT " + authorSQL(id, "") + " AND (" + strings.Join(conds, " OR ") + ")"
	if platform != "" {
		q += " AND platform = " + quote(platform)
	}
	rows, err = e.Store.Conn().Query(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("finding the author in other mentions' raw: %w", err)
	}
	defer rows.Close()
	versions := map[rawRewrite]bool{}
	for rows.Next() {
		var r rawRewrite
		if err := rows.Scan(&r.platform, &r.id, &r.hash, &r.raw); err != nil {
			return nil, err
		}
		// Two stored versions with one raw are rewritten by one condition.
		k := rawRewrite{platform: r.platform, id: r.id, hash: r.hash}
		if versions[k] {
			continue
		}
		versions[k] = true
		out, removed, err := privacy.StripAuthor([]byte(r.raw), id.is)
		switch {
		case err != nil:
			// Unparsable raw that names the author as a word: clear it.
			if !id.tokenIn([]byte(r.raw)) {
				continue
			}
			r.raw = ""
		case removed == 0:
			continue
		default:
			r.raw = string(out) // "" when the whole document was theirs
		}
		p.rewrites = append(p.rewrites, r)
	}
	return p, rows.Err()
}

// maxStatement bounds the text of one ALTER TABLE ... UPDATE: several
// rewrites go in one mutation (each mutation rewrites the table's parts).
const maxStatement = 1 << 20

func (e *Eraser) applyClickHouse(ctx context.Context, id *identity, platform string, p *chPlan, rep *Report) error {
	db := ident(e.Store.DB())
	conn := e.Store.Conn()
	for start := 0; start < len(p.rewrites); {
		var (
			cases, where []string
			size         int
			end          = start
		)
		for ; end < len(p.rewrites) && (end == start || size < maxStatement); end++ {
			r := p.rewrites[end]
			cond := fmt.Sprintf("(platform = %s AND id = %s AND cityHash64(raw) = %d)", quote(r.platform), quote(r.id), r.hash)
			cases = append(cases, cond, quote(r.raw))
			where = append(where, cond)
			size += len(cond)*2 + len(r.raw)
		}
		e.progress("mentions: removing the author's parts from the raw JSON of %d mentions by others", end-start)
		q := "ALTER TABLE " + db + ".mentions UPDATE raw = multiIf(" + strings.Join(cases, ", ") + ", raw) WHERE " + strings.Join(where, " OR ")
		// Longer than the server's default max_query_size (256 KiB), often.
		sctx := clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{"max_query_size": len(q) + 1<<20}))
		if err := conn.Exec(sctx, q); err != nil {
			return fmt.Errorf("rewriting raw of other mentions: %w", err)
		}
		rep.RawScrubbed += uint64(end - start)
		start = end
	}
	if p.rows > 0 {
		e.progress("mentions: deleting %d rows of %d mentions", p.rows, len(p.mentions))
		if err := conn.Exec(ctx, "ALTER TABLE "+db+".mentions DELETE WHERE "+authorSQL(id, platform)); err != nil {
			return fmt.Errorf("deleting the author's mentions: %w", err)
		}
	}
	if err := e.waitMutations(ctx, "mentions"); err != nil {
		return err
	}
	rep.Mentions += uint64(len(p.mentions))
	rep.Rows += p.rows
	n, err := e.scrubAlerts(ctx, p.mentions)
	rep.Alerts += n
	if err != nil {
		return err
	}
	for _, m := range sortedMonths(p.months) {
		e.progress("rebuilding the rollups of %d", m)
		if err := e.Store.RebuildRollups(ctx, m); err != nil {
			return fmt.Errorf("the author's mentions are deleted but the rollups of %d were not rebuilt (run erase again, or deploy/clickhouse/rebuild/*.sql for that month): %w", m, err)
		}
	}
	return nil
}

// alertsChunk is how many mention keys go in one alerts statement.
const alertsChunk = 500

// hasAlerts says whether table alerts exists with its mention_ids column.
func (e *Eraser) hasAlerts(ctx context.Context) (bool, error) {
	var n uint64
	err := e.Store.Conn().QueryRow(ctx, "SELECT count() FROM system.columns WHERE database = ? AND table = 'alerts' AND name = 'mention_ids'", e.Store.DB()).Scan(&n)
	return n > 0, err
}

func (e *Eraser) countAlerts(ctx context.Context, keys []string) (uint64, error) {
	if ok, err := e.hasAlerts(ctx); err != nil || !ok || len(keys) == 0 {
		return 0, err
	}
	var total uint64
	for start := 0; start < len(keys); start += alertsChunk {
		chunk := keys[start:min(start+alertsChunk, len(keys))]
		var n uint64
		if err := e.Store.Conn().QueryRow(ctx, "SELECT count() FROM "+ident(e.Store.DB())+".alerts WHERE hasAny(mention_ids, ["+quoteList(chunk)+"])").Scan(&n); err != nil {
			return total, fmt.Errorf("counting alerts: %w", err)
		}
		total += n
	}
	return total, nil
}

// scrubAlerts takes the mentions off the alerts that list them.
func (e *Eraser) scrubAlerts(ctx context.Context, keys []string) (uint64, error) {
	n, err := e.countAlerts(ctx, keys)
	if err != nil || n == 0 {
		return 0, err
	}
	e.progress("alerts: taking the author's mentions off %d alerts", n)
	for start := 0; start < len(keys); start += alertsChunk {
		list := "[" + quoteList(keys[start:min(start+alertsChunk, len(keys))]) + "]"
		q := "ALTER TABLE " + ident(e.Store.DB()) + ".alerts UPDATE mention_ids = arrayFilter(x -> NOT has(" + list + ", x), mention_ids) WHERE hasAny(mention_ids, " + list + ")"
		if err := e.Store.Conn().Exec(ctx, q); err != nil {
			return 0, fmt.Errorf("updating alerts: %w", err)
		}
	}
	return n, e.waitMutations(ctx, "alerts")
}

// waitMutations waits until every mutation of the table is done.
func (e *Eraser) waitMutations(ctx context.Context, table string) error {
	limit := e.MutationTimeout
	if limit <= 0 {
		limit = time.Hour
	}
	deadline := time.Now().Add(limit)
	for {
		var n uint64
		if err := e.Store.Conn().QueryRow(ctx, "SELECT count() FROM system.mutations WHERE database = ? AND table = ? AND is_done = 0", e.Store.DB(), table).Scan(&n); err != nil {
			return fmt.Errorf("waiting for mutations of %s: %w", table, err)
		}
		if n == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("mutations of %s.%s not done after %s (see system.mutations); run erase again once they are", e.Store.DB(), table, limit)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
