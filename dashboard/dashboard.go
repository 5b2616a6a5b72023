// Package dashboard serves govlisten's dashboard: one server-rendered page
// per view (a time range, department, topic and platform, all in the URL
// of a GET form), and /api/summary with the same numbers as JSON. The
// numbers come from package analytics.
//
// Why server-rendered HTML with inline SVG charts drawn in Go:
//
//   - Nothing to build and nothing from the internet: html/template, CSS
//     and a few lines of optional JavaScript embedded in the binary. No
//     front-end toolchain, no CDN, no third-party script — the page works on
//     a locked-down government laptop and in an air-gapped deployment.
//   - It works without JavaScript: every chart is already in the HTML, and
//     every view is a URL that can be bookmarked, shared and put in a
//     briefing.
//   - Accessible by construction (WCAG 2.2 AA): each chart is an <svg
//     role="img"> whose accessible name summarises it in words, followed by
//     the same data as a table in a <details>; series are labelled directly
//     on the chart, sentiment is told by pattern and label as well as by
//     colour, and colours meet 4.5:1 for text and 3:1 for marks against the
//     background. A skip link, labelled form controls, visible focus and
//     headings in order make the page usable with a keyboard and a screen
//     reader.
//   - Safe with hostile text: mention texts, names and handles are
//     attacker-controlled. html/template escapes them in context, every
//     user text is isolated in <bdi> (so right-to-left overrides cannot
//     reorder the page around it), links are shown only for http and https
//     URLs, and a Content-Security-Policy allows scripts and styles from
//     this server only.
//
// The handler never authenticates: serve and up wrap it (http.auth.*).
// It leaves /metrics, /healthz and /readyz to other handlers of the same
// mux. A Dashboard is safe for concurrent use.
package dashboard

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/govlisten/govlisten/analytics"
	"github.com/govlisten/govlisten/config"
	"github.com/govlisten/govlisten/mention"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Dashboard is the dashboard's HTTP handler.
type Dashboard struct {
	a     *analytics.Analytics
	names *names
	log   *slog.Logger
	mux   *http.ServeMux
	tmpl  *template.Template
	// Now is the clock the preset ranges end at; time.Now unless a test
	// sets it.
	Now func() time.Time
	// Timeout bounds the queries of one request. Default 30s.
	Timeout time.Duration
}

var _ http.Handler = (*Dashboard)(nil)

// New returns the dashboard over a: the page at /, the JSON at
// /api/summary, its CSS and JavaScript under /static/. Names of
// departments and topics come from the taxonomy of cfg (the built-in one
// when cfg.Taxonomy is empty).
func New(a *analytics.Analytics, cfg *config.Config, log *slog.Logger) *Dashboard {
	if log == nil {
		log = slog.Default()
	}
	taxonomy := ""
	if cfg != nil {
		taxonomy = cfg.Taxonomy
	}
	d := &Dashboard{a: a, names: loadNames(taxonomy, log), log: log, Now: time.Now, Timeout: 30 * time.Second}
	d.tmpl = template.Must(template.New("").Funcs(template.FuncMap{
		"f1":        f1,
		"count":     count,
		"platform":  platformName,
		"when":      func(t time.Time) string { return t.UTC().Format("Mon 2 Jan 2006 15:04") },
		"rfc3339":   func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"link":      safeLink,
		"deptNames": d.deptNames,
	}).ParseFS(templateFS, "templates/*.html"))
	static, _ := fs.Sub(staticFS, "static")
	files := http.StripPrefix("/static/", http.FileServerFS(static))
	d.mux = http.NewServeMux()
	d.mux.HandleFunc("GET /{$}", d.servePage)
	d.mux.HandleFunc("GET /api/summary", d.serveSummary)
	d.mux.Handle("GET /static/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, r)
	}))
	return d
}

// ServeHTTP serves the dashboard's paths; anything else is 404.
func (d *Dashboard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	d.mux.ServeHTTP(w, r)
}

