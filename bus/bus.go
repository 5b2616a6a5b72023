// Package bus connects govlisten to NATS JetStream and declares what it
// needs there: stream MENTIONS, stream DLQ, the processors' durable consumer
// and the collectors' KV buckets (see DESIGN.md, "Subjects, streams and
// buckets"). Setup is idempotent: every command that touches the bus calls
// it, so no separate provisioning step can be forgotten.
//
// It also runs the in-process NATS server of `govlisten up` (the nats-server
// Go module, the same code as the standalone server), so the embedded default
// and a cluster speak the same protocol and nothing else changes between them.
package bus

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/govlisten/govlisten/config"
)

// Names fixed by DESIGN.md.
const (
	StreamMentions    = "MENTIONS"
	StreamDLQ         = "DLQ"
	SubjectMentions   = "govlisten.mentions.>"
	SubjectDLQ        = "govlisten.dlq.>"
	DLQPrefix         = "govlisten.dlq."
	BucketCheckpoints = "govlisten_checkpoints"
	BucketLeases      = "govlisten_leases"
	BucketQuota       = "govlisten_quota"
)

// Headers on dead-lettered messages.
const (
	HeaderReason          = "Govlisten-Dlq-Reason"
	HeaderOriginalSubject = "Govlisten-Original-Subject"
	HeaderOriginalSeq     = "Govlisten-Original-Sequence"
	HeaderFailedAt        = "Govlisten-Failed-At"
)

// Conn is a NATS connection with its JetStream context. Close it when done.
type Conn struct {
	NC *nats.Conn
	JS jetstream.JetStream
}

// Close drains nothing: callers flush what they own before closing.
func (c *Conn) Close() {
	if c != nil && c.NC != nil {
		c.NC.Close()
	}
}

// Connect dials the configured NATS server(s) with the configured
// credentials and TLS. getenv reads secrets named in the config. It retries
// the first connection for up to wait, so a processor started alongside its
// server does not fail for being early.
func Connect(ctx context.Context, cfg *config.Config, name string, getenv func(string) string, wait time.Duration) (*Conn, error) {
	opts := []nats.Option{
		nats.Name("govlisten " + name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(time.Second),
		nats.RetryOnFailedConnect(false),
	}
	n := cfg.NATS
	if n.User != "" {
		pass, err := config.Secret(getenv, n.PasswordEnv, n.PasswordFile)
		if err != nil {
			return nil, fmt.Errorf("nats.password_file: %w", err)
		}
		opts = append(opts, nats.UserInfo(n.User, pass))
	}
	if tok, err := config.Secret(getenv, n.TokenEnv, n.TokenFile); err != nil {
		return nil, fmt.Errorf("nats.token_file: %w", err)
	} else if tok != "" {
		opts = append(opts, nats.Token(tok))
	}
	if n.CredsFile != "" {
		opts = append(opts, nats.UserCredentials(n.CredsFile))
	}
	if n.NKeyFile != "" {
		o, err := nats.NkeyOptionFromSeed(n.NKeyFile)
		if err != nil {
			return nil, fmt.Errorf("nats.nkey_file: %w", err)
		}
		opts = append(opts, o)
	}
	if n.TLS.CAFile != "" {
		opts = append(opts, nats.RootCAs(n.TLS.CAFile))
	}
	if n.TLS.CertFile != "" || n.TLS.KeyFile != "" {
		opts = append(opts, nats.ClientCert(n.TLS.CertFile, n.TLS.KeyFile))
	}
	url := cfg.NATSURL()
	deadline := time.Now().Add(wait)
	for {
		nc, err := nats.Connect(url, opts...)
		if err == nil {
			// An async publish whose ack is lost (its stream leader died
			// while this connection stayed up) fails after this long and
			// is retried, instead of waiting for ever.
			js, err := jetstream.New(nc, jetstream.WithPublishAsyncTimeout(30*time.Second))
			if err != nil {
				nc.Close()
				return nil, fmt.Errorf("jetstream: %w", err)
			}
			return &Conn{NC: nc, JS: js}, nil
		}
		// An authorization failure will not pass by waiting.
		if errors.Is(err, nats.ErrAuthorization) || time.Now().After(deadline) {
			return nil, fmt.Errorf("connecting to NATS at %s: %w", redact(url), err)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// redact drops credentials from a URL for messages.
func redact(url string) string {
	cfg := config.Config{}
	cfg.NATS.URL = url
	return cfg.ShowNATSURL()
}

// Setup creates or updates the streams, the consumer and the buckets with
// the configured limits. Safe to call from any number of processes at once.
func Setup(ctx context.Context, js jetstream.JetStream, cfg *config.Config) error {
	n := cfg.NATS
	// MENTIONS is a work queue: a mention is removed once a processor has
	// acknowledged it (ClickHouse is the archive). When it is full, new
	// publishes are refused rather than unprocessed messages dropped, so a
	// stalled pipeline pushes back on the collectors and loses nothing.
	if _, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        StreamMentions,
		Description: "govlisten: public mentions waiting to be processed",
		Subjects:    []string{SubjectMentions},
		Retention:   jetstream.WorkQueuePolicy,
		Storage:     jetstream.FileStorage,
		Discard:     jetstream.DiscardNew,
		MaxAge:      n.Stream.MaxAge.D(),
		MaxBytes:    n.Stream.MaxBytes,
		MaxMsgSize:  32 << 20,
		Duplicates:  n.Stream.DuplicateWindow.D(),
		Replicas:    n.Stream.Replicas,
	}); err != nil {
		return fmt.Errorf("creating stream %s: %w", StreamMentions, err)
	}
	if _, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        StreamDLQ,
		Description: "govlisten: mentions that could not be processed, with the reason in a header",
		Subjects:    []string{SubjectDLQ},
		Retention:   jetstream.LimitsPolicy,
		Storage:     jetstream.FileStorage,
		Discard:     jetstream.DiscardNew,
		MaxAge:      n.DLQ.MaxAge.D(),
		MaxBytes:    n.DLQ.MaxBytes,
		MaxMsgSize:  64 << 20,
		Duplicates:  n.DLQ.DuplicateWindow.D(),
		Replicas:    n.DLQ.Replicas,
	}); err != nil {
		return fmt.Errorf("creating stream %s: %w", StreamDLQ, err)
	}
	if _, err := js.CreateOrUpdateConsumer(ctx, StreamMentions, ConsumerConfig(cfg)); err != nil {
		return fmt.Errorf("creating consumer %s: %w", n.Consumer.Name, err)
	}
	if _, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      BucketCheckpoints,
		Description: "govlisten: where each source's next collection starts",
		History:     5,
		Storage:     jetstream.FileStorage,
		Replicas:    n.Stream.Replicas,
	}); err != nil {
		return fmt.Errorf("creating bucket %s: %w", BucketCheckpoints, err)
	}
	if _, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      BucketLeases,
		Description: "govlisten: which collector holds each source",
		TTL:         n.LeaseTTL.D(),
		Storage:     jetstream.FileStorage,
		Replicas:    n.Stream.Replicas,
	}); err != nil {
		return fmt.Errorf("creating bucket %s: %w", BucketLeases, err)
	}
	if _, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      BucketQuota,
		Description: "govlisten: API quota spent per platform and day, shared by collector replicas",
		TTL:         72 * time.Hour,
		Storage:     jetstream.FileStorage,
		Replicas:    n.Stream.Replicas,
	}); err != nil {
		return fmt.Errorf("creating bucket %s: %w", BucketQuota, err)
	}
	return nil
}

