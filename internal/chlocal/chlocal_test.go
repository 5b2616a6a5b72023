package chlocal

import (
	"os"
	"path/filepath"
	"testing"
)

// A port found taken is told from the log's new lines only: an earlier
// start's complaint in the same log does not count again.
func TestPortTaken(t *testing.T) {
	log := filepath.Join(t.TempDir(), "error.log")
	if portTaken(log, 0) {
		t.Fatal("no log, yet a port taken")
	}
	old := "<Error> Application: Net Exception: Address already in use: 127.0.0.1:9000\n"
	if err := os.WriteFile(log, []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	if !portTaken(log, 0) {
		t.Fatal("the complaint was not found")
	}
	before := fileSize(log)
	if err := os.WriteFile(log, []byte(old+"<Error> Application: Cannot open users.xml\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if portTaken(log, before) {
		t.Fatal("an earlier start's complaint counted for the last one")
	}
}
