package deploy_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/govlisten/govlisten/internal/testenv"
)

// The Grafana dashboard's queries are checked the way Grafana and the
// Altinity plugin (vertamedia-clickhouse-datasource) would run them: the
// dashboard's variables replaced as Grafana does (a multi-value variable
// becomes a list of quoted strings, "All" the custom all value '__all'),
// then the plugin's macros expanded as its query evaluator does for
// DateTime columns, then each query POSTed to ClickHouse's HTTP interface
// with FORMAT JSON as the read-only analyst user of
// deploy/clickhouse/users/govlisten.xml.

type dashboard struct {
	UID        string      `json:"uid"`
	Panels     []dashPanel `json:"panels"`
	Templating struct {
		List []dashVar `json:"list"`
	} `json:"templating"`
}

type dsRef struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type dashPanel struct {
	ID         int          `json:"id"`
	Title      string       `json:"title"`
	Type       string       `json:"type"`
	Datasource *dsRef       `json:"datasource"`
	Targets    []dashTarget `json:"targets"`
	Panels     []dashPanel  `json:"panels"` // a row's panels
}

type dashTarget struct {
	RefID        string `json:"refId"`
	Datasource   *dsRef `json:"datasource"`
	Query        string `json:"query"`
	Format       string `json:"format"`
	DateTimeType string `json:"dateTimeType"`
	DateTimeCol  string `json:"dateTimeColDataType"`
	DateCol      string `json:"dateColDataType"`
	Database     string `json:"database"`
	Table        string `json:"table"`
}

type dashVar struct {
	Name       string `json:"name"`
	Type       string `json:"type"`
	Query      string `json:"query"`
	AllValue   string `json:"allValue"`
	IncludeAll bool   `json:"includeAll"`
	Multi      bool   `json:"multi"`
	Datasource *dsRef `json:"datasource"`
}

func readDashboard(t *testing.T) dashboard {
	t.Helper()
	b, err := os.ReadFile("grafana/dashboards/govlisten.json")
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("grafana/dashboards/govlisten.json: %v", err)
	}
	return d
}

// allPanels flattens rows.
func allPanels(ps []dashPanel) []dashPanel {
	var out []dashPanel
	for _, p := range ps {
		out = append(out, p)
		out = append(out, allPanels(p.Panels)...)
	}
	return out
}

var templateVar = regexp.MustCompile(`\$\{(\w+)(?::[^}]*)?\}|\[\[(\w+)\]\]|\$(\w+)`)

// interpolate replaces the dashboard variables in s as Grafana does; names
// that are not variables (the plugin's macros) are left alone.
func interpolate(s string, vars map[string]string) string {
	return templateVar.ReplaceAllStringFunc(s, func(m string) string {
		sub := templateVar.FindStringSubmatch(m)
		name := sub[1] + sub[2] + sub[3]
		if v, ok := vars[name]; ok {
			return v
		}
		return m
	})
}

var (
	macroTimeSeries  = regexp.MustCompile(`\$timeSeries\b`)
	macroTimeFilter  = regexp.MustCompile(`\$timeFilter\b`)
	macroTable       = regexp.MustCompile(`\$table\b`)
	macroFrom        = regexp.MustCompile(`\$from\b`)
	macroTo          = regexp.MustCompile(`\$to\b`)
	macroDateCol     = regexp.MustCompile(`\$dateCol\b`)
	macroDateTimeCol = regexp.MustCompile(`\$dateTimeCol\b`)
	macroInterval    = regexp.MustCompile(`\$interval\b`)
	macroFilterByCol = regexp.MustCompile(`\$timeFilterByColumn\((\w+)\)`)
)

// expandMacros expands the plugin's macros in query for target, in the
// order and with the SQL of its query evaluator (pkg/eval/eval_query.go of
// Altinity/clickhouse-grafana) for dateTimeType DATETIME.
func expandMacros(t *testing.T, query string, tg dashTarget, from, to time.Time, interval int) string {
	t.Helper()
	if tg.DateTimeType != "DATETIME" {
		t.Fatalf("target %s: dateTimeType %q; this test expands DATETIME only", tg.RefID, tg.DateTimeType)
	}
	timeFilter := "$dateTimeCol >= toDateTime($from) AND $dateTimeCol <= toDateTime($to)"
	if tg.DateCol != "" {
		timeFilter = "$dateCol >= toDate($from) AND $dateCol <= toDate($to) AND " + timeFilter
	}
	f, tt := strconv.FormatInt(from.Unix(), 10), strconv.FormatInt(to.Unix(), 10)
	q := macroTimeSeries.ReplaceAllLiteralString(query, "(intDiv(toUInt32($dateTimeCol), $interval) * $interval) * 1000")
	q = macroTimeFilter.ReplaceAllLiteralString(q, timeFilter)
	q = macroTable.ReplaceAllLiteralString(q, tg.Database+"."+tg.Table)
	q = macroFrom.ReplaceAllLiteralString(q, f)
	q = macroTo.ReplaceAllLiteralString(q, tt)
	q = macroDateCol.ReplaceAllLiteralString(q, tg.DateCol)
	q = macroDateTimeCol.ReplaceAllLiteralString(q, tg.DateTimeCol)
	q = macroInterval.ReplaceAllLiteralString(q, strconv.Itoa(interval))
	q = macroFilterByCol.ReplaceAllString(q, "$1 >= toDateTime($$from) AND $1 <= toDateTime($$to)")
	q = macroFrom.ReplaceAllLiteralString(q, f)
	return macroTo.ReplaceAllLiteralString(q, tt)
}

