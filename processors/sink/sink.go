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
//
// With clickhouse.cluster set, migrate renders the replicated schema ON
// CLUSTER: the rows live in Replicated*MergeTree tables named *_local on
// every shard, and the public names (mentions, mentions_daily, ...) are
// Distributed tables over them, so every query and insert is the same on
// one host and on a cluster. Inserts then go through the Distributed table
// synchronously (insert_distributed_sync), so an ack still means the rows
// are on their shard. The pattern is documented at the top of
// deploy/clickhouse/001_mentions.sql.
package sink

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"net"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"text/template"
	"time"
	"unsafe"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/column"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/govlisten/govlisten/collectors"
	"github.com/govlisten/govlisten/config"
	"github.com/govlisten/govlisten/deploy"
	"github.com/govlisten/govlisten/mention"
	"github.com/govlisten/govlisten/processors/tagger"
)

// Store is a connection to ClickHouse and the database govlisten uses.
type Store struct {
	conn    driver.Conn
	db      string
	cluster string // clickhouse.cluster; empty on one host
	dsn     string // redacted, for messages
}

var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Open connects to the configured ClickHouse. The password comes from
// clickhouse.password_env / password_file when set, else from the DSN.
// clickhouse.cluster, when set, selects the replicated schema (see the
// package comment).
func Open(ctx context.Context, cfg *config.Config, getenv func(string) string) (*Store, error) {
	if c := cfg.ClickHouse.Cluster; c != "" && !identRE.MatchString(c) {
		return nil, fmt.Errorf("clickhouse.cluster: %q must be letters, digits and _ (the name in the servers' remote_servers)", c)
	}
	s, err := openDSN(ctx, cfg.ClickHouseDSN(), cfg.ShowClickHouseDSN(), cfg.ClickHouse.Compression, cfg.ClickHouse, func() (string, error) {
		return config.Secret(getenv, cfg.ClickHouse.PasswordEnv, cfg.ClickHouse.PasswordFile)
	})
	if err != nil {
		return nil, err
	}
	s.cluster = cfg.ClickHouse.Cluster
	return s, nil
}

// OpenDSN connects to the ClickHouse at dsn; shown is dsn with any password
// masked, for messages; password, when it returns a non-empty value,
// overrides the DSN's.
func OpenDSN(ctx context.Context, dsn, shown string, password func() (string, error)) (*Store, error) {
	return openDSN(ctx, dsn, shown, "auto", config.ClickHouse{}, password)
}

// DatabaseOf is the database a DSN names: govlisten when it names none.
func DatabaseOf(dsn string) (string, error) {
	opts, err := clickhouse.ParseDSN(dsn)
	if err != nil {
		return "", err
	}
	db := opts.Auth.Database
	if db == "" {
		db = "govlisten"
	}
	if !identRE.MatchString(db) {
		return "", fmt.Errorf("database %q must be letters, digits and _", db)
	}
	return db, nil
}

func openDSN(_ context.Context, dsn, shown, compression string, tlsc config.ClickHouse, password func() (string, error)) (*Store, error) {
	opts, err := clickhouse.ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("clickhouse.dsn %s: %w", shown, err)
	}
	if opts.TLS, err = clientTLS(tlsc, opts.TLS); err != nil { // clickhouse.secure, clickhouse.tls, the DSN's secure=true
		return nil, err
	}
	db, err := DatabaseOf(dsn)
	if err != nil {
		return nil, fmt.Errorf("clickhouse.dsn %s: %w", shown, err)
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
	compression = wireCompression(compression, opts.Addr)
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

// WireCompression is how inserts to the ClickHouse at dsn go on the wire
// with clickhouse.compression set to setting: setting itself, or for auto
// none when every address is loopback and lz4 otherwise.
func WireCompression(setting, dsn string) string {
	opts, err := clickhouse.ParseDSN(dsn)
	if err != nil {
		return wireCompression(setting, nil)
	}
	return wireCompression(setting, opts.Addr)
}

func wireCompression(setting string, addrs []string) string {
	if setting != "auto" && setting != "" {
		return setting
	}
	if loopback(addrs) {
		return "none"
	}
	return "lz4"
}

// loopback says whether every address is on this host.
func loopback(addrs []string) bool {
	for _, a := range addrs {
		host, _, err := net.SplitHostPort(a)
		if err != nil {
			host = a
		}
		if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return false
		}
	}
	return len(addrs) > 0
}

