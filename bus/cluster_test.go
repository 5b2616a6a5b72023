package bus_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/govlisten/govlisten/bus"
	"github.com/govlisten/govlisten/collectors"
	"github.com/govlisten/govlisten/config"
	"github.com/govlisten/govlisten/internal/testenv"
	"github.com/govlisten/govlisten/mention"
)

// TestClusterNodeKilled is the acceptance test of running on a three-node
// NATS cluster: while the real Publisher publishes mentions and a consumer
// pulls and acks them as the processors do, the node holding the MENTIONS
// stream leader, the consumer leader and the publisher's connection is shut
// down. Every mention must still reach the consumer (at least once: a
// redelivery is allowed, ClickHouse de-duplicates), and the work queue must
// end empty. The node is then restarted and must catch up.
func TestClusterNodeKilled(t *testing.T) {
	const (
		n = 20000
		// The publishes a failover leaves unacknowledged are retried one
		// by one, without backoff once the first retry has gone through,
		// so a full window (the scheduler's own default) is cleared in
		// seconds.
		maxInFlight = 1024
	)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	defer cancel()
	start := time.Now()

	c := startCluster(t, 3)
	cfg := testenv.Config()
	cfg.NATS.URL = strings.Join(c.urls(), ",")
	cfg.NATS.Stream.Replicas, cfg.NATS.DLQ.Replicas = 3, 3
	// A message whose ack died with the node comes back after AckWait: keep
	// it short so the run ends soon after.
	cfg.NATS.Consumer.AckWait = config.Duration(3 * time.Second)
	if errs := cfg.Validate(); len(errs) > 0 {
		t.Fatal(errs)
	}

	c.waitMetaLeader(ctx, t)
	admin := connect(ctx, t, cfg, "admin")
	setupCluster(ctx, t, admin, cfg)
	pubConn := connect(ctx, t, cfg, "publisher")
	subConn := connect(ctx, t, cfg, "consumer")

	// The victim is the server the publisher is connected to; the stream
	// and consumer leaders are moved there, so its loss costs the publisher
	// its connection and JetStream both leaders at once.
	victim := pubConn.NC.ConnectedServerName()
	moveLeader(ctx, t, admin, "$JS.API.STREAM.LEADER.STEPDOWN."+bus.StreamMentions, victim, func(ctx context.Context) (string, error) {
		return streamLeader(ctx, admin.JS)
	})
	consName := cfg.NATS.Consumer.Name
	moveLeader(ctx, t, admin, "$JS.API.CONSUMER.LEADER.STEPDOWN."+bus.StreamMentions+"."+consName, victim, func(ctx context.Context) (string, error) {
		cons, err := admin.JS.Consumer(ctx, bus.StreamMentions, consName)
		if err != nil {
			return "", err
		}
		info, err := cons.Info(ctx)
		if err != nil || info.Cluster == nil {
			return "", err
		}
		return info.Cluster.Leader, nil
	})
	t.Logf("cluster up and set up in %v; killing %s (stream leader, consumer leader, publisher's server; consumer connected to %s)",
		time.Since(start).Round(time.Millisecond), victim, subConn.NC.ConnectedServerName())

	// Consumer: fetch batches, record each mention, ack, as the processor.
	var (
		mu       sync.Mutex
		received = make(map[string]int, n)
		fetchErr int
	)
	cons, err := subConn.JS.Consumer(ctx, bus.StreamMentions, consName)
	if err != nil {
		t.Fatal(err)
	}
	consCtx, stopConsumer := context.WithCancel(ctx)
	var (
		consWG  sync.WaitGroup
		consErr error
	)
	consWG.Add(1)
	defer consWG.Wait()
	defer stopConsumer()
	go func() {
		defer consWG.Done()
		consErr = func() error {
			for consCtx.Err() == nil {
				batch, err := cons.Fetch(500, jetstream.FetchMaxWait(time.Second))
				if err != nil {
					// The consumer leader or our server is gone: pull again
					// once the cluster has moved on.
					mu.Lock()
					fetchErr++
					mu.Unlock()
					select {
					case <-consCtx.Done():
					case <-time.After(100 * time.Millisecond):
					}
					continue
				}
				for msg := range batch.Messages() {
					m, err := mention.Decode(msg.Data())
					if err != nil {
						return fmt.Errorf("message %s: %w", msg.Subject(), err)
					}
					mu.Lock()
					received[m.ID]++
					mu.Unlock()
					_ = msg.Ack()
				}
				if batch.Error() != nil {
					mu.Lock()
					fetchErr++
					mu.Unlock()
				}
			}
			return nil
		}()
	}()

	// Publisher: the real collectors.Publisher, one goroutine as in a
	// collector run, telling when a third of the mentions are out.
	pub := collectors.NewPublisher(pubConn.JS, maxInFlight, 40*time.Second)
	third := make(chan struct{})
	pubDone := make(chan error, 1)
	go func() {
		pubDone <- func() error {
			at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
			for i := range n {
				if i == n/3 {
					close(third)
				}
				m := &mention.Mention{
					V: mention.Version, Platform: mention.Twitter, Kind: mention.KindPost,
					ID: fmt.Sprintf("%d", 1_000_000+i), AuthorID: "42", AuthorHandle: "ministry",
					Text: fmt.Sprintf("mention %d of the failover test", i), Lang: "en",
					CreatedAt: at, CollectedAt: at.Add(time.Minute),
					Source: mention.Source{Name: "failover", Department: "test"},
				}
				if err := pub.Publish(ctx, m); err != nil {
					return fmt.Errorf("publishing mention %d: %w", i, err)
				}
			}
			return pub.Wait(ctx)
		}()
	}()

	select {
	case <-third:
	case err := <-pubDone:
		t.Fatalf("publisher ended before a third was published: %v", err)
	}
	killedAt := time.Now()
	c.kill(victim)
	t.Logf("killed %s after %d acknowledged publishes", victim, pub.Published.Load()+pub.Duplicates.Load())

	if err := <-pubDone; err != nil {
		t.Fatal(err)
	}
	t.Logf("publisher done %v after the kill: %d new, %d duplicates acknowledged", time.Since(killedAt).Round(time.Millisecond),
		pub.Published.Load(), pub.Duplicates.Load())
	if r := pubConn.NC.Stats().Reconnects; r == 0 {
		t.Errorf("the publisher never lost its connection to %s", victim)
	} else {
		t.Logf("publisher reconnected to %s (%d reconnects)", pubConn.NC.ConnectedServerName(), r)
	}
	// A publish stored just before the kill whose ack was lost is retried
	// and acknowledged as a duplicate: each mention is acknowledged once.
	if got := pub.Published.Load() + pub.Duplicates.Load(); got != n {
		t.Errorf("%d publishes acknowledged, want %d", got, n)
	}

	// Everything received, and the work queue empty: the consumer acked
	// it all and the surviving nodes agree.
	var state string
	for {
		mu.Lock()
		distinct := len(received)
		mu.Unlock()
		msgs, pending, ackPending, leader, err := queueState(ctx, admin.JS, consName)
		state = fmt.Sprintf("%d distinct received; stream %d messages (leader %q), consumer %d pending, %d unacknowledged (%v)",
			distinct, msgs, leader, pending, ackPending, err)
		if err == nil && distinct == n && msgs == 0 && pending == 0 && ackPending == 0 {
			if leader == victim {
				t.Errorf("stream leader is still the killed %s", victim)
			}
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("not everything came through: %s", state)
		case <-time.After(100 * time.Millisecond):
		}
	}
	stopConsumer()
	consWG.Wait()
	if consErr != nil {
		t.Fatal(consErr)
	}

	mu.Lock()
	defer mu.Unlock()
	var dup, missing int
	for i := range n {
		switch k := received[fmt.Sprintf("%d", 1_000_000+i)]; {
		case k == 0:
			missing++
		case k > 1:
			dup += k - 1
		}
	}
	if missing > 0 || len(received) != n {
		t.Fatalf("%d of %d mentions never received (%d distinct ids)", missing, n, len(received))
	}
	t.Logf("all %d mentions received %v after the kill; %d redelivered (at-least-once), %d failed fetches during failover; %s",
		n, time.Since(killedAt).Round(time.Millisecond), dup, fetchErr, state)

	// The killed node comes back with its store and catches up.
	restartedAt := time.Now()
	c.restart(t, victim)
	for {
		ok, err := replicaCurrent(ctx, admin.JS, victim)
		if ok {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s did not catch up after its restart: %v", victim, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
	t.Logf("%s restarted and current in %v; whole test %v", victim, time.Since(restartedAt).Round(time.Millisecond),
		time.Since(start).Round(time.Millisecond))
}

// cluster is n in-process NATS servers with JetStream, routed together on
// loopback.
type cluster struct {
	mu      sync.Mutex
	opts    map[string]func() *server.Options
	servers map[string]*server.Server
	order   []string
}

func startCluster(t *testing.T, n int) *cluster {
	t.Helper()
	routePorts := make([]int, n)
	for i := range routePorts {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		routePorts[i] = l.Addr().(*net.TCPAddr).Port
		l.Close()
	}
	var routes []*url.URL
	for _, p := range routePorts {
		routes = append(routes, &url.URL{Scheme: "nats-route", Host: fmt.Sprintf("127.0.0.1:%d", p)})
	}
	c := &cluster{opts: map[string]func() *server.Options{}, servers: map[string]*server.Server{}}
	base := t.TempDir()
	for i := range n {
		name := fmt.Sprintf("n%d", i+1)
		store := filepath.Join(base, name)
		c.opts[name] = func() *server.Options {
			return &server.Options{
				ServerName: name,
				Host:       "127.0.0.1",
				Port:       server.RANDOM_PORT,
				JetStream:  true,
				StoreDir:   store,
				NoLog:      true,
				NoSigs:     true,
				Cluster: server.ClusterOpts{
					Name: "govlisten", Host: "127.0.0.1", Port: routePorts[i], ConnectRetries: 60,
				},
				Routes: routes,
			}
		}
		c.order = append(c.order, name)
	}
	// Cleanups run last first: every server, started now or later, stops.
	t.Cleanup(func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		for _, s := range c.servers {
			s.Shutdown()
		}
		for _, s := range c.servers {
			s.WaitForShutdown()
		}
	})
	for _, name := range c.order {
		c.start(t, name, false)
	}
	for _, name := range c.order {
		c.mu.Lock()
		s := c.servers[name]
		c.mu.Unlock()
		if !s.ReadyForConnections(30 * time.Second) {
			t.Fatalf("NATS server %s did not start", name)
		}
	}
	return c
}

// start runs server name, waiting for it to accept clients if wait.
func (c *cluster) start(t *testing.T, name string, wait bool) {
	t.Helper()
	s, err := server.NewServer(c.opts[name]())
	if err != nil {
		t.Fatal(err)
	}
	c.mu.Lock()
	c.servers[name] = s
	c.mu.Unlock()
	go s.Start()
	if wait && !s.ReadyForConnections(30*time.Second) {
		t.Fatalf("NATS server %s did not start", name)
	}
}

func (c *cluster) urls() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var urls []string
	for _, name := range c.order {
		urls = append(urls, c.servers[name].ClientURL())
	}
	return urls
}

