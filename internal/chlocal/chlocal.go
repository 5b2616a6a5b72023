// Package chlocal runs a private ClickHouse server from the clickhouse-server
// binary on this machine: for `govlisten up` when no ClickHouse is
// configured, and for the integration tests. The server listens on loopback
// only, on a free port, with its data under a directory of the caller's, and
// dies with the process that started it (Linux parent-death signal), so a
// killed test run never leaves one behind.
package chlocal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/govlisten/govlisten/internal/child"
)

// Server is a running private ClickHouse server.
type Server struct {
	proc    *child.Process
	dir     string
	TCPPort int
}

// ErrNoBinary means no clickhouse-server binary was found.
var ErrNoBinary = errors.New("no clickhouse-server binary on PATH, in /usr/sbin or /usr/bin (on Debian or Ubuntu: apt-get install clickhouse-server clickhouse-client)")

// FindBinary returns the path of clickhouse-server: the given one if not
// empty, else from PATH or the usual places.
func FindBinary(given string) (string, error) {
	if given != "" {
		if _, err := os.Stat(given); err != nil {
			return "", fmt.Errorf("clickhouse.server: %w", err)
		}
		return given, nil
	}
	if p, err := exec.LookPath("clickhouse-server"); err == nil {
		return p, nil
	}
	for _, p := range []string{"/usr/sbin/clickhouse-server", "/usr/bin/clickhouse-server", "/usr/bin/clickhouse"} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", ErrNoBinary
}

const configXML = `<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>%[1]s/server.log</log><errorlog>%[1]s/error.log</errorlog><size>10M</size><count>2</count><console>0</console></logger>
  <listen_host>127.0.0.1</listen_host>
  <tcp_port>%[2]d</tcp_port>
  <http_port>%[3]d</http_port>
  <interserver_http_port>%[4]d</interserver_http_port>
  <path>%[1]s/data/</path>
  <tmp_path>%[1]s/tmp/</tmp_path>
  <user_files_path>%[1]s/user_files/</user_files_path>
  <format_schema_path>%[1]s/format_schemas/</format_schema_path>
  <users_config>%[1]s/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>268435456</mark_cache_size>
  <max_concurrent_queries>100</max_concurrent_queries>
</yandex>
`

const usersXML = `<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>4000000000</max_memory_usage><load_balancing>random</load_balancing></default><readonly><readonly>1</readonly></readonly></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks><profile>default</profile><quota>default</quota></default></users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
`

// Start runs clickhouse-server with a private config under dir (created if
// needed; an existing data directory is reused) and waits until it accepts
// connections. Port 0 picks a free one.
func Start(ctx context.Context, binary, dir string, port int) (*Server, error) {
	return StartWith(ctx, binary, dir, Options{Port: port})
}

// Options are what StartWith adds to Start.
type Options struct {
	// Port is the native protocol port; 0 picks a free one.
	Port int
	// ConfigD holds extra server configuration: file name (ending in .xml)
	// to XML, written to config.d/ beside the private config.xml, which the
	// server merges over it at start: remote_servers, macros, zookeeper or
	// keeper for a replicated test cluster. The root element is <yandex>
	// (which current releases accept too).
	ConfigD map[string]string
}

// FreePort returns a loopback TCP port that was free a moment ago, for
// configurations (remote_servers) that must name a server's port before it
// starts.
func FreePort() (int, error) { return child.FreePort() }

// StartWith is Start with Options.
func StartWith(ctx context.Context, binary, dir string, opt Options) (*Server, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	for _, d := range []string{"data", "tmp", "user_files", "format_schemas"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o750); err != nil {
			return nil, err
		}
	}
	if len(opt.ConfigD) > 0 {
		if err := os.MkdirAll(filepath.Join(dir, "config.d"), 0o750); err != nil {
			return nil, err
		}
		for name, xml := range opt.ConfigD {
			if filepath.Base(name) != name || filepath.Ext(name) != ".xml" {
				return nil, fmt.Errorf("config.d file %q: want a plain NAME.xml", name)
			}
			if err := os.WriteFile(filepath.Join(dir, "config.d", name), []byte(xml), 0o640); err != nil {
				return nil, err
			}
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "users.xml"), []byte(usersXML), 0o640); err != nil {
		return nil, err
	}
	// The ports are free when picked, not when the server binds them:
	// another process (a parallel test, say) may take one in between. The
	// server then exits at start, and is started again on new ports.
	errLog := filepath.Join(dir, "error.log")
	for attempt := 1; ; attempt++ {
		before := fileSize(errLog)
		s, err := start(ctx, binary, dir, opt.Port)
		if err == nil || attempt == startAttempts || !portTaken(errLog, before) {
			return s, err
		}
	}
}

// portTaken says whether the server logged, after the first before bytes
// of its error log, that an address it was to listen on is in use.
func portTaken(errLog string, before int64) bool {
	data, err := os.ReadFile(errLog)
	if err != nil || int64(len(data)) < before {
		return false
	}
	return bytes.Contains(data[before:], []byte("Address already in use"))
}

// fileSize is the size of the file at path, 0 when there is none.
func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// startAttempts is how many times StartWith starts a server whose port
// was taken meanwhile.
const startAttempts = 3

// start writes the config with port (0: a free one) and free HTTP and
// interserver ports, and runs the server until it accepts connections.
func start(ctx context.Context, binary, dir string, port int) (*Server, error) {
	var err error
	if port == 0 {
		if port, err = child.FreePort(); err != nil {
			return nil, err
		}
	}
	httpPort, err := child.FreePort()
	if err != nil {
		return nil, err
	}
	interPort, err := child.FreePort()
	if err != nil {
		return nil, err
	}
	cfgPath := filepath.Join(dir, "config.xml")
	if err := os.WriteFile(cfgPath, []byte(fmt.Sprintf(configXML, dir, port, httpPort, interPort)), 0o640); err != nil {
		return nil, err
	}
	// A server killed with -9 leaves its pid file; a stale one blocks the
	// next start.
	_ = os.Remove(filepath.Join(dir, "data", "status"))
	errLog := filepath.Join(dir, "error.log")
	args := []string{"--config-file=" + cfgPath}
	if filepath.Base(binary) == "clickhouse" {
		args = append([]string{"server"}, args...)
	}
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	proc, err := child.Start(cmd, filepath.Join(dir, "stdout.log"))
	if err != nil {
		return nil, fmt.Errorf("starting %s: %w", binary, err)
	}
	s := &Server{proc: proc, dir: dir, TCPPort: port}
	if err := proc.WaitReady(ctx, 60*time.Second, "clickhouse-server", s.Addr(), errLog, func() bool { return child.Dialable(s.Addr()) }); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// Addr is the native protocol address.
func (s *Server) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.TCPPort) }

// DSN is a govlisten DSN for database db on this server.
func (s *Server) DSN(db string) string { return "clickhouse://" + s.Addr() + "/" + db }

// Stop ends the server (SIGTERM, then SIGKILL after 20 s) and waits for it.
func (s *Server) Stop() {
	if s != nil {
		s.proc.Stop(20 * time.Second)
	}
}

// Restart starts the server again on the same port and data after Stop.
func (s *Server) Restart(ctx context.Context, binary string) (*Server, error) {
	return Start(ctx, binary, s.dir, s.TCPPort)
}
