package telemetry

import (
	"context"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// API is one platform's API metrics, its label children resolved. A nil
// *API counts nothing.
type API struct {
	calls, waits, waitSeconds prometheus.Counter
	errors                    []prometheus.Counter // by ErrorClasses index
	quota                     *quotaEntry          // nil for a platform outside Platforms
}

// API returns the metrics of platform's API; a platform outside Platforms
// counts as Other.
func (t *Telemetry) API(platform string) *API {
	if t == nil {
		return nil
	}
	p := oneOf(platform, Platforms)
	a := &API{
		calls:       t.apiCalls.WithLabelValues(p),
		waits:       t.apiWaits.WithLabelValues(p),
		waitSeconds: t.apiWaitSeconds.WithLabelValues(p),
		quota:       t.quota.entries[p],
	}
	for _, c := range ErrorClasses {
		a.errors = append(a.errors, t.apiErrors.WithLabelValues(p, c))
	}
	return a
}

// Call counts one request sent to the API and, unless class is "", one
// error of that class (see ErrorClasses; anything else counts as server,
// the catch-all).
func (a *API) Call(class string) {
	if a == nil {
		return
	}
	a.calls.Inc()
	if class != "" {
		i := indexOf(class, ErrorClasses)
		if i == len(ErrorClasses) {
			i = indexOf("server", ErrorClasses)
		}
		a.errors[i].Inc()
	}
}

// RateLimited counts one wait the platform's rate limits imposed.
func (a *API) RateLimited(wait time.Duration) {
	if a == nil {
		return
	}
	a.waits.Inc()
	a.waitSeconds.Add(max(wait.Seconds(), 0))
}

// QuotaLeft records what the platform said is left of its quota, in the
// platform's unit (see quotaUnits): X's x-rate-limit-remaining, Facebook's
// 100 minus its highest usage percentage. YouTube's is read on scrape
// instead (WatchQuota).
func (a *API) QuotaLeft(v float64) {
	if a != nil && a.quota != nil {
		a.quota.set(v)
	}
}

// quotaUnits is the unit of each platform's api_quota_left.
var quotaUnits = map[string]string{
	"twitter":  "requests", // left in the endpoint's 15-minute window, from the last response
	"youtube":  "units",    // of the daily budget shared by every replica (collectors.KVBudget)
	"facebook": "percent",  // of the app's and Page's usage limits, from the last response
}

type quotaEntry struct {
	unit string
	bits atomic.Uint64 // math.Float64bits of the last value
	has  atomic.Bool
	fn   atomic.Pointer[func(context.Context) (float64, error)]
}

func (e *quotaEntry) set(v float64) {
	e.bits.Store(math.Float64bits(v))
	e.has.Store(true)
}

type quotaCollector struct {
	entries map[string]*quotaEntry // by platform; fixed at creation
	desc    *prometheus.Desc
}

func newQuotaCollector() *quotaCollector {
	c := &quotaCollector{entries: map[string]*quotaEntry{},
		desc: prometheus.NewDesc(Namespace+"_api_quota_left",
			"What the platform's quota has left, in unit: X requests left in the rate-limit window (last response), YouTube units left today (shared budget, read on scrape), Facebook percent of the usage limits left (last response).",
			[]string{"platform", "unit"}, nil)}
	for _, p := range Platforms {
		c.entries[p] = &quotaEntry{unit: quotaUnits[p]}
	}
	return c
}

// WatchQuota makes every scrape read platform's quota left with f (bounded
// by scrapeTimeout): for a quota kept outside this process, such as
// YouTube's daily units in KV.
func (t *Telemetry) WatchQuota(platform string, f func(ctx context.Context) (float64, error)) {
	if t == nil {
		return
	}
	if e := t.quota.entries[platform]; e != nil {
		e.fn.Store(&f)
	}
}

func (c *quotaCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *quotaCollector) Collect(ch chan<- prometheus.Metric) {
	for _, p := range Platforms {
		e := c.entries[p]
		v, ok := math.Float64frombits(e.bits.Load()), e.has.Load()
		if fn := e.fn.Load(); fn != nil {
			ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
			got, err := (*fn)(ctx)
			cancel()
			v, ok = got, err == nil
		}
		if ok {
			ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, v, p, e.unit)
		}
	}
}

