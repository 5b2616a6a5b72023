// Package sink is the ClickHouse side of govlisten: it applies the schema
// (migrate) and writes tagged mentions in large batches over the native
// protocol with clickhouse-go/v2.
//
// A batch has one owner and a lifecycle: Insert prepares it, appends every
// row and sends it, or aborts it on any error; the caller acks the messages
// only after Insert returned nil. A retried Insert after a lost reply may
// write the same rows twice; the mentions table's ReplacingMergeTree key
// makes that harmless.
//
// The connection always opens the "default" database and every statement
// names its database, so migrate can create the database it then uses.
// A Store is safe for concurrent use.
package sink

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/govlisten/govlisten/collectors"
	"github.com/govlisten/govlisten/config"
	"github.com/govlisten/govlisten/deploy"
	"github.com/govlisten/govlisten/mention"
	"github.com/govlisten/govlisten/processors/tagger"
)

// Store is a connection to ClickHouse and the database govlisten uses.
type Store struct {
	conn driver.Conn
	db   string
	dsn  string // redacted, for messages
}

var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Open connects to the configured ClickHouse. The password comes from
// clickhouse.password_env / password_file when set, else from the DSN.
func Open(ctx context.Context, cfg *config.Config, getenv func(string) string) (*Store, error) {
	return openDSN(ctx, cfg.ClickHouseDSN(), cfg.ShowClickHouseDSN(), cfg.ClickHouse.Compression, func() (string, error) {
		return config.Secret(getenv, cfg.ClickHouse.PasswordEnv, cfg.ClickHouse.PasswordFile)
	})
}

// OpenDSN connects to the ClickHouse at dsn; shown is dsn with any password
// masked, for messages; password, when it returns a non-empty value,
// overrides the DSN's.
func OpenDSN(ctx context.Context, dsn, shown string, password func() (string, error)) (*Store, error) {
	return openDSN(ctx, dsn, shown, "lz4", password)
}

func openDSN(_ context.Context, dsn, shown, compression string, password func() (string, error)) (*Store, error) {
	opts, err := clickhouse.ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("clickhouse.dsn %s: %w", shown, err)
	}
	db := opts.Auth.Database
	if db == "" {
		db = "govlisten"
	}
	if !identRE.MatchString(db) {
		return nil, fmt.Errorf("clickhouse.dsn %s: database %q must be letters, digits and _", shown, db)
	}
	if password != nil {
		p, err := password()
		if err != nil {
			return nil, fmt.Errorf("clickhouse password: %w", err)
		}
		if p != "" {
			opts.Auth.Password = p
		}
	}
	opts.Auth.Database = "default"
	if opts.DialTimeout == 0 || opts.DialTimeout == 30*time.Second {
		opts.DialTimeout = 5 * time.Second
	}
	switch compression {
	case "none":
		opts.Compression = &clickhouse.Compression{Method: clickhouse.CompressionNone}
	case "zstd":
		opts.Compression = &clickhouse.Compression{Method: clickhouse.CompressionZSTD}
	default:
		opts.Compression = &clickhouse.Compression{Method: clickhouse.CompressionLZ4}
	}
	opts.MaxOpenConns = 8
	conn, err := clickhouse.Open(opts)
	if err != nil {
		return nil, fmt.Errorf("opening ClickHouse %s: %w", shown, err)
	}
	return &Store{conn: conn, db: db, dsn: shown}, nil
}

// Close closes the connections.
func (s *Store) Close() error { return s.conn.Close() }

// DB is the database name.
func (s *Store) DB() string { return s.db }

// Conn is the underlying connection, for queries.
func (s *Store) Conn() driver.Conn { return s.conn }

// Ping checks that the server answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.conn.Ping(ctx); err != nil {
		return fmt.Errorf("ClickHouse %s: %w", s.dsn, err)
	}
	return nil
}

// ServerVersion returns the server's major and minor version.
func (s *Store) ServerVersion(ctx context.Context) (major, minor int, err error) {
	var v string
	if err := s.conn.QueryRow(ctx, "SELECT version()").Scan(&v); err != nil {
		return 0, 0, fmt.Errorf("ClickHouse %s: reading version: %w", s.dsn, err)
	}
	parts := strings.Split(v, ".")
	major, _ = strconv.Atoi(parts[0])
	if len(parts) > 1 {
		minor, _ = strconv.Atoi(parts[1])
	}
	return major, minor, nil
}

// SchemaParams are the template parameters of the schema files.
type SchemaParams struct {
	DB    string
	Codec string
}