// ConsumerConfig is the processors' durable pull consumer.
func ConsumerConfig(cfg *config.Config) jetstream.ConsumerConfig {
	c := cfg.NATS.Consumer
	return jetstream.ConsumerConfig{
		Durable:       c.Name,
		Description:   "govlisten processors: tag and load into ClickHouse",
		FilterSubject: SubjectMentions,
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       c.AckWait.D(),
		MaxDeliver:    c.MaxDeliver,
		MaxAckPending: c.MaxAckPending,
		MaxWaiting:    512,
		Replicas:      cfg.NATS.Stream.Replicas,
	}
}

// Embedded is an in-process NATS server with JetStream.
type Embedded struct {
	srv *server.Server
}

// StartEmbedded runs a NATS server in this process, listening on
// cfg.NATS.Embedded.Listen (loopback by default) and storing JetStream
// under storeDir. It returns when the server accepts connections.
func StartEmbedded(cfg *config.Config, storeDir string) (*Embedded, error) {
	host, portStr, err := net.SplitHostPort(cfg.NATS.Embedded.Listen)
	if err != nil {
		return nil, fmt.Errorf("nats.embedded.listen: %w", err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return nil, fmt.Errorf("nats.embedded.listen: port %q: %w", portStr, err)
	}
	if port == 0 {
		port = server.RANDOM_PORT
	}
	opts := &server.Options{
		ServerName:         "govlisten-embedded",
		Host:               host,
		Port:               port,
		JetStream:          true,
		StoreDir:           storeDir,
		SyncAlways:         cfg.NATS.Embedded.SyncAlways,
		NoSigs:             true,
		NoLog:              true,
		MaxPayload:         64 << 20,
		JetStreamMaxMemory: 256 << 20,
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("starting embedded NATS: %w", err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(30 * time.Second) {
		srv.Shutdown()
		return nil, errors.New("embedded NATS did not start within 30s")
	}
	return &Embedded{srv: srv}, nil
}

// URL is the client URL of the embedded server.
func (e *Embedded) URL() string { return e.srv.ClientURL() }

// Shutdown stops the server and waits for it.
func (e *Embedded) Shutdown() {
	e.srv.Shutdown()
	e.srv.WaitForShutdown()
}