// chJSON is ClickHouse's FORMAT JSON.
type chJSON struct {
	Meta []struct {
		Name string `json:"name"`
		Type string `json:"type"`
	} `json:"meta"`
	Data []map[string]any `json:"data"`
	Rows int              `json:"rows"`
}

// httpQuery POSTs query to ClickHouse's HTTP interface at addr as the
// Altinity plugin does (usePOST, defaultDatabase, basic auth).
func httpQuery(ctx context.Context, addr, user, password, query string) (*chJSON, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+"/?"+url.Values{"database": {"govlisten"}}.Encode(),
		strings.NewReader(query+"\nFORMAT JSON"))
	if err != nil {
		return nil, err
	}
	req.SetBasicAuth(user, password)
	// No keep-alive: an idle connection would hold up the server's
	// shutdown at the end of the test.
	req.Close = true
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(body)))
	}
	var out chJSON
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, fmt.Errorf("decoding %.200s: %w", body, err)
	}
	return &out, nil
}

func TestGrafanaProvisioning(t *testing.T) {
	b, err := os.ReadFile("grafana/provisioning/datasources/clickhouse.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var ds struct {
		APIVersion  int `yaml:"apiVersion"`
		Datasources []struct {
			Name, UID, Type, Access, URL string
			BasicAuth                    bool              `yaml:"basicAuth"`
			BasicAuthUser                string            `yaml:"basicAuthUser"`
			SecureJSONData               map[string]string `yaml:"secureJsonData"`
			JSONData                     map[string]any    `yaml:"jsonData"`
		}
	}
	if err := yaml.Unmarshal(b, &ds); err != nil {
		t.Fatalf("datasources/clickhouse.yaml: %v", err)
	}
	if ds.APIVersion != 1 || len(ds.Datasources) != 1 {
		t.Fatalf("datasources/clickhouse.yaml: apiVersion %d, %d data sources; want 1 and 1", ds.APIVersion, len(ds.Datasources))
	}
	d := ds.Datasources[0]
	envRef := regexp.MustCompile(`^\$\{[A-Z_]+\}$`)
	switch {
	case d.Type != "vertamedia-clickhouse-datasource":
		t.Errorf("data source type %q", d.Type)
	case !envRef.MatchString(d.SecureJSONData["basicAuthPassword"]):
		t.Errorf("password %q: want a ${ENV} reference in secureJsonData", d.SecureJSONData["basicAuthPassword"])
	case !d.BasicAuth || !envRef.MatchString(d.URL):
		t.Errorf("basicAuth %v, url %q", d.BasicAuth, d.URL)
	case d.JSONData["defaultDatabase"] != "govlisten" || d.JSONData["usePOST"] != true:
		t.Errorf("jsonData %v", d.JSONData)
	case d.JSONData["addCorsHeader"] != false || d.JSONData["useCompression"] != false:
		t.Errorf("jsonData %v: settings-sending options must stay off for a readonly = 1 user", d.JSONData)
	}

	b, err = os.ReadFile("grafana/provisioning/dashboards/govlisten.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var prov struct {
		Providers []struct {
			Type    string
			Options struct{ Path string }
		}
	}
	if err := yaml.Unmarshal(b, &prov); err != nil || len(prov.Providers) != 1 || prov.Providers[0].Type != "file" || prov.Providers[0].Options.Path == "" {
		t.Errorf("dashboards/govlisten.yaml: %v %+v", err, prov)
	}

	dash := readDashboard(t)
	for _, p := range allPanels(dash.Panels) {
		for _, ref := range append([]*dsRef{p.Datasource}, targetRefs(p)...) {
			if p.Type != "row" && (ref == nil || ref.UID != d.UID || ref.Type != d.Type) {
				t.Errorf("panel %q: data source %+v, want uid %s of type %s", p.Title, ref, d.UID, d.Type)
			}
		}
	}
	for _, v := range dash.Templating.List {
		if v.Type == "query" && (v.Datasource == nil || v.Datasource.UID != d.UID) {
			t.Errorf("variable %s: data source %+v, want uid %s", v.Name, v.Datasource, d.UID)
		}
	}
}