// Close closes the connections.
func (s *Store) Close() error { return s.conn.Close() }

// DB is the database name.
func (s *Store) DB() string { return s.db }

// Cluster is the ClickHouse cluster the schema is replicated on, or "" on
// one host. Code that changes stored tables itself (ALTER ... DROP
// PARTITION, say) must do it to Params().Table(name) with
// Params().OnCluster(), as the schema files do.
func (s *Store) Cluster() string { return s.cluster }

// Params are the schema template parameters of this store, without Codec.
func (s *Store) Params() SchemaParams { return SchemaParams{DB: s.db, Cluster: s.cluster} }

// insertContext asks, on a cluster, that an insert through a Distributed
// table return only once the shards have the rows (by default it returns
// once they are queued on the node it reached, which would let a
// processor ack rows that a lost node never sent on).
func (s *Store) insertContext(ctx context.Context) context.Context {
	if s.cluster == "" {
		return ctx
	}
	return clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{"insert_distributed_sync": 1}))
}

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

// SchemaParams are the template parameters of the schema files. The files
// use the fields and the methods below; the top of
// deploy/clickhouse/001_mentions.sql shows the pattern.
type SchemaParams struct {
	// DB is the database.
	DB string
	// Codec is the compression codec of the big columns, or "" on servers
	// without column codecs (before 20.1).
	Codec string
	// Cluster, when set, renders the replicated schema ON CLUSTER Cluster.
	Cluster string
}

// OnCluster is " ON CLUSTER name" on a cluster and "" on one host: it
// follows the object's name in every CREATE, ALTER and DROP.
func (p SchemaParams) OnCluster() string {
	if p.Cluster == "" {
		return ""
	}
	return " ON CLUSTER " + p.Cluster
}

// Table is the name of the table that stores the rows of table name: the
// name itself on one host, name_local on a cluster (where name is the
// Distributed table over the shards' name_local).
func (p SchemaParams) Table(name string) string {
	if p.Cluster == "" {
		return name
	}
	return name + "_local"
}

// Engine is the engine of stored table name: engine itself on one host
// (e.g. ReplacingMergeTree(processed_at)), its Replicated form on a
// cluster, with the table's ZooKeeper or Keeper path and replica name from
// the servers' {shard} and {replica} macros:
// ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/DB/name',
// '{replica}', processed_at). This is the form 18.16 takes as well as
// current releases; the {database} macro of newer ones is not used.
func (p SchemaParams) Engine(name, engine string) (string, error) {
	if p.Cluster == "" {
		return engine, nil
	}
	open := strings.IndexByte(engine, '(')
	if open < 0 || !strings.HasSuffix(engine, ")") || !strings.HasSuffix(engine[:open], "MergeTree") {
		return "", fmt.Errorf("engine of %s: %q is not a *MergeTree(...) engine", name, engine)
	}
	args := "'/clickhouse/tables/{shard}/" + p.DB + "/" + name + "', '{replica}'"
	if a := strings.TrimSpace(engine[open+1 : len(engine)-1]); a != "" {
		args += ", " + a
	}
	return "Replicated" + engine[:open] + "(" + args + ")", nil
}

// Distributed is, on a cluster, the engine of the Distributed table name
// over the shards' name_local, sharded by key. It is used only inside
// {{if .Cluster}}: on one host there is nothing to distribute.
func (p SchemaParams) Distributed(name, key string) (string, error) {
	if p.Cluster == "" {
		return "", fmt.Errorf("distributed table %s outside {{if .Cluster}}", name)
	}
	return "Distributed(" + p.Cluster + ", " + p.DB + ", " + p.Table(name) + ", " + key + ")", nil
}

