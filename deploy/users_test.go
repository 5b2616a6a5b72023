package deploy_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/govlisten/govlisten/internal/chlocal"
	"github.com/govlisten/govlisten/internal/testenv"
	"github.com/govlisten/govlisten/processors/sink"
)

// usersFile is the users.d fragment under test.
const usersFile = "clickhouse/users/govlisten.xml"

// startWithUsers starts a private ClickHouse whose users include
// clickhouse/users/govlisten.xml, installed as its instructions say: in
// users.d beside users.xml (chlocal writes users.xml into its directory,
// and ClickHouse merges users.d from there), with the password
// placeholders replaced by the SHA-256 of the given passwords. It returns
// the server and the address of its HTTP interface.
func startWithUsers(t *testing.T, analystPassword, processorPassword string) (*chlocal.Server, string) {
	t.Helper()
	src, err := os.ReadFile(usersFile)
	if err != nil {
		t.Fatal(err)
	}
	xml := string(src)
	for placeholder, password := range map[string]string{
		"REPLACE_WITH_SHA256_HEX_OF_THE_ANALYST_PASSWORD":   analystPassword,
		"REPLACE_WITH_SHA256_HEX_OF_THE_PROCESSOR_PASSWORD": processorPassword,
	} {
		if !strings.Contains(xml, placeholder) {
			t.Fatalf("%s has no %s, which its instructions name", usersFile, placeholder)
		}
		sum := sha256.Sum256([]byte(password))
		xml = strings.ReplaceAll(xml, placeholder, hex.EncodeToString(sum[:]))
	}
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "users.d"), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "users.d", "govlisten.xml"), []byte(xml), 0o640); err != nil {
		t.Fatal(err)
	}
	bin, err := chlocal.FindBinary(os.Getenv("GOVLISTEN_CLICKHOUSE_SERVER"))
	if err != nil {
		t.Fatalf("integration tests need a real ClickHouse: %v (run `make test`, which installs it)", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	srv, err := chlocal.Start(ctx, bin, dir, 0)
	if err != nil {
		t.Fatalf("starting ClickHouse with %s: %v", usersFile, err)
	}
	t.Cleanup(srv.Stop)
	cfg, err := os.ReadFile(filepath.Join(dir, "config.xml"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`<http_port>(\d+)</http_port>`).FindSubmatch(cfg)
	if m == nil {
		t.Fatalf("no <http_port> in %s/config.xml", dir)
	}
	return srv, "127.0.0.1:" + string(m[1])
}

// connectAs opens a connection as user to database govlisten.
func connectAs(t *testing.T, srv *chlocal.Server, user, password string) driver.Conn {
	t.Helper()
	conn, err := clickhouse.Open(&clickhouse.Options{
		Addr:        []string{srv.Addr()},
		Auth:        clickhouse.Auth{Database: "govlisten", Username: user, Password: password},
		DialTimeout: 5 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// Server error codes: 18.16's, and those of current releases for the same
// refusal.
var (
	codeReadonly      = []int32{164}      // READONLY
	codeDBDenied      = []int32{291, 497} // DATABASE_ACCESS_DENIED; ACCESS_DENIED
	codeAuth          = []int32{193, 516} // WRONG_PASSWORD; AUTHENTICATION_FAILED
	codeTooManyRows   = []int32{396}      // TOO_MANY_ROWS_OR_BYTES
	codeSettingDenied = []int32{164, 452} // READONLY; SETTING_CONSTRAINT_VIOLATION
)

// refused fails unless err is a server exception with one of codes, and
// logs it: the messages are what a user sees.
func refused(t *testing.T, what string, err error, codes []int32) {
	t.Helper()
	var ex *clickhouse.Exception
	switch {
	case err == nil:
		t.Errorf("%s: allowed, want refused", what)
	case !errors.As(err, &ex):
		t.Errorf("%s: %v, want a server exception with code %v", what, err, codes)
	case !slices.Contains(codes, ex.Code):
		t.Errorf("%s: code %d (%s), want %v", what, ex.Code, ex.Message, codes)
	default:
		t.Logf("%s: refused: %v", what, err)
	}
}

func TestUsers(t *testing.T) {
	const analystPassword, processorPassword = "analyst-test-password", "processor-test-password"
	srv, _ := startWithUsers(t, analystPassword, processorPassword)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// The administrator (the default user) creates the schema and data,
	// and a database the govlisten users must not reach.
	admin := testenv.Store(t, srv.DSN("govlisten"))
	rows := handMade()
	insertRows(t, admin, rows)
	for _, q := range []string{
		"CREATE DATABASE IF NOT EXISTS other",
		"CREATE TABLE IF NOT EXISTS other.secrets (s String) ENGINE = MergeTree() ORDER BY s",
	} {
		if err := admin.Conn().Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	count := func(conn driver.Conn, q string) uint64 {
		t.Helper()
		var n uint64
		if err := conn.QueryRow(ctx, q).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}

	t.Run("analyst reads", func(t *testing.T) {
		analyst := connectAs(t, srv, "analyst", analystPassword)
		if n := count(analyst, "SELECT count() FROM govlisten.mentions FINAL"); n != uint64(len(rows)) {
			t.Errorf("analyst counts %d mentions, want %d", n, len(rows))
		}
		for _, v := range append([]string{"mentions_daily_tags", "mentions_hourly_tags", "alerts", "collection_runs"}, analystViews...) {
			count(analyst, "SELECT count() FROM govlisten."+v)
		}
		if n := count(analyst, "SELECT countIf(answered = 0) FROM govlisten.responses"); n != 1 {
			t.Errorf("analyst sees %d unanswered, want 1", n)
		}
	})

	t.Run("analyst cannot write", func(t *testing.T) {
		analyst := connectAs(t, srv, "analyst", analystPassword)
		_, err := analyst.PrepareBatch(ctx, "INSERT INTO govlisten.mentions (platform, id, text)")
		refused(t, "INSERT", err, codeReadonly)
		for what, q := range map[string]string{
			"DROP TABLE":         "DROP TABLE govlisten.mentions",
			"DROP DATABASE":      "DROP DATABASE govlisten",
			"ALTER ADD COLUMN":   "ALTER TABLE govlisten.mentions ADD COLUMN x UInt8",
			"ALTER DELETE":       "ALTER TABLE govlisten.mentions DELETE WHERE 1 = 1",
			"ALTER DROP PART.":   "ALTER TABLE govlisten.mentions DROP PARTITION 202611",
			"CREATE TABLE":       "CREATE TABLE govlisten.scratch (a UInt8) ENGINE = Memory",
			"CREATE VIEW":        "CREATE VIEW govlisten.scratch AS SELECT 1",
			"RENAME TABLE":       "RENAME TABLE govlisten.alerts TO govlisten.alerts_old",
			"OPTIMIZE":           "OPTIMIZE TABLE govlisten.mentions FINAL",
			"SET a higher limit": "SET max_memory_usage = 100000000000",
		} {
			refused(t, what, analyst.Exec(ctx, q), codeReadonly)
		}
		// Nor raise a limit for one query with settings sent beside it: the
		// server refuses the query, or (18.16 over the native protocol)
		// runs it with the profile's limit.
		big := clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{"max_execution_time": 100000}))
		var limit string
		err = analyst.QueryRow(big, "SELECT value FROM system.settings WHERE name = 'max_execution_time'").Scan(&limit)
		if err != nil {
			refused(t, "query with max_execution_time raised", err, codeSettingDenied)
		} else if limit != "300" {
			t.Errorf("analyst raised max_execution_time to %s for a query", limit)
		}
		if n := count(admin.Conn(), "SELECT count() FROM govlisten.mentions FINAL"); n != uint64(len(rows)) {
			t.Errorf("after the analyst's attempts: %d mentions, want %d", n, len(rows))
		}
	})

	t.Run("analyst limits", func(t *testing.T) {
		analyst := connectAs(t, srv, "analyst", analystPassword)
		r, err := analyst.Query(ctx, "SELECT number FROM system.numbers LIMIT 2000000")
		if err == nil {
			for r.Next() {
			}
			err = r.Err()
			r.Close()
		}
		refused(t, "two million result rows (max_result_rows is a million)", err, codeTooManyRows)
		refused(t, "another database", analyst.QueryRow(ctx, "SELECT count() FROM other.secrets").Err(), codeDBDenied)
		var settings []struct {
			Name  string `ch:"name"`
			Value string `ch:"value"`
		}
		if err := analyst.Select(ctx, &settings, "SELECT name, value FROM system.settings WHERE name IN "+
			"('readonly', 'max_execution_time', 'max_memory_usage', 'max_result_rows', 'max_threads')"); err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, s := range settings {
			got[s.Name] = s.Value
		}
		want := map[string]string{"readonly": "1", "max_execution_time": "300", "max_memory_usage": "4000000000", "max_result_rows": "1000000", "max_threads": "2"}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("analyst's %s = %q, want %q", k, got[k], v)
			}
		}
	})

	t.Run("wrong password", func(t *testing.T) {
		analyst := connectAs(t, srv, "analyst", "not-the-password")
		refused(t, "analyst with a wrong password", analyst.Ping(ctx), codeAuth)
	})

	t.Run("processor writes", func(t *testing.T) {
		dsn := "clickhouse://processor@" + srv.Addr() + "/govlisten"
		st, err := sink.OpenDSN(ctx, dsn, dsn, func() (string, error) { return processorPassword, nil })
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		// What `govlisten process` does at start and for every batch.
		if err := st.Migrate(ctx); err != nil {
			t.Fatalf("migrate as processor: %v", err)
		}
		extra := handMade()[:1]
		extra[0].M.ID = "from-processor"
		if err := st.Insert(ctx, extra); err != nil {
			t.Fatalf("insert as processor: %v", err)
		}
		if n := count(st.Conn(), "SELECT count() FROM govlisten.mentions FINAL"); n != uint64(len(rows))+1 {
			t.Errorf("processor counts %d mentions, want %d", n, len(rows)+1)
		}
		refused(t, "processor reading another database", st.Conn().QueryRow(ctx, "SELECT count() FROM other.secrets").Err(), codeDBDenied)
		// 18.16 cannot allow INSERT without DROP (see the file's comment and
		// grants-20.x.sql): the processor can drop what is in govlisten.
		// Pinned here so that the documentation stays true.
		for _, q := range []string{
			"CREATE TABLE govlisten.processor_scratch (a UInt8) ENGINE = Memory",
			"DROP TABLE govlisten.processor_scratch",
		} {
			if err := st.Conn().Exec(ctx, q); err != nil {
				t.Errorf("processor: %s: %v (18.16 allows it; update deploy/clickhouse/users/ if this changed)", q, err)
			}
		}
	})
}
