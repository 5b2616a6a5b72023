package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/govlisten/govlisten/internal/chlocal"
	"github.com/govlisten/govlisten/internal/synth"
	"github.com/govlisten/govlisten/internal/testenv"
	"github.com/govlisten/govlisten/processors/sink"
)

// These tests run the real binary against a real NATS server (in-process in
// the test) and a real ClickHouse server, as a user would.

var (
	binPath string
	chOnce  sync.Once
	chSrv   *chlocal.Server
	chErr   error
	chDir   string
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "govlisten-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binPath = filepath.Join(dir, "govlisten")
	build := exec.Command("go", "build", "-o", binPath, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building govlisten:", err)
		os.Exit(1)
	}
	chDir = filepath.Join(dir, "clickhouse")
	code := m.Run()
	if chSrv != nil {
		chSrv.Stop()
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

// sharedClickHouse is one server for the tests that do not stop it; each
// test uses its own database.
func sharedClickHouse(t *testing.T) *chlocal.Server {
	t.Helper()
	chOnce.Do(func() {
		bin, err := chlocal.FindBinary(os.Getenv("GOVLISTEN_CLICKHOUSE_SERVER"))
		if err != nil {
			chErr = err
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		chSrv, chErr = chlocal.Start(ctx, bin, chDir, 0)
	})
	if chErr != nil {
		t.Fatalf("integration tests need a real ClickHouse: %v (run `make test`, which installs it)", chErr)
	}
	return chSrv
}

// env is one test's NATS server, ClickHouse database and environment.
type env struct {
	t       *testing.T
	natsURL string
	dsn     string
	store   *sink.Store
	vars    []string
}

func newEnv(t *testing.T, ch *chlocal.Server) *env {
	t.Helper()
	db := "t_" + strings.ToLower(strings.NewReplacer("/", "_", "-", "_").Replace(t.Name()))
	e := &env{t: t, natsURL: testenv.NATS(t), dsn: ch.DSN(db)}
	e.store = testenv.Store(t, e.dsn)
	e.vars = append(os.Environ(),
		"GOVLISTEN_NATS_URL="+e.natsURL,
		"GOVLISTEN_CLICKHOUSE_DSN="+e.dsn,
		"GOVLISTEN_PROCESS_BATCH_TIMEOUT=200ms",
		"GOVLISTEN_PROCESS_RETRY_MIN=200ms",
		"GOVLISTEN_PROCESS_RETRY_MAX=2s",
		"GOVLISTEN_LOG_FORMAT=json",
		// A killed processor's unacknowledged messages come back after
		// ack_wait; keep that short so the kill test is quick.
		"GOVLISTEN_NATS_CONSUMER_ACK_WAIT=10s",
	)
	return e
}

// run runs the binary to completion.
func (e *env) run(stdin []byte, args ...string) (stdout, stderr string, code int) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binPath, args...)
	cmd.Env = e.vars
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	err := cmd.Run()
	code = 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			e.t.Fatalf("running govlisten %v: %v", args, err)
		}
		code = ee.ExitCode()
	}
	return out.String(), errb.String(), code
}

// start runs the binary in the background; it is killed when the test ends.
func (e *env) start(args ...string) (*proc, *syncBuffer) {
	e.t.Helper()
	cmd := exec.Command(binPath, args...)
	cmd.Env = e.vars
	logs := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	p := &proc{Cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	e.t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
	})
	return p, logs
}

// proc is a child process with one owner of its exec.Cmd.Wait: Wait may be
// called any number of times, from any goroutine.
type proc struct {
	*exec.Cmd
	done chan struct{}
	err  error
}

// Wait returns the child's exit error once it has exited.
func (p *proc) Wait() error {
	<-p.done
	return p.err
}

// syncBuffer collects a child's output while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (e *env) count(query string) uint64 {
	e.t.Helper()
	return testenv.Count(e.t, e.store, strings.ReplaceAll(query, "DB.", e.store.DB()+"."))
}

// waitCount polls query until it returns want or the timeout passes.
func (e *env) waitCount(query string, want uint64, timeout time.Duration) uint64 {
	e.t.Helper()
	deadline := time.Now().Add(timeout)
	var got uint64
	for time.Now().Before(deadline) {
		if got = e.count(query); got >= want {
			return got
		}
		time.Sleep(200 * time.Millisecond)
	}
	return got
}

func writeLines(t *testing.T, lines [][]byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), fmt.Sprintf("mentions-%d.jsonl", time.Now().UnixNano()))
	if err := os.WriteFile(path, append(bytes.Join(lines, []byte("\n")), '\n'), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// importSynth imports n synthetic mentions made from seed with `govlisten import`.
func (e *env) importSynth(seed uint64, n int) {
	e.t.Helper()
	g := synth.New(seed)
	lines := make([][]byte, n)
	for i := range lines {
		lines[i] = g.Line()
	}
	if _, stderr, code := e.run(nil, "import", writeLines(e.t, lines)); code != 0 {
		e.t.Fatalf("import exited %d: %s", code, stderr)
	}
}
