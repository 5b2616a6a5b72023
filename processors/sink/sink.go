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
	return OpenDSN(ctx, cfg.ClickHouseDSN(), cfg.ShowClickHouseDSN(), func() (string, error) {
		return config.Secret(getenv, cfg.ClickHouse.PasswordEnv, cfg.ClickHouse.PasswordFile)
	})
}

// OpenDSN connects to the ClickHouse at dsn; shown is dsn with any password
// masked, for messages; password, when it returns a non-empty value,
// overrides the DSN's.
func OpenDSN(ctx context.Context, dsn, shown string, password func() (string, error)) (*Store, error) {
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
	opts.Compression = &clickhouse.Compression{Method: clickhouse.CompressionLZ4}
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

// schemaParams are the template parameters of the schema files.
type schemaParams struct {
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
	p := schemaParams{DB: s.db}
	if major >= 20 {
		p.Codec = "CODEC(ZSTD(3))"
	}
	stmts, err := Statements(p)
	if err != nil {
		return err
	}
	for _, st := range stmts {
		if err := s.conn.Exec(ctx, st.SQL); err != nil {
			return fmt.Errorf("migrate %s, statement %d: %w", st.File, st.N, err)
		}
	}
	return nil
}

// Statement is one statement of a schema file.
type Statement struct {
	File string
	N    int
	SQL  string
}

// Statements renders the schema files and splits them into statements.
func Statements(p schemaParams) ([]Statement, error) {
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
}

const insertColumns = "platform, id, kind, parent_id, thread_id, author_id, author_handle, author_name, text, lang, url, " +
	"created_at, collected_at, likes, replies, shares, quotes, views, source, source_department, " +
	"departments, topics, sentiment, sentiment_label, matched, raw, v, processed_at, day"

// Insert writes rows in one batch. It returns nil only when ClickHouse has
// accepted every row.
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
	now := time.Now().UTC()
	for _, r := range rows {
		m := r.M
		if err := batch.Append(
			m.Platform, m.ID, m.Kind, m.ParentID, m.ThreadID, m.AuthorID, m.AuthorHandle, m.AuthorName,
			m.Text, r.Tags.Lang, m.URL, m.CreatedAt, m.CollectedAt,
			m.Metrics.Likes, m.Metrics.Replies, m.Metrics.Shares, m.Metrics.Quotes, m.Metrics.Views,
			m.Source.Name, m.Source.Department,
			nonNil(r.Tags.Departments), nonNil(r.Tags.Topics), float32(r.Tags.Sentiment.Score), labelOrNeutral(r.Tags.Sentiment.Label),
			nonNil(r.Tags.Matched), string(m.Raw), uint8(m.V), now, m.CreatedAt.UTC().Truncate(24*time.Hour),
		); err != nil {
			return fmt.Errorf("appending mention %s:%s: %w", m.Platform, m.ID, err)
		}
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("inserting %d mentions: %w", len(rows), err)
	}
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func labelOrNeutral(l string) string {
	if l == "" {
		return tagger.Neutral
	}
	return l
}
