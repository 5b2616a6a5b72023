package testenv

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/govlisten/govlisten/internal/chlocal"
	"github.com/govlisten/govlisten/internal/zklocal"
)

// Cluster is a replicated ClickHouse cluster of private servers on
// loopback, coordinated by a private ZooKeeper.
type Cluster struct {
	// Name is the cluster's name in remote_servers.
	Name string
	// Shards holds the servers of each shard, replicas in order.
	Shards [][]*chlocal.Server
	// ZooKeeper is the coordination server.
	ZooKeeper *zklocal.Server
}

// Servers lists every server, shard by shard.
func (c *Cluster) Servers() []*chlocal.Server {
	var all []*chlocal.Server
	for _, sh := range c.Shards {
		all = append(all, sh...)
	}
	return all
}

// ClickHouseCluster starts ZooKeeper and one clickhouse-server per replica
// for t, forming cluster name: replicas[i] is the number of replicas of
// shard i+1. Each server has the macros {shard} (01, 02, ...) and
// {replica} (s01r1, ...), internal_replication, and the ON CLUSTER queue,
// as deploy/clickhouse/config/ sets them up in production. Like the other
// helpers it never skips: it fails naming what to install.
func ClickHouseCluster(t testing.TB, name string, replicas ...int) *Cluster {
	t.Helper()
	bin, err := chlocal.FindBinary(os.Getenv("GOVLISTEN_CLICKHOUSE_SERVER"))
	if err != nil {
		t.Fatalf("integration tests need a real ClickHouse: %v (run `make test`, which installs it)", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	zk, err := zklocal.Start(ctx, filepath.Join(t.TempDir(), "zookeeper"))
	if err != nil {
		t.Fatalf("starting ZooKeeper: %v", err)
	}
	// Cleanups run last-registered first: the servers stop before ZooKeeper.
	t.Cleanup(zk.Stop)

	ports := make([][]int, len(replicas))
	for i, n := range replicas {
		for range n {
			p, err := chlocal.FreePort()
			if err != nil {
				t.Fatal(err)
			}
			ports[i] = append(ports[i], p)
		}
	}
	var remote strings.Builder
	for _, sh := range ports {
		remote.WriteString("<shard><internal_replication>true</internal_replication>")
		for _, p := range sh {
			fmt.Fprintf(&remote, "<replica><host>127.0.0.1</host><port>%d</port></replica>", p)
		}
		remote.WriteString("</shard>")
	}
	c := &Cluster{Name: name, Shards: make([][]*chlocal.Server, len(replicas)), ZooKeeper: zk}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	base := t.TempDir()
	for i, sh := range ports {
		c.Shards[i] = make([]*chlocal.Server, len(sh))
		for j, p := range sh {
			xml := fmt.Sprintf(`<?xml version="1.0"?>
<yandex>
  <interserver_http_host>127.0.0.1</interserver_http_host>
  <zookeeper><node><host>127.0.0.1</host><port>%d</port></node><session_timeout_ms>30000</session_timeout_ms></zookeeper>
  <distributed_ddl><path>/clickhouse/task_queue/ddl</path></distributed_ddl>
  <macros><shard>%02d</shard><replica>s%02dr%d</replica></macros>
  <remote_servers><%s>%s</%s></remote_servers>
</yandex>
`, zk.Port, i+1, i+1, j+1, name, remote.String(), name)
			wg.Add(1)
			go func() {
				defer wg.Done()
				srv, err := chlocal.StartWith(ctx, bin, filepath.Join(base, fmt.Sprintf("s%02dr%d", i+1, j+1)),
					chlocal.Options{Port: p, ConfigD: map[string]string{"cluster.xml": xml}})
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					errs = append(errs, err)
					return
				}
				c.Shards[i][j] = srv
			}()
		}
	}
	wg.Wait()
	for _, srv := range c.Servers() {
		if srv != nil {
			t.Cleanup(srv.Stop)
		}
	}
	if len(errs) > 0 {
		t.Fatalf("starting the ClickHouse cluster: %v", errs)
	}
	if err := waitCoordination(ctx, zk, len(c.Servers())); err != nil {
		t.Fatal(err)
	}
	return c
}

// waitCoordination waits until the ON CLUSTER worker of every server has
// its ZooKeeper session and has listed its queue (its session's last
// operation is a getChildren), touching ZooKeeper from no query before
// then: 18.16 accepts queries earlier, and a query that uses ZooKeeper
// while the worker opens its session can crash the server (a null pointer
// in zkutil::ZooKeeper::createImpl, seen here).
func waitCoordination(ctx context.Context, zk *zklocal.Server, servers int) error {
	for {
		n, err := zk.Sessions("GETC")
		if err == nil && n >= servers {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d of the %d ClickHouse servers have listed their ON CLUSTER queue in ZooKeeper (%v)", n, servers, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