// Migrate applies every schema file under deploy/clickhouse in name order.
// Every statement is idempotent (IF NOT EXISTS), so running it again, or from
// several processes, changes nothing.
func (s *Store) Migrate(ctx context.Context) error {
	major, _, err := s.ServerVersion(ctx)
	if err != nil {
		return err
	}
	p := SchemaParams{DB: s.db}
	if major >= 20 {
		p.Codec = "CODEC(ZSTD(3))"
	}
	stmts, err := Statements(p)
	if err != nil {
		return err
	}
	for _, st := range stmts {
		if done, err := s.columnExists(ctx, st.SQL); err != nil {
			return fmt.Errorf("migrate %s, statement %d: %w", st.File, st.N, err)
		} else if done {
			continue
		}
		if err := s.conn.Exec(ctx, st.SQL); err != nil {
			return fmt.Errorf("migrate %s, statement %d: %w", st.File, st.N, err)
		}
	}
	return nil
}

// addColumn recognises the ALTER TABLE ... ADD COLUMN statements of the
// schema files, which 18.16 cannot make idempotent itself.
var addColumn = regexp.MustCompile(`^ALTER TABLE ([A-Za-z0-9_]+)\.([A-Za-z0-9_]+) ADD COLUMN ([A-Za-z0-9_]+) `)

// columnExists says whether sql adds a column that is already there.
func (s *Store) columnExists(ctx context.Context, sql string) (bool, error) {
	m := addColumn.FindStringSubmatch(sql)
	if m == nil {
		return false, nil
	}
	var n uint64
	err := s.conn.QueryRow(ctx, "SELECT count() FROM system.columns WHERE database = ? AND table = ? AND name = ?", m[1], m[2], m[3]).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("checking column %s.%s.%s: %w", m[1], m[2], m[3], err)
	}
	return n > 0, nil
}

// Statement is one statement of a schema file.
type Statement struct {
	File string
	N    int
	SQL  string
}

// Statements renders the schema files and splits them into statements.
func Statements(p SchemaParams) ([]Statement, error) {
	names, err := fs.Glob(deploy.Schema, "clickhouse/*.sql")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var out []Statement
	for _, name := range names {
		src, err := deploy.Schema.ReadFile(name)
		if err != nil {
			return nil, err
		}
		tmpl, err := template.New(name).Option("missingkey=error").Parse(string(src))
		if err != nil {
			return nil, fmt.Errorf("schema %s: %w", name, err)
		}
		var buf bytes.Buffer
		if err := tmpl.Execute(&buf, p); err != nil {
			return nil, fmt.Errorf("schema %s: %w", name, err)
		}
		n := 0
		for _, st := range strings.Split(stripComments(buf.String()), ";\n") {
			if st = strings.TrimSpace(st); st != "" {
				n++
				out = append(out, Statement{File: name, N: n, SQL: st})
			}
		}
	}
	return out, nil
}

