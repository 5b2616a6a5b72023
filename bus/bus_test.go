package bus

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/govlisten/govlisten/config"
)

func startServer(t *testing.T, opts *server.Options) string {
	t.Helper()
	opts.Host, opts.Port = "127.0.0.1", server.RANDOM_PORT
	opts.JetStream, opts.StoreDir = true, filepath.Join(t.TempDir(), "js")
	opts.NoLog, opts.NoSigs = true, true
	srv, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		t.Fatal("NATS did not start")
	}
	t.Cleanup(srv.Shutdown)
	return srv.ClientURL()
}

func TestConnectWithCredentials(t *testing.T) {
	ctx := context.Background()
	url := startServer(t, &server.Options{Username: "govlisten", Password: "pa55-word"})
	cfg := config.Default()
	cfg.NATS.URL = url
	cfg.NATS.User = "govlisten"
	env := map[string]string{"GOVLISTEN_NATS_PASSWORD": "pa55-word"}
	conn, err := Connect(ctx, &cfg, "test", func(k string) string { return env[k] }, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	conn.Close()

	env["GOVLISTEN_NATS_PASSWORD"] = "wrong-secret"
	_, err = Connect(ctx, &cfg, "test", func(k string) string { return env[k] }, time.Second)
	if err == nil {
		t.Fatal("wrong password accepted")
	}
	if strings.Contains(err.Error(), "wrong-secret") {
		t.Fatalf("error shows the password: %v", err)
	}
}

func TestConnectWithToken(t *testing.T) {
	url := startServer(t, &server.Options{Authorization: "t0ken"})
	cfg := config.Default()
	cfg.NATS.URL = url
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := writeFile(tokenFile, "t0ken\n"); err != nil {
		t.Fatal(err)
	}
	cfg.NATS.TokenFile = tokenFile
	conn, err := Connect(context.Background(), &cfg, "test", func(string) string { return "" }, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	conn.Close()
}

// Setup creates everything DESIGN.md names, with the configured limits, and
// running it again (as every command does) changes nothing.
func TestSetupIsIdempotent(t *testing.T) {
	ctx := context.Background()
	cfg := config.Default()
	cfg.NATS.URL = startServer(t, &server.Options{})
	cfg.NATS.Stream.MaxBytes = 64 << 20
	cfg.NATS.Stream.DuplicateWindow = config.Duration(10 * time.Minute)
	conn, err := Connect(ctx, &cfg, "test", func(string) string { return "" }, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for range 2 {
		if err := Setup(ctx, conn.JS, &cfg); err != nil {
			t.Fatal(err)
		}
	}
	s, err := conn.JS.Stream(ctx, StreamMentions)
	if err != nil {
		t.Fatal(err)
	}
	info, _ := s.Info(ctx)
	if info.Config.MaxBytes != 64<<20 || info.Config.Duplicates != 10*time.Minute || info.Config.Retention != jetstream.WorkQueuePolicy ||
		info.Config.Discard != jetstream.DiscardNew || info.Config.Subjects[0] != SubjectMentions {
		t.Fatalf("MENTIONS config %+v", info.Config)
	}
	if _, err := conn.JS.Stream(ctx, StreamDLQ); err != nil {
		t.Fatal(err)
	}
	c, err := conn.JS.Consumer(ctx, StreamMentions, "processor")
	if err != nil {
		t.Fatal(err)
	}
	ci, _ := c.Info(ctx)
	if ci.Config.AckPolicy != jetstream.AckExplicitPolicy || ci.Config.MaxDeliver != -1 || ci.Config.AckWait != time.Minute {
		t.Fatalf("consumer config %+v", ci.Config)
	}
	for _, b := range []string{BucketCheckpoints, BucketLeases} {
		if _, err := conn.JS.KeyValue(ctx, b); err != nil {
			t.Fatalf("bucket %s: %v", b, err)
		}
	}
	// Duplicate publishes inside the window are dropped.
	for i := range 2 {
		ack, err := conn.JS.Publish(ctx, "govlisten.mentions.twitter.post", []byte("{}"), jetstream.WithMsgID("twitter:1:abc"))
		if err != nil {
			t.Fatal(err)
		}
		if ack.Duplicate != (i == 1) {
			t.Fatalf("publish %d: duplicate=%v", i, ack.Duplicate)
		}
	}
}

func writeFile(path, body string) error { return os.WriteFile(path, []byte(body), 0o600) }
