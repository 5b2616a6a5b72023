package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// `migrate --print` shows the one-host schema; with --cluster NAME (or
// GOVLISTEN_CLICKHOUSE_CLUSTER) the replicated one, every statement ON
// CLUSTER NAME; against a server whose remote_servers lacks the cluster,
// migrate stops before changing anything and says so.
func TestMigrateCluster(t *testing.T) {
	run := func(env []string, args ...string) (string, string, int) {
		t.Helper()
		cmd := exec.Command(binPath, args...)
		cmd.Env = append(os.Environ(), env...)
		var out, errb strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return out.String(), errb.String(), code
	}
	plain, stderr, code := run(nil, "migrate", "--print", "--clickhouse", "clickhouse://127.0.0.1:1/analytics")
	if code != 0 || !strings.Contains(plain, "CREATE TABLE IF NOT EXISTS analytics.mentions (") || strings.Contains(plain, "ON CLUSTER") {
		t.Fatalf("migrate --print: exit %d\n%s\n%s", code, plain, stderr)
	}
	for _, c := range []struct {
		env  []string
		args []string
	}{
		{nil, []string{"--cluster", "prod"}},
		{[]string{"GOVLISTEN_CLICKHOUSE_CLUSTER=prod"}, nil},
	} {
		out, stderr, code := run(c.env, append([]string{"migrate", "--print"}, c.args...)...)
		if code != 0 {
			t.Fatalf("migrate --print %v: exit %d: %s", c.args, code, stderr)
		}
		if !strings.Contains(out, "CREATE TABLE IF NOT EXISTS govlisten.mentions_local ON CLUSTER prod (") ||
			!strings.Contains(out, "ENGINE = Distributed(prod, govlisten, mentions_local, cityHash64(platform, id))") {
			t.Errorf("migrate --print %v %v:\n%s", c.env, c.args, out)
		}
		for _, st := range strings.Split(out, ";\n") {
			if st = strings.TrimSpace(st); st != "" && !strings.Contains(st, " ON CLUSTER prod") && !strings.Contains(st, "INSERT") {
				t.Errorf("statement without ON CLUSTER:\n%s", st)
			}
		}
	}
	if _, stderr, code := run(nil, "migrate", "--cluster", "bad-name", "--print"); code == 0 || !strings.Contains(stderr, "bad-name") {
		t.Errorf("a cluster name that is not an identifier: exit %d, %s", code, stderr)
	}
	ch := sharedClickHouse(t)
	_, stderr, code = run(nil, "migrate", "--cluster", "nosuch", "--clickhouse", ch.DSN("t_migrate_cluster"))
	if code == 0 || !strings.Contains(stderr, `cluster "nosuch" is not in the server's remote_servers`) {
		t.Errorf("migrate against a server without the cluster: exit %d, %s", code, stderr)
	}
}