func targetRefs(p dashPanel) []*dsRef {
	var out []*dsRef
	for _, tg := range p.Targets {
		out = append(out, tg.Datasource)
	}
	return out
}

func TestGrafanaDashboardQueries(t *testing.T) {
	dash := readDashboard(t)
	panels := allPanels(dash.Panels)
	for _, want := range []string{"Mentions over time", "Sentiment over time", "Top departments", "Top topics",
		"Most-engaged negative mentions", "Unanswered questions", "Response times per department", "Recent alerts"} {
		found := false
		for _, p := range panels {
			found = found || p.Title == want
		}
		if !found {
			t.Errorf("no panel %q", want)
		}
	}
	vars := map[string]dashVar{}
	for _, v := range dash.Templating.List {
		vars[v.Name] = v
	}
	for _, name := range []string{"database", "department", "topic", "platform"} {
		v, ok := vars[name]
		if !ok {
			t.Fatalf("no dashboard variable %s", name)
		}
		if name != "database" && (!v.Multi || !v.IncludeAll || v.AllValue != "'__all'") {
			t.Errorf("variable %s: multi %v, includeAll %v, allValue %q; the queries rely on multi, All and '__all'", name, v.Multi, v.IncludeAll, v.AllValue)
		}
	}

	const analystPassword = "grafana-test-password"
	srv, httpAddr := startWithUsers(t, analystPassword, "unused-processor-password")
	admin := testenv.Store(t, srv.DSN("govlisten"))
	now := time.Now().UTC().Truncate(time.Second)
	insertRows(t, admin, syntheticRows(now.Add(-time.Hour)))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	batch, err := admin.Conn().PrepareBatch(ctx, "INSERT INTO govlisten.alerts (id, period, scope, slug, period_start, mentions, baseline, "+
		"stddev, negative_share, baseline_negative_share, top_terms, mention_ids, explanation, detected_at, notified_at)")
	if err != nil {
		t.Fatal(err)
	}
	hour, day := now.Add(-2*time.Hour).Truncate(time.Hour), now.Add(-24*time.Hour).Truncate(24*time.Hour)
	for _, a := range []struct {
		period, scope, slug string
		start               time.Time
	}{{"hour", "department", "dwp", hour}, {"day", "topic", "welfare", day}} {
		id := a.period + ":" + a.scope + ":" + a.slug + ":" + a.start.Format(time.RFC3339)
		if err := batch.Append(id, a.period, a.scope, a.slug, a.start, uint64(120), 30.5, 8.1, 0.6, 0.3,
			[]string{"payment", "late"}, []string{"twitter:1"}, "Mentions of "+a.slug+" rose to 120 against 30.5 usually.", now, time.Unix(0, 0).UTC()); err != nil {
			t.Fatal(err)
		}
	}
	if err := batch.Send(); err != nil {
		t.Fatal(err)
	}

	// The variables' own queries, as Grafana runs them to fill the menus.
	for _, name := range []string{"department", "topic"} {
		q := interpolate(vars[name].Query, map[string]string{"database": "govlisten"})
		res, err := httpQuery(ctx, httpAddr, "analyst", analystPassword, q)
		if err != nil {
			t.Fatalf("variable %s: %v\n%s", name, err, q)
		}
		if res.Rows == 0 {
			t.Errorf("variable %s: no values", name)
		}
	}

	from, to := now.Add(-7*24*time.Hour), now
	for _, sel := range []struct {
		name     string
		vars     map[string]string
		wantRows bool
	}{
		{"all", map[string]string{"database": "govlisten", "department": "'__all'", "topic": "'__all'", "platform": "'__all'"}, true},
		{"selected", map[string]string{"database": "govlisten", "department": "'dwp','hmrc'", "topic": "'welfare'", "platform": "'twitter','youtube'"}, false},
	} {
		for _, p := range panels {
			for _, tg := range p.Targets {
				t.Run(sel.name+"/"+p.Title+"/"+tg.RefID, func(t *testing.T) {
					tg.Database = interpolate(tg.Database, sel.vars)
					q := expandMacros(t, interpolate(tg.Query, sel.vars), tg, from, to, 3600)
					if strings.Contains(q, "$") {
						t.Fatalf("unexpanded $ left in\n%s", q)
					}
					res, err := httpQuery(ctx, httpAddr, "analyst", analystPassword, q)
					if err != nil {
						t.Fatalf("%v\nquery:\n%s", err, q)
					}
					if sel.wantRows && res.Rows == 0 {
						t.Errorf("no rows from\n%s", q)
					}
					if tg.Format == "time_series" && (len(res.Meta) < 2 || res.Meta[0].Name != "t") {
						t.Errorf("a time_series query must return t (ms) first, then values; got %v", res.Meta)
					}
				})
			}
		}
	}
}
