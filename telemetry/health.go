package telemetry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
)

// ReadyFunc says whether a dependency can be used now. Its error is logged
// when the dependency's state changes, and never served.
type ReadyFunc func(ctx context.Context) error

// CheckTimeout bounds each readiness check of one /readyz request.
const CheckTimeout = 2 * time.Second

// Health answers /healthz (the process is alive) and /readyz (every
// dependency the role uses answers). A role declares its dependencies with
// Require as soon as it starts, so /readyz says 503 until it has connected,
// and sets each one's check with Set once it has. Safe for concurrent use.
type Health struct {
	log      *slog.Logger
	mu       sync.Mutex
	deps     []*dependency
	stopping atomic.Bool
}

type dependency struct {
	name    string
	check   ReadyFunc
	failing bool // as of the last check, for logging changes only
}

func newHealth(log *slog.Logger) *Health { return &Health{log: log} }

// Require declares dependencies; each is not ready until Set gives it a
// check. Requiring one twice changes nothing.
func (h *Health) Require(names ...string) {
	if h == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, n := range names {
		if h.find(n) == nil {
			h.deps = append(h.deps, &dependency{name: n})
		}
	}
}

// Set gives a dependency its check, requiring it if it was not. A later
// Set of the same name replaces the check.
func (h *Health) Set(name string, check ReadyFunc) {
	if h == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	d := h.find(name)
	if d == nil {
		d = &dependency{name: name}
		h.deps = append(h.deps, d)
	}
	d.check = check
}

// Stopping marks the process as shutting down: /readyz answers 503 from
// now on, so a load balancer stops sending it work while it flushes.
func (h *Health) Stopping() {
	if h != nil {
		h.stopping.Store(true)
	}
}

func (h *Health) find(name string) *dependency {
	for _, d := range h.deps {
		if d.name == name {
			return d
		}
	}
	return nil
}

// Status is one dependency's state, as /readyz shows it.
type Status struct {
	Name string
	// State is "ok", "not connected yet" or "not reachable": fixed
	// phrases, so nothing of an error (a host, a DSN) is ever served.
	State string
	Err   error // for the log and for callers in this process
}

// Ready runs every check, at once, each bounded by CheckTimeout, and
// reports whether all passed, with each dependency's state in the order
// they were required.
func (h *Health) Ready(ctx context.Context) (bool, []Status) {
	h.mu.Lock()
	deps := make([]dependency, len(h.deps))
	for i, d := range h.deps {
		deps[i] = *d
	}
	h.mu.Unlock()
	out := make([]Status, len(deps))
	var wg sync.WaitGroup
	for i, d := range deps {
		out[i].Name = d.name
		if d.check == nil {
			out[i].State, out[i].Err = "not connected yet", errors.New("not connected yet")
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			cctx, cancel := context.WithTimeout(ctx, CheckTimeout)
			defer cancel()
			out[i].Err = d.check(cctx)
		}()
	}
	wg.Wait()
	ok := true
	for i := range out {
		if out[i].State != "" { // not connected yet
			ok = false
			continue
		}
		if out[i].Err != nil {
			out[i].State, ok = "not reachable", false
		} else {
			out[i].State = "ok"
		}
		h.logChange(out[i])
	}
	return ok && !h.stopping.Load(), out
}

// logChange logs a dependency that became unreachable or came back.
func (h *Health) logChange(s Status) {
	h.mu.Lock()
	d := h.find(s.Name)
	changed := d != nil && d.failing != (s.Err != nil)
	if changed {
		d.failing = s.Err != nil
	}
	h.mu.Unlock()
	switch {
	case !changed:
	case s.Err != nil:
		h.log.Warn("not ready: dependency not reachable", "dependency", s.Name, "err", s.Err)
	default:
		h.log.Info("ready: dependency reachable again", "dependency", s.Name)
	}
}

func (h *Health) serveLive(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte("ok\n"))
}

// serveReady answers 200 with "ok" and one line per dependency, or 503
// with the same lines saying which failed. Nothing of an error is served.
func (h *Health) serveReady(w http.ResponseWriter, r *http.Request) {
	ok, sts := h.Ready(r.Context())
	var b strings.Builder
	if ok {
		b.WriteString("ok\n")
	} else if h.stopping.Load() {
		b.WriteString("not ready: shutting down\n")
	} else {
		b.WriteString("not ready\n")
	}
	for _, s := range sts {
		fmt.Fprintf(&b, "%s: %s\n", s.Name, s.State)
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if !ok {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	_, _ = w.Write([]byte(b.String()))
}

var (
	descReady = prometheus.NewDesc(Namespace+"_ready",
		"1 when /readyz would answer 200 (every dependency reachable, not shutting down), else 0; checked on scrape.", nil, nil)
	descDependencyReady = prometheus.NewDesc(Namespace+"_dependency_ready",
		"1 when the dependency (nats, clickhouse) answers, else 0; checked on scrape.", []string{"dependency"}, nil)
)

// Describe implements prometheus.Collector: govlisten_ready and
// govlisten_dependency_ready, from the same checks as /readyz.
func (h *Health) Describe(ch chan<- *prometheus.Desc) {
	ch <- descReady
	ch <- descDependencyReady
}

// Collect implements prometheus.Collector.
func (h *Health) Collect(ch chan<- prometheus.Metric) {
	ok, sts := h.Ready(context.Background())
	ch <- prometheus.MustNewConstMetric(descReady, prometheus.GaugeValue, b2f(ok))
	for _, s := range sts {
		ch <- prometheus.MustNewConstMetric(descDependencyReady, prometheus.GaugeValue, b2f(s.State == "ok"), s.Name)
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// NATSReady checks a NATS connection: connected, and a PING answered
// within the check's deadline (a half-open connection still says
// CONNECTED until its pings time out).
func NATSReady(nc *nats.Conn) ReadyFunc {
	return func(ctx context.Context) error {
		if s := nc.Status(); s != nats.CONNECTED {
			return fmt.Errorf("NATS connection is %s", s)
		}
		if err := nc.FlushWithContext(ctx); err != nil {
			return fmt.Errorf("NATS did not answer a ping: %w", err)
		}
		return nil
	}
}
