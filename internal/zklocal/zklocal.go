// Package zklocal runs a private standalone ZooKeeper server from Debian's
// zookeeper package (a Java program), for the tests of the replicated
// ClickHouse schema: ClickHouse 18.16, the release Debian ships, keeps
// replication and ON CLUSTER queues in ZooKeeper (ClickHouse Keeper, which
// speaks the same protocol, exists only from 21.8).
//
// The server listens on loopback only, on a free port, keeps its data under
// a directory of the caller's, and dies with the process that started it
// (Linux parent-death signal). It is for tests, never for production:
// production clusters run a ZooKeeper or Keeper ensemble of three
// (deploy/clickhouse/config/, docs/operations.md).
package zklocal

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/govlisten/govlisten/internal/child"
)

// Jar is where Debian's zookeeper package puts the server; its manifest
// names the other jars it needs.
const Jar = "/usr/share/java/zookeeper.jar"

// ErrMissing means java or the ZooKeeper jar is not installed.
var ErrMissing = errors.New("ZooKeeper is not installed (" + Jar + " and java; on Debian or Ubuntu: apt-get install zookeeper, which `make test` does through scripts/deps.sh)")

// Server is a running private ZooKeeper.
type Server struct {
	proc *child.Process
	dir  string
	Port int
}

// Start runs ZooKeeper standalone with its data under dir and waits until
// it answers ruok with imok.
func Start(ctx context.Context, dir string) (*Server, error) {
	java, err := exec.LookPath("java")
	if err != nil {
		return nil, ErrMissing
	}
	if _, err := os.Stat(Jar); err != nil {
		return nil, ErrMissing
	}
	dir, err = filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o750); err != nil {
		return nil, err
	}
	port, err := child.FreePort()
	if err != nil {
		return nil, err
	}
	cfg := fmt.Sprintf("tickTime=500\ndataDir=%s/data\nclientPortAddress=127.0.0.1\nclientPort=%d\nmaxClientCnxns=0\n"+
		"admin.enableServer=false\n4lw.commands.whitelist=ruok,srvr,cons\nminSessionTimeout=1000\nmaxSessionTimeout=60000\n", dir, port)
	cfgPath := filepath.Join(dir, "zoo.cfg")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o640); err != nil {
		return nil, err
	}
	// A small heap and one JIT thread: it serves a handful of test clients
	// on a two-core machine.
	cmd := exec.Command(java, "-Xms32m", "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-XX:CICompilerCount=1",
		"-Djava.net.preferIPv4Stack=true", "-cp", Jar, "org.apache.zookeeper.server.ZooKeeperServerMain", cfgPath)
	cmd.Dir = dir
	logPath := filepath.Join(dir, "zookeeper.log")
	proc, err := child.Start(cmd, logPath)
	if err != nil {
		return nil, fmt.Errorf("starting ZooKeeper: %w", err)
	}
	s := &Server{proc: proc, dir: dir, Port: port}
	if err := proc.WaitReady(ctx, 60*time.Second, "ZooKeeper", s.Addr(), logPath, s.ruok); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// ruok asks the four-letter-word health check.
func (s *Server) ruok() bool {
	out, err := s.fourLetters("ruok")
	return err == nil && strings.HasPrefix(out, "imok")
}

// fourLetters sends a four-letter-word command and returns the answer.
func (s *Server) fourLetters(cmd string) (string, error) {
	c, err := net.DialTimeout("tcp", s.Addr(), time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte(cmd)); err != nil {
		return "", err
	}
	var b strings.Builder
	sc := bufio.NewScanner(c)
	for sc.Scan() {
		b.WriteString(sc.Text() + "\n")
	}
	return b.String(), nil
}

// Sessions counts the client sessions whose last operation was op (GETC
// for getChildren, say; "" for any), from the cons command.
func (s *Server) Sessions(op string) (int, error) {
	out, err := s.fourLetters("cons")
	if err != nil {
		return 0, err
	}
	n := 0
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "sid=") && (op == "" || strings.Contains(line, "lop="+op+",")) {
			n++
		}
	}
	return n, nil
}

// Addr is the client address, 127.0.0.1:PORT.
func (s *Server) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.Port) }

// Stop ends the server and waits for it.
func (s *Server) Stop() {
	if s != nil {
		s.proc.Stop(10 * time.Second)
	}
}
