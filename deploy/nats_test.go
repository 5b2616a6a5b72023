package deploy_test

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/govlisten/govlisten/bus"
	"github.com/govlisten/govlisten/internal/testenv"
)

// natsFromFile loads a NATS server config of deploy/ as nats-server would,
// with env as the server's environment, then moves what is not portable to
// a test (ports, store directory) to loopback and a temporary directory.
func natsFromFile(t *testing.T, path string, env map[string]string) *server.Options {
	t.Helper()
	for k, v := range env {
		t.Setenv(k, v)
	}
	opts, err := server.ProcessConfigFile(path)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if !opts.JetStream || opts.StoreDir != "/data/jetstream" {
		t.Fatalf("%s: JetStream %v in %q, want on, in the volume /data/jetstream", path, opts.JetStream, opts.StoreDir)
	}
	if opts.HTTPPort != 8222 || opts.Port != 4222 {
		t.Errorf("%s: client port %d, monitoring %d; compose, the manifests and KEDA expect 4222 and 8222", path, opts.Port, opts.HTTPPort)
	}
	opts.Host, opts.Port, opts.HTTPHost, opts.HTTPPort = "127.0.0.1", server.RANDOM_PORT, "127.0.0.1", server.RANDOM_PORT
	opts.StoreDir = filepath.Join(t.TempDir(), "jetstream")
	opts.NoSigs, opts.NoLog, opts.PidFile = true, true, ""
	return opts
}

func startNATS(t *testing.T, opts *server.Options) *server.Server {
	t.Helper()
	srv, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(30 * time.Second) {
		t.Fatal("NATS did not start")
	}
	t.Cleanup(srv.Shutdown)
	return srv
}

// The single-host NATS config (compose, hosts): a server runs from it,
// refuses a client without the password, and takes govlisten's streams,
// consumer and buckets from a client with it.
func TestNATSSingleHostConfig(t *testing.T) {
	opts := natsFromFile(t, "nats/nats-server.conf", map[string]string{"GOVLISTEN_NATS_PASSWORD": "s3cret-from-env"})
	srv := startNATS(t, opts)
	cfg := testenv.Config()
	cfg.NATS.URL = srv.ClientURL()
	cfg.NATS.User = "govlisten"
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := bus.Connect(ctx, cfg, "test", func(string) string { return "wrong" }, time.Second); err == nil {
		t.Fatal("connected with the wrong password")
	}
	conn, err := bus.Connect(ctx, cfg, "test", func(k string) string { return map[string]string{"GOVLISTEN_NATS_PASSWORD": "s3cret-from-env"}[k] }, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := bus.Setup(ctx, conn.JS, cfg); err != nil {
		t.Fatal(err)
	}
}

// The cluster NATS config (deploy/kubernetes/nats.conf): three servers run
// from it, each with its pod's name and the routes rewritten from the pods'
// DNS names to loopback ports; they form one JetStream cluster, and
// govlisten's setup with nats.stream.replicas: 3 (as in
// deploy/kubernetes/govlisten.yaml) places three copies of every stream.
func TestNATSClusterConfig(t *testing.T) {
	const n = 3
	routePorts := make([]int, n)
	for i := range routePorts {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		routePorts[i] = l.Addr().(*net.TCPAddr).Port
		l.Close()
	}
	env := map[string]string{"GOVLISTEN_NATS_PASSWORD": "client-pw", "NATS_ROUTE_PASSWORD": "route-pw"}
	var servers []*server.Server
	for i := range n {
		env["POD_NAME"] = fmt.Sprintf("nats-%d", i)
		opts := natsFromFile(t, "kubernetes/nats.conf", env)
		if opts.ServerName != fmt.Sprintf("nats-%d", i) || opts.Cluster.Name != "govlisten" || len(opts.Routes) != n {
			t.Fatalf("server %d: name %q, cluster %q, %d routes", i, opts.ServerName, opts.Cluster.Name, len(opts.Routes))
		}
		if opts.Cluster.Username != "route" || opts.Cluster.Password != "route-pw" {
			t.Fatal("routes are not authenticated with the route password from the environment")
		}
		for j, r := range opts.Routes {
			if want := fmt.Sprintf("nats-%d.nats-headless:6222", j); r.Host != want {
				t.Fatalf("route %d is %s, want %s", j, r.Host, want)
			}
			opts.Routes[j] = &url.URL{Scheme: "nats-route", User: url.UserPassword("route", "route-pw"), Host: fmt.Sprintf("127.0.0.1:%d", routePorts[j])}
		}
		opts.Cluster.Host, opts.Cluster.Port = "127.0.0.1", routePorts[i]
		opts.Cluster.ConnectRetries = 60
		srv, err := server.NewServer(opts)
		if err != nil {
			t.Fatal(err)
		}
		go srv.Start()
		t.Cleanup(srv.Shutdown)
		servers = append(servers, srv)
	}
	var urls []string
	for _, s := range servers {
		if !s.ReadyForConnections(30 * time.Second) {
			t.Fatal("a NATS server did not start")
		}
		urls = append(urls, s.ClientURL())
	}
	cfg := testenv.Config()
	cfg.NATS.URL = strings.Join(urls, ",")
	cfg.NATS.User = "govlisten"
	cfg.NATS.Stream.Replicas, cfg.NATS.DLQ.Replicas = 3, 3
	getenv := func(k string) string { return env[k] }
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	conn, err := bus.Connect(ctx, cfg, "test", getenv, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Setup fails (or waits) until the three servers have elected a meta
	// leader: try again, each try bounded.
	for {
		try, stop := context.WithTimeout(ctx, 5*time.Second)
		err = bus.Setup(try, conn.JS, cfg)
		stop()
		if err == nil {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("setting up on the cluster: %v", err)
		case <-time.After(500 * time.Millisecond):
		}
	}
	for _, name := range []string{"MENTIONS", "DLQ"} {
		st, err := conn.JS.Stream(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		info, err := st.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if info.Config.Replicas != 3 || info.Cluster == nil || info.Cluster.Name != "govlisten" || len(info.Cluster.Replicas) != 2 {
			t.Errorf("%s: %d replicas in cluster %+v, want 3 in govlisten (a leader and 2 replicas)", name, info.Config.Replicas, info.Cluster)
		}
	}
}
