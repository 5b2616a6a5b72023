// Package child runs a local server program — a private ClickHouse, a
// ZooKeeper — as a child of the test or command that needs it: its output
// appended to a log file, killed with its parent (Linux parent-death
// signal, so a killed test run never leaves one behind), waited for until
// it is ready, and stopped with SIGTERM, then SIGKILL to its whole process
// group.
package child

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// Process is a running child process.
type Process struct {
	cmd     *exec.Cmd
	done    chan struct{}
	waitErr error
}

// Start starts cmd with its standard output and error appended to the
// file at logPath.
func Start(cmd *exec.Cmd, logPath string) (*Process, error) {
	out, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := cmd.Start(); err != nil {
		out.Close()
		return nil, err
	}
	p := &Process{cmd: cmd, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		out.Close()
		close(p.done)
	}()
	return p, nil
}

// WaitReady calls ready every 200 ms until it reports true, for at most
// limit. When the process exits first, the error quotes the end of the log
// at errLog; name and addr are for messages.
func (p *Process) WaitReady(ctx context.Context, limit time.Duration, name, addr, errLog string, ready func() bool) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			log, _ := os.ReadFile(errLog)
			return fmt.Errorf("%s exited at start (%v); %s:\n%s", name, p.waitErr, errLog, tail(log, 2000))
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
		if ready() {
			return nil
		}
	}
	return fmt.Errorf("%s did not answer on %s within %s", name, addr, limit)
}

// Stop sends SIGTERM and waits for the process to exit; after grace it
// kills its whole process group. Stop on a nil Process does nothing.
func (p *Process) Stop(grace time.Duration) {
	if p == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
}

// Dialable reports whether a TCP connection to addr succeeds.
func Dialable(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}