// waitMetaLeader waits until one server leads JetStream and knows all
// the others as peers.
func (c *cluster) waitMetaLeader(ctx context.Context, t *testing.T) {
	t.Helper()
	for {
		c.mu.Lock()
		for _, s := range c.servers {
			if s.JetStreamIsLeader() && len(s.JetStreamClusterPeers()) == len(c.order) {
				c.mu.Unlock()
				return
			}
		}
		c.mu.Unlock()
		select {
		case <-ctx.Done():
			t.Fatal("the NATS cluster elected no JetStream meta leader")
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// kill stops server name at once: clients lose their connection, and
// whatever it was leading fails over to the others.
func (c *cluster) kill(name string) {
	c.mu.Lock()
	s := c.servers[name]
	delete(c.servers, name)
	c.mu.Unlock()
	s.Shutdown()
	s.WaitForShutdown()
}

// restart starts server name again on its store.
func (c *cluster) restart(t *testing.T, name string) { c.start(t, name, true) }

// connect is bus.Connect, closed when t ends.
func connect(ctx context.Context, t *testing.T, cfg *config.Config, name string) *bus.Conn {
	t.Helper()
	conn, err := bus.Connect(ctx, cfg, name, func(string) string { return "" }, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(conn.Close)
	return conn
}

// setupCluster runs bus.Setup until it succeeds: it fails until the
// servers have elected a meta leader and know each other's JetStream.
func setupCluster(ctx context.Context, t *testing.T, conn *bus.Conn, cfg *config.Config) {
	t.Helper()
	for {
		try, stop := context.WithTimeout(ctx, 2*time.Second)
		err := bus.Setup(try, conn.JS, cfg)
		stop()
		if err == nil {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("setting up on the cluster: %v", err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// moveLeader asks the raft group behind the stepdown subject to hand its
// leadership to server want, and waits until leader reports it.
func moveLeader(ctx context.Context, t *testing.T, conn *bus.Conn, subject, want string, leader func(context.Context) (string, error)) {
	t.Helper()
	req, _ := json.Marshal(server.JSApiLeaderStepdownRequest{Placement: &server.Placement{Preferred: want}})
	asked := false
	for {
		got, err := leader(ctx)
		if err == nil && got == want {
			return
		}
		if err == nil && got != "" && !asked {
			resp, err := conn.NC.RequestWithContext(ctx, subject, req)
			if err != nil {
				t.Fatalf("%s: %v", subject, err)
			}
			var r server.ApiResponse
			if err := json.Unmarshal(resp.Data, &r); err != nil || r.Error != nil {
				t.Fatalf("%s: %s", subject, resp.Data)
			}
			asked = true
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s: leader is %q, want %s (%v)", subject, got, want, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func streamLeader(ctx context.Context, js jetstream.JetStream) (string, error) {
	s, err := js.Stream(ctx, bus.StreamMentions)
	if err != nil {
		return "", err
	}
	info, err := s.Info(ctx)
	if err != nil {
		return "", err
	}
	if info.Cluster == nil {
		return "", errors.New("no cluster info")
	}
	return info.Cluster.Leader, nil
}

// queueState reads stream MENTIONS and the processors' consumer, each
// request bounded so a failover in progress only costs a retry.
func queueState(ctx context.Context, js jetstream.JetStream, consumer string) (msgs, pending, ackPending uint64, leader string, err error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	s, err := js.Stream(ctx, bus.StreamMentions)
	if err != nil {
		return 0, 0, 0, "", err
	}
	if info := s.CachedInfo(); info.Cluster != nil {
		leader = info.Cluster.Leader
	}
	cons, err := s.Consumer(ctx, consumer)
	if err != nil {
		return 0, 0, 0, leader, err
	}
	ci := cons.CachedInfo()
	return s.CachedInfo().State.Msgs, ci.NumPending, uint64(ci.NumAckPending), leader, nil
}

// replicaCurrent says whether server name is a current replica of stream
// MENTIONS with nothing to catch up.
func replicaCurrent(ctx context.Context, js jetstream.JetStream, name string) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	s, err := js.Stream(ctx, bus.StreamMentions)
	if err != nil {
		return false, err
	}
	info := s.CachedInfo()
	if info.Cluster == nil {
		return false, errors.New("no cluster info")
	}
	if info.Cluster.Leader == name {
		return true, nil
	}
	for _, r := range info.Cluster.Replicas {
		if r.Name == name {
			return r.Current && !r.Offline && r.Lag == 0, fmt.Errorf("replica %+v", *r)
		}
	}
	return false, fmt.Errorf("%s is not among the replicas %+v", name, info.Cluster.Replicas)
}