// summary parses the request and runs the queries. A bad parameter is a
// *paramError; anything else is ClickHouse's.
func (d *Dashboard) summary(r *http.Request) (params, *analytics.Summary, error) {
	p, f, err := parseParams(r.URL.Query(), d.names, d.Now())
	if err != nil {
		return p, nil, err
	}
	ctx := r.Context()
	if d.Timeout > 0 {
		var cancel func()
		ctx, cancel = context.WithTimeout(ctx, d.Timeout)
		defer cancel()
	}
	s, err := d.a.Summary(ctx, f, analytics.Limits{})
	if err != nil {
		var fe *analytics.FilterError
		if errors.As(err, &fe) {
			return p, nil, &paramError{fe.Field, fe.Reason}
		}
		return p, nil, err
	}
	d.name(s)
	return p, s, nil
}

// name fills in the human-readable names of a summary's slugs.
func (d *Dashboard) name(s *analytics.Summary) {
	for i := range s.TopDepartments {
		s.TopDepartments[i].Name = d.names.department(s.TopDepartments[i].Slug)
	}
	for i := range s.TopTopics {
		s.TopTopics[i].Name = d.names.topic(s.TopTopics[i].Slug)
	}
	for i := range s.Spikes {
		s.Spikes[i].Name = d.names.of(s.Spikes[i].Scope, s.Spikes[i].Slug)
	}
	for i := range s.Responses {
		s.Responses[i].Name = d.names.department(s.Responses[i].Department)
	}
	for i := range s.Alerts {
		s.Alerts[i].Name = d.names.of(s.Alerts[i].Scope, s.Alerts[i].Slug)
	}
}

func (d *Dashboard) servePage(w http.ResponseWriter, r *http.Request) {
	p, s, err := d.summary(r)
	if err != nil {
		d.pageError(w, r, err)
		return
	}
	d.render(w, "page", d.view(p, s), http.StatusOK)
}

func (d *Dashboard) serveSummary(w http.ResponseWriter, r *http.Request) {
	p, s, err := d.summary(r)
	if err != nil {
		status, msg := d.classify(r, err)
		writeJSON(w, status, map[string]string{"error": msg})
		return
	}
	writeJSON(w, http.StatusOK, struct {
		View string `json:"view"`
		*analytics.Summary
	}{"./?" + p.query().Encode(), s})
}

// classify turns an error into a status and a message fit to show.
func (d *Dashboard) classify(r *http.Request, err error) (int, string) {
	var pe *paramError
	if errors.As(err, &pe) {
		return http.StatusBadRequest, "bad parameter " + pe.Error()
	}
	if r.Context().Err() != nil {
		return http.StatusServiceUnavailable, "the request was cancelled"
	}
	d.log.Error("dashboard query failed", "url", r.URL.String(), "err", err)
	return http.StatusServiceUnavailable, "the database did not answer; try again in a moment (the server log has the details)"
}

func (d *Dashboard) pageError(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := d.classify(r, err)
	title := "Bad request"
	if status != http.StatusBadRequest {
		title = "The dashboard could not load"
	}
	d.render(w, "error", struct{ Title, Message string }{title, msg}, status)
}

func (d *Dashboard) render(w http.ResponseWriter, name string, data any, status int) {
	var b strings.Builder
	if err := d.tmpl.ExecuteTemplate(&b, name, data); err != nil {
		d.log.Error("dashboard template", "template", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(b.String()))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// safeLink returns u when it is an absolute http or https URL, else "":
// a stored mention's URL is never trusted to be one.
func safeLink(u string) string {
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return ""
	}
	return p.String()
}

func platformName(p string) string {
	switch p {
	case mention.Twitter:
		return "X"
	case mention.YouTube:
		return "YouTube"
	case mention.Facebook:
		return "Facebook"
	}
	return p
}

// deptNames joins the names of department slugs.
func (d *Dashboard) deptNames(slugs []string) string {
	out := make([]string, len(slugs))
	for i, s := range slugs {
		out[i] = d.names.department(s)
	}
	return strings.Join(out, ", ")
}