// Source is one configured source's collection metrics, its label children
// resolved. A nil *Source counts nothing.
type Source struct {
	collected, published, duplicates prometheus.Counter
	runs                             []prometheus.Counter // by Results index
}

// Source returns the metrics of a configured source (its name is a label
// value: only names from the configuration may be passed).
func (t *Telemetry) Source(platform, source string) *Source {
	if t == nil {
		return nil
	}
	p := oneOf(platform, Platforms)
	s := &Source{
		collected:  t.collected.WithLabelValues(p, source),
		published:  t.published.WithLabelValues(p, source),
		duplicates: t.duplicates.WithLabelValues(p, source),
	}
	for _, r := range Results {
		s.runs = append(s.runs, t.runs.WithLabelValues(p, source, r))
	}
	return s
}

// Page counts a page handed to the publisher and what JetStream made of it.
func (s *Source) Page(collected int, published, duplicates int64) {
	if s == nil {
		return
	}
	s.collected.Add(float64(collected))
	s.published.Add(float64(published))
	s.duplicates.Add(float64(duplicates))
}

// Run counts a finished run by result (see Results; anything else counts
// as error).
func (s *Source) Run(result string) {
	if s == nil {
		return
	}
	i := indexOf(result, Results)
	if i == len(Results) {
		i = indexOf("error", Results)
	}
	s.runs[i].Inc()
}

// SourceSample is what the bus says of a source at a scrape.
type SourceSample struct {
	Source, Platform string
	// Checkpoint is the time of the newest item the source's checkpoint
	// covers; zero when it says none (the source has found nothing yet).
	Checkpoint time.Time
	// LastSuccess and LastError are when its last successful and last
	// failed runs ended; zero for never.
	LastSuccess, LastError time.Time
}

// WatchSources makes every scrape read the sources' checkpoints and last
// runs with f (bounded by scrapeTimeout): state kept in KV, shared by every
// collector replica, so any replica exports the same values. The sources f
// returns must be the configured ones.
func (t *Telemetry) WatchSources(f func(ctx context.Context) ([]SourceSample, error)) {
	if t != nil {
		t.sources.fn.Store(&f)
	}
}

var (
	descCheckpointAge = prometheus.NewDesc(Namespace+"_source_checkpoint_age_seconds",
		"Seconds from the time of the newest item the source's checkpoint covers to now, read on scrape.", []string{"platform", "source"}, nil)
	descLastSuccess = prometheus.NewDesc(Namespace+"_source_last_success_timestamp_seconds",
		"When the source's last successful run ended (Unix time), read on scrape.", []string{"platform", "source"}, nil)
	descLastError = prometheus.NewDesc(Namespace+"_source_last_error_timestamp_seconds",
		"When the source's last failed run ended (Unix time), read on scrape.", []string{"platform", "source"}, nil)
)

type sourceCollector struct {
	log *slog.Logger
	fn  atomic.Pointer[func(context.Context) ([]SourceSample, error)]
	mu  sync.Mutex // one scrape reads KV at a time
}

func (c *sourceCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descCheckpointAge
	ch <- descLastSuccess
	ch <- descLastError
}

func (c *sourceCollector) Collect(ch chan<- prometheus.Metric) {
	fn := c.fn.Load()
	if fn == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	samples, err := (*fn)(ctx)
	if err != nil {
		c.log.Debug("scrape: reading the sources' state", "err", err)
		return
	}
	now := time.Now()
	for _, s := range samples {
		p := oneOf(s.Platform, Platforms)
		if !s.Checkpoint.IsZero() {
			ch <- prometheus.MustNewConstMetric(descCheckpointAge, prometheus.GaugeValue, now.Sub(s.Checkpoint).Seconds(), p, s.Source)
		}
		if !s.LastSuccess.IsZero() {
			ch <- prometheus.MustNewConstMetric(descLastSuccess, prometheus.GaugeValue, unix(s.LastSuccess), p, s.Source)
		}
		if !s.LastError.IsZero() {
			ch <- prometheus.MustNewConstMetric(descLastError, prometheus.GaugeValue, unix(s.LastError), p, s.Source)
		}
	}
}

func unix(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }
