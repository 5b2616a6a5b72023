// Package telemetry is what ops see of a running govlisten process: its
// Prometheus metrics and its health, served on /metrics, /healthz and
// /readyz by every long-running role (collect, process, serve, up).
//
// Metrics use github.com/prometheus/client_golang, the reference client:
// Prometheus's own text and OpenMetrics exposition, the Go runtime and
// process collectors, and label children that can be resolved once and then
// updated with one atomic add. Every metric is registered on the registry of
// one Telemetry (never the global default), so a process that runs several
// roles (up) exports each metric once and tests can run side by side.
//
// The metrics, all in namespace govlisten:
//
//	processor_received_total                           messages delivered to the processor (a redelivery counts again)
//	processor_inserted_total                           mentions stored in ClickHouse and acknowledged
//	processor_dead_lettered_total{reason,platform}     messages sent to the DLQ
//	processor_insert_errors_total                      inserts that failed (their batch is redelivered)
//	processor_batch_rows                               histogram: rows per insert
//	processor_insert_duration_seconds{result}          histogram: time of one insert, result ok or error
//	consumer_pending_messages{consumer}                not yet delivered (the durable consumer's num_pending), read on scrape
//	consumer_ack_pending_messages{consumer}            delivered, not yet acknowledged, read on scrape
//	consumer_redelivered_messages{consumer}            delivered more than once and not yet acknowledged, read on scrape
//	stream_messages{stream}, stream_bytes{stream}      depth of MENTIONS and DLQ, read on scrape
//	dlq_messages{reason}                               DLQ messages by reason (the subject's last token), read on scrape
//	collector_mentions_collected_total{platform,source}  mentions in the pages a source fetched
//	collector_mentions_published_total{platform,source}  mentions JetStream acknowledged as new
//	collector_mentions_duplicate_total{platform,source}  mentions JetStream already had (dropped by Nats-Msg-Id)
//	collector_runs_total{platform,source,result}       collection runs: ok, quota, error, stopped
//	api_calls_total{platform}                          requests sent to the platform's API, retries included
//	api_errors_total{platform,class}                   failed requests by class (see ErrorClasses)
//	api_rate_limit_waits_total{platform}               waits the platform's rate limits imposed
//	api_rate_limit_wait_seconds_total{platform}        their total length
//	api_quota_left{platform,unit}                      what the platform's quota has left (see API.QuotaLeft)
//	source_checkpoint_age_seconds{platform,source}     now minus the time of the newest item the checkpoint covers, read on scrape
//	source_last_success_timestamp_seconds{platform,source}  end of the source's last successful run, read on scrape
//	source_last_error_timestamp_seconds{platform,source}    end of its last failed run, read on scrape
//	ready                                              1 when /readyz would answer 200, else 0; checked on scrape
//	dependency_ready{dependency}                       1 when nats / clickhouse answers, else 0; checked on scrape
//	build_info{version,revision,go_version}            1
//
// plus the standard go_* and process_* metrics.
//
// Cost: the processor's counters move once per batch (a few atomic adds
// and two histogram observations per insert, about 200 ns for a batch of
// 10,000 mentions), never per stored message; label children are resolved
// when a processor, platform or source starts, so no update looks a label
// up. What lives outside the process (consumer lag, stream depth, the
// sources' checkpoints in KV, YouTube's shared quota, readiness) is read
// when Prometheus scrapes, bounded by a few seconds, rather than by a
// ticker that would run whether anyone looks or not; a scrape that cannot
// read it leaves those series out and serves the rest.
//
// What it must never do: put a secret, a mention id, an error text or any
// other unbounded value in a label. Label values come from fixed sets
// (platforms and reasons, anything else being "other"; error classes and
// run results, anything else counting as server and error) or from the
// configuration (source and consumer names).
//
// Everything here is safe for concurrent use. The handles instrumented
// code holds (*Processor, *API, *Source) and the Watch methods do nothing
// on a nil receiver, so that code needs no checks when telemetry is off.
package telemetry

import (
	"log/slog"
	"net/http"
	"runtime/debug"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Namespace prefixes every govlisten metric.
const Namespace = "govlisten"

// Other is the label value that stands for anything outside a fixed set.
const Other = "other"

// Platforms are the values of the platform label (plus Other).
var Platforms = []string{"twitter", "youtube", "facebook"}

// Reasons are the values of the DLQ reason label (plus Other): the last
// token of the dead-letter subject.
var Reasons = []string{"undecodable", "invalid"}

// ErrorClasses are the values of api_errors_total's class label:
//
//	auth        the platform refused the token
//	rate_limit  the platform asked us to wait
//	quota       a quota is spent (YouTube's daily units)
//	malformed   an answer that did not parse or was partial
//	client      a request the platform refuses for good (bad parameter, deleted object)
//	network     no answer: connection refused or reset, DNS, timeout
//	server      the platform failed (5xx) or anything else transient
var ErrorClasses = []string{"auth", "rate_limit", "quota", "malformed", "client", "network", "server"}

// Results are the values of collector_runs_total's result label.
var Results = []string{"ok", "quota", "error", "stopped"}

// Telemetry is one process's metrics registry and health. Create it with
// New; it is safe for concurrent use.
type Telemetry struct {
	reg    *prometheus.Registry
	Health *Health

	processor *Processor

	apiCalls, apiWaits, apiWaitSeconds *prometheus.CounterVec
	apiErrors                          *prometheus.CounterVec
	collected, published, duplicates   *prometheus.CounterVec
	runs                               *prometheus.CounterVec

	bus     *busCollector
	sources *sourceCollector
	quota   *quotaCollector
}

// New returns a Telemetry with every govlisten metric registered, the Go
// runtime and process collectors and build_info. log receives readiness
// changes.
func New(log *slog.Logger) *Telemetry {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	reg := prometheus.NewRegistry()
	t := &Telemetry{reg: reg, Health: newHealth(log)}
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		v := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: name, Help: help}, labels)
		reg.MustRegister(v)
		return v
	}
	t.processor = newProcessor(reg)
	t.apiCalls = counter("api_calls_total", "Requests sent to the platform's API, retries included.", "platform")
	t.apiErrors = counter("api_errors_total", "API requests that failed, by class: auth, rate_limit, quota, malformed, client, network, server.", "platform", "class")
	t.apiWaits = counter("api_rate_limit_waits_total", "Waits the platform's rate limits imposed (a 429, a throttling answer, a spent window, or another replica's hold).", "platform")
	t.apiWaitSeconds = counter("api_rate_limit_wait_seconds_total", "Total seconds of rate-limit waits.", "platform")
	t.collected = counter("collector_mentions_collected_total", "Mentions in the pages a source fetched and handed to the publisher.", "platform", "source")
	t.published = counter("collector_mentions_published_total", "Mentions JetStream acknowledged as new.", "platform", "source")
	t.duplicates = counter("collector_mentions_duplicate_total", "Mentions JetStream acknowledged as already stored (same Nats-Msg-Id inside the duplicate window).", "platform", "source")
	t.runs = counter("collector_runs_total", "Collection runs of a source, by result: ok, quota (stopped for a spent quota), error, stopped (shutdown).", "platform", "source", "result")

	t.bus = &busCollector{log: log}
	t.sources = &sourceCollector{log: log}
	t.quota = newQuotaCollector()
	reg.MustRegister(t.Health, t.bus, t.sources, t.quota,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		buildInfo())
	return t
}

// Registry is the registry the metrics are on, for a caller that adds its
// own (the dashboard's) or reads them in a test.
func (t *Telemetry) Registry() *prometheus.Registry { return t.reg }

// Mount adds GET /metrics, /healthz and /readyz to mux. One mux per
// process: a role that serves more (the dashboard of serve and up) mounts
// its handlers on the same mux.
func (t *Telemetry) Mount(mux *http.ServeMux) {
	mux.Handle("GET /metrics", promhttp.HandlerFor(t.reg, promhttp.HandlerOpts{
		// A collector that fails (NATS unreachable during a scrape) leaves
		// out its own metrics; the others are still served.
		ErrorHandling: promhttp.ContinueOnError,
		Registry:      t.reg,
	}))
	mux.HandleFunc("GET /healthz", t.Health.serveLive)
	mux.HandleFunc("GET /readyz", t.Health.serveReady)
}

// Handler is a new mux with the three endpoints mounted.
func (t *Telemetry) Handler() *http.ServeMux {
	mux := http.NewServeMux()
	t.Mount(mux)
	return mux
}

// buildInfo is govlisten_build_info: the module version, the VCS revision
// when the binary was built with it, and the Go version.
func buildInfo() prometheus.Collector {
	version, revision, goVersion := "unknown", "unknown", "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		version, goVersion = bi.Main.Version, bi.GoVersion
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				revision = s.Value
			}
		}
	}
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace:   Namespace,
		Name:        "build_info",
		Help:        "1, with the build's version, VCS revision and Go version as labels.",
		ConstLabels: prometheus.Labels{"version": version, "revision": revision, "go_version": goVersion},
	})
	g.Set(1)
	return g
}

// oneOf returns v when it is in set, else Other: the guard that keeps
// label values bounded.
func oneOf(v string, set []string) string {
	for _, s := range set {
		if v == s {
			return v
		}
	}
	return Other
}

func indexOf(v string, set []string) int {
	for i, s := range set {
		if v == s {
			return i
		}
	}
	return len(set) // Other
}