// stripComments drops whole-line "--" comments.
func stripComments(s string) string {
	var b strings.Builder
	for _, line := range strings.Split(s, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "--") {
			continue
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return b.String()
}

// Row is a mention with its tags, ready to store.
type Row struct {
	M    *mention.Mention
	Tags tagger.Tags
	// Taxonomy names the taxonomy that tagged it (name@content-hash).
	Taxonomy string
}

const insertColumns = "platform, id, kind, parent_id, thread_id, author_id, author_handle, author_name, text, lang, url, " +
	"created_at, collected_at, likes, replies, shares, quotes, views, source, source_department, own, " +
	"departments, topics, sentiment, sentiment_label, matched, taxonomy, raw, v, processed_at, day"

// Insert writes rows in one batch. It returns nil only when ClickHouse has
// accepted every row.
//
// Rows are appended column by column: one typed slice per column for the
// whole batch costs a fraction of per-row Append's reflection.
func (s *Store) Insert(ctx context.Context, rows []Row) (err error) {
	if len(rows) == 0 {
		return nil
	}
	batch, err := s.conn.PrepareBatch(ctx, "INSERT INTO "+s.db+".mentions ("+insertColumns+")")
	if err != nil {
		return fmt.Errorf("preparing insert of %d mentions: %w", len(rows), err)
	}
	defer func() {
		if err != nil {
			_ = batch.Abort()
		}
	}()
	n := len(rows)
	var (
		platform, kind, label                      = make([]int8, n), make([]int8, n), make([]int8, n)
		id, parent, thread, authorID, handle, name = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		text, lang, url, source, sourceDept, raw   = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		created, collected, processed, day         = make([]time.Time, n), make([]time.Time, n), make([]time.Time, n), make([]time.Time, n)
		likes, replies, shares, quotes, views      = make([]uint64, n), make([]uint64, n), make([]uint64, n), make([]uint64, n), make([]uint64, n)
		depts, topics, matched                     = make([][]string, n), make([][]string, n), make([][]string, n)
		taxonomy                                   = make([]string, n)
		sentiment                                  = make([]float32, n)
		version, own                               = make([]uint8, n), make([]uint8, n)
		now                                        = time.Now().UTC()
	)
	for i, r := range rows {
		m := r.M
		platform[i], kind[i], label[i] = platformCode[m.Platform], kindCode[m.Kind], labelCode[r.Tags.Sentiment.Label]
		id[i], parent[i], thread[i], authorID[i], handle[i], name[i] = m.ID, m.ParentID, m.ThreadID, m.AuthorID, m.AuthorHandle, m.AuthorName
		text[i], lang[i], url[i], source[i], sourceDept[i], raw[i] = m.Text, r.Tags.Lang, m.URL, m.Source.Name, m.Source.Department, string(m.Raw)
		created[i], collected[i], processed[i] = m.CreatedAt, m.CollectedAt, now
		day[i] = m.CreatedAt.UTC().Truncate(24 * time.Hour)
		likes[i], replies[i], shares[i], quotes[i], views[i] = m.Metrics.Likes, m.Metrics.Replies, m.Metrics.Shares, m.Metrics.Quotes, m.Metrics.Views
		depts[i], topics[i], matched[i] = nonNil(r.Tags.Departments), nonNil(r.Tags.Topics), nonNil(r.Tags.Matched)
		sentiment[i] = float32(r.Tags.Sentiment.Score)
		taxonomy[i] = r.Taxonomy
		version[i] = uint8(m.V)
		if m.Own {
			own[i] = 1
		}
	}
	// The order of insertColumns.
	for i, col := range []any{platform, id, kind, parent, thread, authorID, handle, name, text, lang, url,
		created, collected, likes, replies, shares, quotes, views, source, sourceDept, own,
		depts, topics, sentiment, label, matched, taxonomy, raw, version, processed, day} {
		if err := batch.Column(i).Append(col); err != nil {
			return fmt.Errorf("appending column %d of %d mentions: %w", i, n, err)
		}
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("inserting %d mentions: %w", n, err)
	}
	return nil
}

// Enum codes of the mentions table.
var (
	platformCode = map[string]int8{mention.Twitter: 1, mention.YouTube: 2, mention.Facebook: 3}
	kindCode     = map[string]int8{mention.KindPost: 1, mention.KindComment: 2, mention.KindReply: 3}
	labelCode    = map[string]int8{tagger.Negative: -1, tagger.Neutral: 0, tagger.Positive: 1, "unsupported": 2}
)

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// CreateRawTable creates table bench_raw for InsertRaw.
func (s *Store) CreateRawTable(ctx context.Context) error {
	if err := s.conn.Exec(ctx, "CREATE DATABASE IF NOT EXISTS "+s.db); err != nil {
		return err
	}
	if err := s.conn.Exec(ctx, "CREATE TABLE IF NOT EXISTS "+s.db+".bench_raw (data String) ENGINE = MergeTree() ORDER BY tuple()"); err != nil {
		return fmt.Errorf("creating bench_raw: %w", err)
	}
	return nil
}

// InsertRaw writes messages as opaque strings into table bench_raw (see
// CreateRawTable): the baseline `govlisten bench` compares Insert with.
func (s *Store) InsertRaw(ctx context.Context, data [][]byte) (err error) {
	batch, err := s.conn.PrepareBatch(ctx, "INSERT INTO "+s.db+".bench_raw (data)")
	if err != nil {
		return fmt.Errorf("preparing raw insert: %w", err)
	}
	defer func() {
		if err != nil {
			_ = batch.Abort()
		}
	}()
	for _, d := range data {
		if err := batch.Append(string(d)); err != nil {
			return err
		}
	}
	return batch.Send()
}

// RecordRun writes one row of the completeness ledger, collection_runs.
func (s *Store) RecordRun(ctx context.Context, r collectors.Run) (err error) {
	batch, err := s.conn.PrepareBatch(ctx, "INSERT INTO "+s.db+".collection_runs (run_id, source, platform, kind, department, collector, "+
		"started_at, finished_at, window_from, window_from_id, window_to, window_to_id, pages, items_fetched, items_published, "+
		"items_duplicate, api_calls, quota_units, complete, truncated, truncated_by, error)")
	if err != nil {
		return fmt.Errorf("recording run of %s: %w", r.Source, err)
	}
	defer func() {
		if err != nil {
			_ = batch.Abort()
		}
	}()
	if err := batch.Append(r.ID, r.Source, r.Platform, r.Kind, r.Department, r.Collector, r.Started, r.Finished,
		orEpoch(r.From), r.FromID, orEpoch(r.To), r.ToID, uint32(r.Pages), uint32(r.Fetched), uint32(r.Published),
		uint32(r.Duplicates), uint32(r.Calls), uint32(r.QuotaUnits), boolByte(r.Complete), boolByte(r.Truncated), r.TruncatedBy, r.Error); err != nil {
		return fmt.Errorf("recording run of %s: %w", r.Source, err)
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("recording run of %s: %w", r.Source, err)
	}
	return nil
}

var _ collectors.RunRecorder = (*Store)(nil)

func orEpoch(t time.Time) time.Time {
	if t.IsZero() {
		return time.Unix(0, 0).UTC()
	}
	return t
}

func boolByte(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

// RebuildRollups recomputes one month (YYYYMM) of every rollup
// (mentions_daily, mentions_hourly) from mentions FINAL, with the files of
// deploy/clickhouse/rebuild/: after a re-tag, the rollups would otherwise
// count each re-tagged mention under its old tags too.
func (s *Store) RebuildRollups(ctx context.Context, month int) error {
	names, err := fs.Glob(deploy.Schema, "clickhouse/rebuild/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		if err := s.rebuild(ctx, name, month); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) rebuild(ctx context.Context, name string, month int) error {
	src, err := deploy.Schema.ReadFile(name)
	if err != nil {
		return err
	}
	tmpl, err := template.New("rebuild").Option("missingkey=error").Parse(string(src))
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, struct {
		DB    string
		Month int
	}{s.db, month}); err != nil {
		return err
	}
	for _, st := range strings.Split(stripComments(buf.String()), ";\n") {
		if st = strings.TrimSpace(st); st == "" {
			continue
		}
		if err := s.conn.Exec(ctx, st); err != nil {
			return fmt.Errorf("%s for %d: %w", name, month, err)
		}
	}
	return nil
}

// Stored is a mention read back from the mentions table, with what it was
// tagged with.
type Stored struct {
	Row
	Day time.Time
}

// storedColumns are the columns ScanDay reads, in Stored's order.
const storedColumns = "day, platform, id, kind, parent_id, thread_id, author_id, author_handle, author_name, text, lang, url, " +
	"created_at, collected_at, likes, replies, shares, quotes, views, source, source_department, own, " +
	"departments, topics, sentiment, sentiment_label, matched, taxonomy, raw, v"

// ScanDay reads up to limit mentions of one day and platform whose id sorts
// after the given one, in id order, as they are after FINAL (the newest row
// of each mention). Paging by (day, platform, id) follows the table's
// sorting key, so each page reads only the granules it needs.
func (s *Store) ScanDay(ctx context.Context, day time.Time, platform, after string, limit int) ([]Stored, error) {
	q := "SELECT " + storedColumns + " FROM " + s.db + ".mentions FINAL WHERE day = toDate(?) AND platform = ? AND id > ? ORDER BY id LIMIT " + strconv.Itoa(limit)
	rows, err := s.conn.Query(ctx, q, day.Format(time.DateOnly), platform, after)
	if err != nil {
		return nil, fmt.Errorf("reading mentions of %s on %s: %w", platform, day.Format(time.DateOnly), err)
	}
	defer rows.Close()
	var out []Stored
	for rows.Next() {
		var (
			st    Stored
			m     mention.Mention
			own   uint8
			v     uint8
			score float32
			raw   string
		)
		if err := rows.Scan(&st.Day, &m.Platform, &m.ID, &m.Kind, &m.ParentID, &m.ThreadID, &m.AuthorID, &m.AuthorHandle, &m.AuthorName,
			&m.Text, &m.Lang, &m.URL, &m.CreatedAt, &m.CollectedAt,
			&m.Metrics.Likes, &m.Metrics.Replies, &m.Metrics.Shares, &m.Metrics.Quotes, &m.Metrics.Views,
			&m.Source.Name, &m.Source.Department, &own,
			&st.Tags.Departments, &st.Tags.Topics, &score, &st.Tags.Sentiment.Label, &st.Tags.Matched, &st.Taxonomy, &raw, &v); err != nil {
			return nil, fmt.Errorf("reading mentions of %s on %s: %w", platform, day.Format(time.DateOnly), err)
		}
		m.Own, m.V, m.Raw = own == 1, int(v), json.RawMessage(raw)
		st.Tags.Sentiment.Score, st.Tags.Lang = float64(score), m.Lang
		st.M = &m
		out = append(out, st)
	}
	return out, rows.Err()
}

// CountDays returns the number of distinct mentions posted from since to
// until (both days included), after FINAL.
func (s *Store) CountDays(ctx context.Context, since, until time.Time) (uint64, error) {
	var n uint64
	err := s.conn.QueryRow(ctx, "SELECT count() FROM "+s.db+".mentions FINAL WHERE day >= toDate(?) AND day <= toDate(?)",
		since.Format(time.DateOnly), until.Format(time.DateOnly)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("counting mentions: %w", err)
	}
	return n, nil
}