// Migrate applies every schema file under deploy/clickhouse in name order,
// ON CLUSTER when the store has a cluster. Every statement is idempotent
// (IF NOT EXISTS), so running it again, or from several processes, changes
// nothing.
//
// On a cluster each statement returns once every server of the cluster has
// run it (or fails naming the server that could not, or after the servers'
// distributed_ddl_task_timeout when one is down); ADD COLUMN is skipped
// when the server migrate is connected to has the column.
//
// An INSERT ... SELECT in a schema file is a backfill: it copies the rows
// already stored into a table that a materialized view fills from then on
// (008_questions.sql). It runs only while the view created by the
// statement after it, which records that the copy completed, does not
// exist: the first migrate after the file appeared copies (an interrupted
// copy is repeated in full by the next migrate; the tables it fills keep
// one row per key), later ones skip it. A backfill costs a read of the
// table it copies from (seconds per 10 million mentions) and is not
// bounded by time: give Migrate a context that allows for it.
func (s *Store) Migrate(ctx context.Context) error {
	major, _, err := s.ServerVersion(ctx)
	if err != nil {
		return err
	}
	p := SchemaParams{DB: s.db, Cluster: s.cluster}
	if major >= 20 {
		p.Codec = "CODEC(ZSTD(3))"
	}
	stmts, err := Statements(p)
	if err != nil {
		return err
	}
	if p.Cluster != "" {
		if err := s.checkCluster(ctx); err != nil {
			return err
		}
	}
	for i, st := range stmts {
		if p.Cluster != "" && major < 20 && tableDDL.MatchString(st.SQL) {
			// 18.16 cannot create a replicated table whose columns have
			// COMMENTs ("Table structure in ZooKeeper is too different
			// from local table structure": they do not survive its
			// ZooKeeper round trip), so on old clusters the tables go
			// without them; docs/schema.md documents every column.
			stmts[i].SQL = columnComment.ReplaceAllString(st.SQL, "")
		}
	}
	for i, st := range stmts {
		done, err := s.columnExists(ctx, st.SQL)
		ectx := ctx
		if backfillRE.MatchString(st.SQL) {
			done, err = s.viewExists(ctx, stmts[i+1].SQL) // Statements checked that it is there
			ectx = s.insertContext(ctx)
		}
		if err != nil {
			return fmt.Errorf("migrate %s, statement %d: %w", st.File, st.N, err)
		} else if done {
			continue
		}
		if err := s.conn.Exec(ectx, st.SQL); err != nil {
			return fmt.Errorf("migrate %s, statement %d: %w", st.File, st.N, err)
		}
	}
	if p.Cluster != "" {
		return s.syncDistributed(ctx, stmts)
	}
	return nil
}

// checkCluster makes sure, before any ON CLUSTER statement, that the
// server knows the cluster and reaches its ZooKeeper or Keeper: an ON
// CLUSTER query otherwise fails after a long wait with a vaguer message
// (and 18.16 may even crash when its coordination session is not up yet).
func (s *Store) checkCluster(ctx context.Context) error {
	var hosts uint64
	if err := s.conn.QueryRow(ctx, "SELECT count() FROM system.clusters WHERE cluster = ?", s.cluster).Scan(&hosts); err != nil {
		return fmt.Errorf("ClickHouse %s: reading system.clusters: %w", s.dsn, err)
	}
	if hosts == 0 {
		return fmt.Errorf("ClickHouse %s: cluster %q is not in the server's remote_servers (deploy/clickhouse/config/remote_servers.xml)", s.dsn, s.cluster)
	}
	var n uint64
	if err := s.conn.QueryRow(ctx, "SELECT count() FROM system.zookeeper WHERE path = '/'").Scan(&n); err != nil {
		return fmt.Errorf("ClickHouse %s: the replicated schema needs ZooKeeper or ClickHouse Keeper (deploy/clickhouse/config/): %w", s.dsn, err)
	}
	return nil
}

// distributedRE recognises the statements that create a Distributed table
// over a local one (see the top of 001_mentions.sql).
var distributedRE = regexp.MustCompile(`^CREATE TABLE IF NOT EXISTS ([A-Za-z0-9_]+)\.([A-Za-z0-9_]+) ON CLUSTER ([A-Za-z0-9_]+) AS ([A-Za-z0-9_]+)\.([A-Za-z0-9_]+)\s+ENGINE = Distributed\(`)

// syncDistributed recreates, ON CLUSTER, each Distributed table whose
// columns differ from its local table's on this server: after an ALTER of
// the local tables, the Distributed table over them must show the same
// columns, and 18.16 refuses ALTER ON CLUSTER of a Distributed table when
// the shards are replicated. A Distributed table stores nothing (govlisten
// inserts through it synchronously), so recreating it loses nothing; for
// the moment between DROP and CREATE, queries and inserts through it fail
// and are retried.
func (s *Store) syncDistributed(ctx context.Context, stmts []Statement) error {
	for _, st := range stmts {
		m := distributedRE.FindStringSubmatch(st.SQL)
		if m == nil {
			continue
		}
		dist, err := s.columns(ctx, m[1], m[2])
		if err != nil {
			return err
		}
		local, err := s.columns(ctx, m[4], m[5])
		if err != nil {
			return err
		}
		if dist == local {
			continue
		}
		if err := s.conn.Exec(ctx, "DROP TABLE IF EXISTS "+m[1]+"."+m[2]+" ON CLUSTER "+m[3]); err != nil {
			return fmt.Errorf("migrate: recreating %s.%s to match %s.%s: %w", m[1], m[2], m[4], m[5], err)
		}
		if err := s.conn.Exec(ctx, st.SQL); err != nil {
			return fmt.Errorf("migrate: recreating %s.%s to match %s.%s: %w", m[1], m[2], m[4], m[5], err)
		}
	}
	return nil
}

// columns lists a table's columns with their types, in order.
func (s *Store) columns(ctx context.Context, db, table string) (string, error) {
	rows, err := s.conn.Query(ctx, "SELECT name, type FROM system.columns WHERE database = ? AND table = ?", db, table)
	if err != nil {
		return "", fmt.Errorf("reading the columns of %s.%s: %w", db, table, err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			return "", fmt.Errorf("reading the columns of %s.%s: %w", db, table, err)
		}
		b.WriteString(name + " " + typ + "\n")
	}
	return b.String(), rows.Err()
}

var (
	tableDDL      = regexp.MustCompile(`^(?:CREATE TABLE|ALTER TABLE) `)
	columnComment = regexp.MustCompile(`\s+COMMENT\s+'(?:[^'\\]|''|\\.)*'`)
)

// addColumn recognises the ALTER TABLE ... ADD COLUMN statements of the
// schema files, which 18.16 cannot make idempotent itself.
var addColumn = regexp.MustCompile(`^ALTER TABLE ([A-Za-z0-9_]+)\.([A-Za-z0-9_]+)(?: ON CLUSTER [A-Za-z0-9_]+)? ADD COLUMN ([A-Za-z0-9_]+) `)

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

var (
	// backfillRE recognises the backfills of the schema files (see
	// Migrate), and markerRE the view after each that records it done.
	backfillRE = regexp.MustCompile(`^INSERT INTO `)
	markerRE   = regexp.MustCompile(`^CREATE VIEW IF NOT EXISTS ([A-Za-z0-9_]+)\.([A-Za-z0-9_]+)[\s(]`)
)

// checkBackfills fails for a backfill among the statements of one schema
// file that is not followed by the view that records it done.
func checkBackfills(sts []Statement) error {
	for i, st := range sts {
		if backfillRE.MatchString(st.SQL) && (i+1 == len(sts) || !markerRE.MatchString(sts[i+1].SQL)) {
			return fmt.Errorf("schema %s, statement %d: an INSERT (a backfill) must be followed by the CREATE VIEW IF NOT EXISTS that records it done (see sink.Migrate)", st.File, st.N)
		}
	}
	return nil
}

// viewExists says whether the view that marker creates exists.
func (s *Store) viewExists(ctx context.Context, marker string) (bool, error) {
	m := markerRE.FindStringSubmatch(marker)
	var n uint64
	err := s.conn.QueryRow(ctx, "SELECT count() FROM system.tables WHERE database = ? AND name = ?", m[1], m[2]).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("checking view %s.%s: %w", m[1], m[2], err)
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
// With p.Cluster set it fails on a statement that is not written for a
// cluster: a CREATE, ALTER or DROP without ON CLUSTER, or a MergeTree
// engine that is not Replicated. It fails on a backfill (an INSERT) that
// is not followed, in its file, by the CREATE VIEW IF NOT EXISTS that
// records it done (see Migrate).
func Statements(p SchemaParams) ([]Statement, error) {
	if p.Cluster != "" && !identRE.MatchString(p.Cluster) {
		return nil, fmt.Errorf("cluster %q must be letters, digits and _", p.Cluster)
	}
	names, err := fs.Glob(deploy.Schema, "clickhouse/*.sql")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var out []Statement
	for _, name := range names {
		sts, err := render(name, p, p.Cluster)
		if err != nil {
			return nil, err
		}
		if err := checkBackfills(sts); err != nil {
			return nil, err
		}
		out = append(out, sts...)
	}
	return out, nil
}

// render renders one schema file with data (SchemaParams, or a struct
// embedding it) and splits it into statements, checking them for cluster
// when it is set.
func render(name string, data any, cluster string) ([]Statement, error) {
	src, err := deploy.Schema.ReadFile(name)
	if err != nil {
		return nil, err
	}
	tmpl, err := template.New(name).Option("missingkey=error").Parse(string(src))
	if err != nil {
		return nil, fmt.Errorf("schema %s: %w", name, err)
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, data); err != nil {
		return nil, fmt.Errorf("schema %s: %w", name, err)
	}
	var out []Statement
	for _, st := range strings.Split(stripComments(buf.String()), ";\n") {
		if st = strings.TrimSpace(st); st == "" {
			continue
		}
		s := Statement{File: name, N: len(out) + 1, SQL: st}
		if cluster != "" {
			if err := checkClustered(s, cluster); err != nil {
				return nil, err
			}
		}
		out = append(out, s)
	}
	return out, nil
}

var (
	ddlRE    = regexp.MustCompile(`^(?i:CREATE|ALTER|DROP|RENAME|TRUNCATE|OPTIMIZE)\b`)
	engineRE = regexp.MustCompile(`ENGINE\s*=\s*([A-Za-z]*MergeTree)\b`)
)

// checkClustered fails for a statement of a clustered rendering that would
// change one server only, or store rows that are not replicated.
func checkClustered(s Statement, cluster string) error {
	if ddlRE.MatchString(s.SQL) && !strings.Contains(s.SQL, " ON CLUSTER "+cluster) {
		return fmt.Errorf("schema %s, statement %d is not written for a cluster: a %s without {{.OnCluster}} (see the top of 001_mentions.sql)", s.File, s.N, strings.Fields(s.SQL)[0])
	}
	for _, m := range engineRE.FindAllStringSubmatch(s.SQL, -1) {
		if !strings.HasPrefix(m[1], "Replicated") {
			return fmt.Errorf("schema %s, statement %d is not written for a cluster: ENGINE = %s instead of {{.Engine ...}} (see the top of 001_mentions.sql)", s.File, s.N, m[1])
		}
	}
	return nil
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

// Insert stores rows in one INSERT (Begin, Write, Commit). It returns nil
// only when ClickHouse has accepted every row.
func (s *Store) Insert(ctx context.Context, rows []Row) error {
	if len(rows) == 0 {
		return nil
	}
	in, err := s.Begin(ctx)
	if err != nil {
		return err
	}
	if err := in.Write(rows); err != nil {
		in.Abort()
		return err
	}
	return in.Commit()
}

// Insertion is one INSERT INTO mentions kept open while its rows arrive,
// block by block: the processor's batch. Each Write sends a block to the
// server, which holds the blocks of one INSERT (up to
// min_insert_block_size_rows, a million rows by default) and writes them
// as one part of mentions, and one of each rollup, at Commit. So the
// server's work, which is mostly per part written (files created, then
// merged), follows the batch, while the client holds only one block.
// Nothing is stored unless Commit returns nil. Not safe for concurrent use.
//
// On a cluster, where an insert into a Distributed table is synchronous
// (insertContext), the server does not combine blocks: each Write is then
// its own part on the shards.
type Insertion struct {
	batch driver.Batch
	rows  int
	err   error
}

// Begin opens an insert into mentions.
func (s *Store) Begin(ctx context.Context) (*Insertion, error) {
	batch, err := s.conn.PrepareBatch(s.insertContext(ctx), "INSERT INTO "+s.db+".mentions ("+insertColumns+")")
	if err != nil {
		return nil, fmt.Errorf("preparing insert of mentions: %w", err)
	}
	return &Insertion{batch: batch}, nil
}

// Rows is how many rows were written so far.
func (in *Insertion) Rows() int { return in.rows }

// Write sends rows to the server as one block. After an error the
// insertion can only be aborted.
func (in *Insertion) Write(rows []Row) error {
	if in.err != nil {
		return in.err
	}
	if len(rows) == 0 {
		return nil
	}
	if err := in.write(rows); err != nil {
		in.err = err
		return err
	}
	in.rows += len(rows)
	return nil
}

// write appends rows column by column (one typed slice per column for the
// block costs a fraction of per-row Append's reflection) and sends them.
func (in *Insertion) write(rows []Row) error {
	batch := in.batch
	n := len(rows)
	c := getInsertCols(n)
	defer putInsertCols(c)
	var (
		platform, kind, label                      = c.platform, c.kind, c.label
		id, parent, thread, authorID, handle, name = c.id, c.parent, c.thread, c.authorID, c.handle, c.name
		text, lang, url, source, sourceDept, raw   = c.text, c.lang, c.url, c.source, c.sourceDept, c.raw
		created, collected, processed, day         = c.created, c.collected, c.processed, c.day
		likes, replies, shares, quotes, views      = c.likes, c.replies, c.shares, c.quotes, c.views
		taxonomy                                   = c.taxonomy
		sentiment                                  = c.sentiment
		version, own                               = c.version, c.own
		now                                        = time.Now().UTC()
	)
	for i, r := range rows {
		m := r.M
		platform[i], kind[i], label[i] = platformCode[m.Platform], kindCode[m.Kind], labelCode[r.Tags.Sentiment.Label]
		id[i], parent[i], thread[i], authorID[i], handle[i], name[i] = m.ID, m.ParentID, m.ThreadID, m.AuthorID, m.AuthorHandle, m.AuthorName
		text[i], lang[i], url[i], source[i], sourceDept[i], raw[i] = m.Text, r.Tags.Lang, m.URL, m.Source.Name, m.Source.Department, bytesString(m.Raw)
		created[i], collected[i], processed[i] = m.CreatedAt, m.CollectedAt, now
		day[i] = m.CreatedAt.UTC().Truncate(24 * time.Hour)
		likes[i], replies[i], shares[i], quotes[i], views[i] = m.Metrics.Likes, m.Metrics.Replies, m.Metrics.Shares, m.Metrics.Quotes, m.Metrics.Views
		sentiment[i] = float32(r.Tags.Sentiment.Score)
		taxonomy[i] = r.Taxonomy
		version[i], own[i] = uint8(m.V), 0
		if m.Own {
			own[i] = 1
		}
	}
	// The order of insertColumns; nil marks the array columns, appended
	// below.
	var cols []column.Interface
	if in.rows == 0 {
		cols = in.batch.Columns() // a new insert's, to reserve room in
	}
	for i, col := range []any{platform, id, kind, parent, thread, authorID, handle, name, text, lang, url,
		created, collected, likes, replies, shares, quotes, views, source, sourceDept, own,
		nil, nil, sentiment, label, nil, taxonomy, raw, version, processed, day} {
		if col == nil {
			continue
		}
		if strs, ok := col.([]string); ok && cols != nil {
			reserve(cols[i], stringBytes(strs), false)
		}
		if err := batch.Column(i).Append(col); err != nil {
			return fmt.Errorf("appending column %d of %d mentions: %w", i, n, err)
		}
	}
	// Array columns row by row: clickhouse-go appends a [][]string column
	// through reflection, one boxed value per element (a tenth of the
	// processor's CPU), and a []string row without reflection but still
	// boxing each element (an allocation per string); a []*string row
	// passes pointers, which box without allocating.
	ptrs := c.ptrs[:0]
	for i, arr := range []func(*tagger.Tags) []string{
		21: func(t *tagger.Tags) []string { return t.Departments },
		22: func(t *tagger.Tags) []string { return t.Topics },
		25: func(t *tagger.Tags) []string { return t.Matched },
	} {
		if arr == nil {
			continue
		}
		col := batch.Column(i)
		if cols != nil {
			n := 0
			for r := range rows {
				n += stringBytes(arr(&rows[r].Tags))
			}
			reserve(cols[i], n, true)
		}
		for r := range rows {
			ptrs = ptrs[:0]
			a := arr(&rows[r].Tags)
			for k := range a {
				ptrs = append(ptrs, &a[k])
			}
			if err := col.AppendRow(ptrs); err != nil {
				return fmt.Errorf("appending column %d of %d mentions: %w", i, n, err)
			}
		}
	}
	clear(ptrs)
	c.ptrs = ptrs
	if err := batch.Flush(); err != nil {
		return fmt.Errorf("sending %d mentions: %w", n, err)
	}
	return nil
}

// reserve gives column col of a new insert, before its first block, the
// room for n bytes of strings in one allocation. clickhouse-go makes an
// insert's columns empty, and appending a block of 10,000 mentions grows
// each by steps of 1.25 times, allocating some five times its final size:
// 70 MB for the first block of every batch, a fifth of what the processor
// allocated. The column keeps the room for the later blocks (Reset keeps
// its capacity). The room is made by appending one string of n bytes,
// read from a shared buffer, and resetting the column.
func reserve(col column.Interface, n int, array bool) {
	n += n / 4 // and for a larger block
	padMu.Lock()
	if len(pad) < n {
		pad = make([]byte, n)
	}
	p := unsafe.String(unsafe.SliceData(pad), n)
	padMu.Unlock()
	if array {
		_ = col.AppendRow([]string{p}) // an error leaves no room, nothing else
	} else {
		_ = col.AppendRow(p)
	}
	col.Reset() // before the first row: empties it whatever AppendRow did
}

// stringBytes is the total length of ss.
func stringBytes(ss []string) int {
	n := 0
	for _, s := range ss {
		n += len(s)
	}
	return n
}

// pad is only read: the bytes of reserve's strings.
var (
	padMu sync.Mutex
	pad   []byte
)

// Commit ends the insert: the rows are stored once it returns nil.
func (in *Insertion) Commit() error {
	if in.err != nil {
		in.Abort()
		return in.err
	}
	if err := in.batch.Send(); err != nil {
		return fmt.Errorf("inserting %d mentions: %w", in.rows, err)
	}
	return nil
}

// Abort gives the insert up by closing its connection. The server may
// still store the blocks it had received (18.16 takes a closed connection
// for the end of the data), so an aborted insertion's mentions are
// redelivered, never assumed absent: storing a mention twice changes no
// answer (mentions is a ReplacingMergeTree; the rollups count distinct
// mentions).
func (in *Insertion) Abort() { _ = in.batch.Abort() }

// Enum codes of the mentions table.
var (
	platformCode = map[string]int8{mention.Twitter: 1, mention.YouTube: 2, mention.Facebook: 3}
	kindCode     = map[string]int8{mention.KindPost: 1, mention.KindComment: 2, mention.KindReply: 3}
	labelCode    = map[string]int8{tagger.Negative: -1, tagger.Neutral: 0, tagger.Positive: 1, "unsupported": 2}
)

// insertCols are Insert's column slices, kept in a pool: clickhouse-go
// copies what it is given, so a batch's slices serve the next batch, and
// the processor does not allocate and clear some 4 MB per 10,000 mentions.
type insertCols struct {
	platform, kind, label                              []int8
	id, parent, thread, authorID, handle, name         []string
	text, lang, url, source, sourceDept, raw, taxonomy []string
	created, collected, processed, day                 []time.Time
	likes, replies, shares, quotes, views              []uint64
	sentiment                                          []float32
	version, own                                       []uint8
	ptrs                                               []*string // one row of an array column
}

var insertColsPool sync.Pool

// getInsertCols returns column slices of length n; every element is
// written by Insert before it is read.
func getInsertCols(n int) *insertCols {
	c, _ := insertColsPool.Get().(*insertCols)
	if c == nil || cap(c.id) < n {
		c = &insertCols{}
	}
	for _, p := range []*[]int8{&c.platform, &c.kind, &c.label} {
		*p = resize(*p, n)
	}
	for _, p := range []*[]string{&c.id, &c.parent, &c.thread, &c.authorID, &c.handle, &c.name, &c.text, &c.lang, &c.url, &c.source, &c.sourceDept, &c.raw, &c.taxonomy} {
		*p = resize(*p, n)
	}
	for _, p := range []*[]time.Time{&c.created, &c.collected, &c.processed, &c.day} {
		*p = resize(*p, n)
	}
	for _, p := range []*[]uint64{&c.likes, &c.replies, &c.shares, &c.quotes, &c.views} {
		*p = resize(*p, n)
	}
	c.sentiment = resize(c.sentiment, n)
	c.version, c.own = resize(c.version, n), resize(c.own, n)
	return c
}

// putInsertCols returns c to the pool, first dropping its references to
// the batch's strings so that they can be collected.
func putInsertCols(c *insertCols) {
	for _, s := range [][]string{c.id, c.parent, c.thread, c.authorID, c.handle, c.name, c.text, c.lang, c.url, c.source, c.sourceDept, c.raw, c.taxonomy} {
		clear(s)
	}
	insertColsPool.Put(c)
}

func resize[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// bytesString is b as a string without a copy. Only for bytes that are
// never written again: a decoded Mention's Raw is not.
func bytesString(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// CreateRawTable creates table bench_raw for BeginRaw.
func (s *Store) CreateRawTable(ctx context.Context) error {
	if err := s.conn.Exec(ctx, "CREATE DATABASE IF NOT EXISTS "+s.db); err != nil {
		return err
	}
	if err := s.conn.Exec(ctx, "CREATE TABLE IF NOT EXISTS "+s.db+".bench_raw (data String) ENGINE = MergeTree() ORDER BY tuple()"); err != nil {
		return fmt.Errorf("creating bench_raw: %w", err)
	}
	return nil
}

// RawInsertion is the baseline's Insertion: messages as opaque strings
// into table bench_raw (see CreateRawTable), block by block in one INSERT,
// as the processor's rows are: what `govlisten bench` compares with.
type RawInsertion struct {
	batch driver.Batch
}

// BeginRaw opens an insert into bench_raw.
func (s *Store) BeginRaw(ctx context.Context) (*RawInsertion, error) {
	batch, err := s.conn.PrepareBatch(ctx, "INSERT INTO "+s.db+".bench_raw (data)")
	if err != nil {
		return nil, fmt.Errorf("preparing raw insert: %w", err)
	}
	return &RawInsertion{batch: batch}, nil
}

// Write sends one block of messages.
func (in *RawInsertion) Write(data [][]byte) error {
	for _, d := range data {
		if err := in.batch.Append(bytesString(d)); err != nil {
			return err
		}
	}
	return in.batch.Flush()
}

// Commit ends the insert.
func (in *RawInsertion) Commit() error { return in.batch.Send() }

// Abort gives the insert up.
func (in *RawInsertion) Abort() { _ = in.batch.Abort() }

// RecordRun writes one row of the completeness ledger, collection_runs.
func (s *Store) RecordRun(ctx context.Context, r collectors.Run) (err error) {
	batch, err := s.conn.PrepareBatch(s.insertContext(ctx), "INSERT INTO "+s.db+".collection_runs (run_id, source, platform, kind, department, collector, "+
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

// RebuildRollups recomputes one month (YYYYMM) of every table that a
// materialized view derives from mentions (the rollups mentions_daily and
// mentions_hourly, and questions) from mentions FINAL, with the files of
// deploy/clickhouse/rebuild/: after a re-tag, the rollups would otherwise
// count each re-tagged mention under its old tags too, and after an erase
// every one of them would keep the erased mentions.
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
	sts, err := RebuildStatements(name, s.Params(), month)
	if err != nil {
		return err
	}
	for _, st := range sts {
		if err := s.conn.Exec(s.insertContext(ctx), st.SQL); err != nil {
			return fmt.Errorf("%s for %d: %w", name, month, err)
		}
	}
	return nil
}

// rebuildParams are the template parameters of the rebuild files.
type rebuildParams struct {
	SchemaParams
	// Month is the partition to rebuild, YYYYMM.
	Month int
}

// RebuildStatements renders rebuild file name (clickhouse/rebuild/*.sql)
// for one month.
func RebuildStatements(name string, p SchemaParams, month int) ([]Statement, error) {
	return render(name, rebuildParams{SchemaParams: p, Month: month}, p.Cluster)
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
