package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/govlisten/govlisten/bus"
	"github.com/govlisten/govlisten/collectors"
	"github.com/govlisten/govlisten/internal/synth"
	"github.com/govlisten/govlisten/internal/testenv"
	"github.com/govlisten/govlisten/mention"
)

// Outcomes of a bad input on one route.
const (
	landed         = "landed byte-exact"
	badLine        = "import: bad line"
	dlqInvalid     = "DLQ invalid"
	dlqUndecodable = "DLQ undecodable"
	refused        = "refused at publish"
)

// expect is what must become of an input on one route, and what its reason
// must say (empty for landed).
type expect struct{ outcome, reason string }

// badInput is one of the nastiest things a public mention can carry. Either
// mk builds the record for an id (it is sent as encoding/json writes it,
// without HTML escaping, as another tool would), or raw builds the line's
// bytes for an id.
type badInput struct {
	name     string
	mk       func(id string) *mention.Mention
	raw      func(id string) []byte
	imp, pub expect
}

const (
	mib         = 1 << 20
	goodSource  = "badinput-good"
	badSource   = "badinput"
	routeImport = "import"
	routePub    = "publish"
)

// record is a valid mention of the bad-input corpus with id and text.
func record(id, text string) *mention.Mention {
	at := time.Date(2026, 11, 3, 8, 30, 0, 0, time.UTC)
	return &mention.Mention{
		V: mention.Version, Platform: mention.Twitter, ID: id, Kind: mention.KindPost,
		ThreadID: id, AuthorID: "7712", AuthorHandle: "citizen", AuthorName: "Member of the Public",
		Text: text, Lang: "en", URL: "https://x.com/citizen/status/" + id,
		CreatedAt: at, CollectedAt: at.Add(time.Minute),
		Metrics: mention.Metrics{Likes: 1}, Source: mention.Source{Name: badSource, Department: "dwp"},
		Raw: json.RawMessage(`{"id":"` + id + `"}`),
	}
}

// with returns mk for record(id, text) changed by f.
func with(text string, f func(m *mention.Mention)) func(string) *mention.Mention {
	return func(id string) *mention.Mention {
		m := record(id, text)
		if f != nil {
			f(m)
		}
		return m
	}
}

// rawLine is record(id, "x") as JSON with old replaced by new: a record
// encoding/json cannot write.
func rawLine(old, new string) func(string) []byte {
	return func(id string) []byte {
		b := encodeLine(record(id, "x"))
		if !bytes.Contains(b, []byte(old)) {
			panic(fmt.Sprintf("%q not in %s", old, b))
		}
		return bytes.Replace(b, []byte(old), []byte(new), 1)
	}
}

// encodeLine writes m as one JSON line, without escaping <, > and &.
func encodeLine(m *mention.Mention) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		panic(err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

func created(ts string) func(*mention.Mention) {
	return func(m *mention.Mention) {
		t, err := time.Parse(time.RFC3339Nano, ts)
		if err != nil {
			panic(err)
		}
		m.CreatedAt = t
	}
}

func badInputs() []badInput {
	land := expect{outcome: landed}
	both := func(e expect) (expect, expect) { return e, e }
	rejected := func(dlq, reason string) (expect, expect) {
		return expect{badLine, reason}, expect{dlq, reason}
	}
	// 16 MiB of text that reads like text (the tagger, language detection
	// and sentiment all run over it), with accents and emoji.
	sentence := "Universal Credit payment late again, côte d'Ivoire visa 😩 "
	sixteen := strings.Repeat(sentence, 16*mib/len(sentence)+1)[:16*mib]
	for !utf8.ValidString(sixteen) {
		sixteen = sixteen[:len(sixteen)-1]
	}
	var emoji strings.Builder
	for range 2500 { // 10,000 emoji, among them ZWJ sequences, flags and tags
		emoji.WriteString("😩👩🏽‍💻🇬🇧🏴󠁧󠁢󠁷󠁬󠁳󠁿")
	}
	var cases []badInput
	add := func(name string, mk func(string) *mention.Mention, raw func(string) []byte, imp, pub expect) {
		cases = append(cases, badInput{name: name, mk: mk, raw: raw, imp: imp, pub: pub})
	}
	i, p := both(land)
	add("16 MiB text", with(sixteen, nil), nil, i, p)
	add("40 MiB text (over the stream's 32 MiB max message and import's max line)", nil,
		rawLine(`"text":"x"`, `"text":"`+strings.Repeat("a", 40*mib)+`"`),
		expect{badLine, "line longer than 33554432 bytes"}, expect{refused, "message too large"})
	add("6 MiB of '<' (fits as sent; 36 MiB once re-encoded as \\u003c)", with(strings.Repeat("<", 6*mib), nil), nil,
		expect{badLine, "bytes as a message on the bus, more than the"}, land)
	add("NUL bytes (\\u0000) in text and author name", with("before\x00after\x00", func(m *mention.Mention) { m.AuthorName = "Nul\x00Name" }), nil, i, p)
	i, p = rejected(dlqUndecodable, "invalid character")
	add("raw NUL byte inside a JSON string", nil, rawLine(`"text":"x"`, "\"text\":\"a\x00b\""), i, p)
	i, p = rejected(dlqInvalid, "text: not valid UTF-8")
	add("invalid UTF-8 in text", nil, rawLine(`"text":"x"`, "\"text\":\"caf\xe9 \xff\xfe\""), i, p)
	i, p = rejected(dlqInvalid, "author_name: not valid UTF-8")
	add("invalid UTF-8 in author name", nil, rawLine(`"author_name":"Member of the Public"`, "\"author_name\":\"\xc3\x28\""), i, p)
	i, p = rejected(dlqInvalid, "text: holds a lone UTF-16 surrogate escape")
	add("lone UTF-16 surrogate escape \\ud83d (an emoji cut in half)", nil, rawLine(`"text":"x"`, `"text":"late \ud83d"`), i, p)
	i, p = both(land)
	add("right-to-left override U+202E, ZWJ, ZWNJ, BOM, U+2028/9", with("abc\u202Edcba \u200d\u200c\ufeff line\u2028para\u2029end", func(m *mention.Mention) { m.AuthorName = "\u202Eevil" }), nil, i, p)
	add("10,000 emoji", with(emoji.String(), nil), nil, i, p)
	add("SQL injection in text, id and author", func(id string) *mention.Mention {
		m := record(id+"'); DROP TABLE mentions; --", `'); DROP TABLE mentions; -- " OR 1=1 \'`)
		m.AuthorHandle, m.AuthorName = `robert'); DROP TABLE mentions;--`, `Bobby "Tables"`
		return m
	}, nil, i, p)
	add("HTML/JS", with(`<script>alert(1)</script><img src=x onerror=alert(document.cookie)>&amp;`, func(m *mention.Mention) { m.AuthorName = "<b>bold</b>" }), nil, i, p)
	add("template injection", with("{{.}} {{template \"x\"}} ${jndi:ldap://x.invalid/a} #{7*7} <%= 7*7 %> {% debug %}", func(m *mention.Mention) { m.AuthorHandle = "{{.Secret}}" }), nil, i, p)
	add("JSON in text", with(`","platform":"facebook","id":"1"}`+"\n{", nil), nil, i, p)
	add("created 1970-01-01T00:00:01Z (the first storable second)", with("x", created("1970-01-01T00:00:01Z")), nil, i, p)
	add("created 1970-06-01", with("x", created("1970-06-01T12:00:00Z")), nil, i, p)
	add("created 2100-01-01", with("x", created("2100-01-01T00:00:00Z")), nil, i, p)
	add("created 2105-12-31T00:00:00Z (the last accepted)", with("x", created("2105-12-31T00:00:00Z")), nil, i, p)
	add("created with +14:00 and nanoseconds", with("x", created("2026-11-03T23:59:59.999999999+14:00")), nil, i, p)
	i, p = rejected(dlqInvalid, "created_at: 1970-01-01T00:00:00Z is outside")
	add("created 1970-01-01T00:00:00Z (epoch zero)", with("x", created("1970-01-01T00:00:00Z")), nil, i, p)
	i, p = rejected(dlqInvalid, "created_at: 1969-12-31T23:59:59Z is outside")
	add("created 1969-12-31T23:59:59Z", with("x", created("1969-12-31T23:59:59Z")), nil, i, p)
	i, p = rejected(dlqInvalid, "created_at: 2106-02-07T06:28:16Z is outside")
	add("created 2106-02-07T06:28:16Z (2^32 s: DateTime would wrap)", with("x", created("2106-02-07T06:28:16Z")), nil, i, p)
	i, p = rejected(dlqInvalid, "created_at: 2106-01-01T04:00:00Z is outside")
	add("created 2105-12-31T23:00:00-05:00 (2106 in UTC)", with("x", created("2105-12-31T23:00:00-05:00")), nil, i, p)
	i, p = rejected(dlqInvalid, "created_at: 9999-12-31T23:59:59Z is outside")
	add("created 9999-12-31", with("x", created("9999-12-31T23:59:59Z")), nil, i, p)
	i, p = rejected(dlqInvalid, "created_at: not an RFC 3339 timestamp")
	add("created at a leap second 23:59:60", nil, rawLine(`"created_at":"2026-11-03T08:30:00Z"`, `"created_at":"2016-12-31T23:59:60Z"`), i, p)
	i, p = both(land)
	add("id of 25 digits with leading zeros", func(id string) *mention.Mention {
		return record("0000000000000000000000"+id[len(id)-3:], "x")
	}, nil, i, p)
	i, p = rejected(dlqInvalid, "id: want a JSON string")
	add("id as a JSON number beyond 2^53", nil, func(id string) []byte {
		return bytes.Replace(encodeLine(record(id, "x")), []byte(`"id":"`+id+`"`), []byte(`"id":18934567890123456791`), 1)
	}, i, p)
	i, p = rejected(dlqInvalid, `platform: unknown platform "myspace"`)
	add("unknown platform", with("x", func(m *mention.Mention) { m.Platform = "myspace" }), nil, i, p)
	i, p = rejected(dlqInvalid, `kind: unknown kind "story"`)
	add("unknown kind", with("x", func(m *mention.Mention) { m.Kind = "story" }), nil, i, p)
	i, p = rejected(dlqInvalid, "v: unsupported schema version 2")
	add("schema version 2", with("x", func(m *mention.Mention) { m.V = 2 }), nil, i, p)
	i, p = both(land)
	add("likes 2^64-1", with("x", func(m *mention.Mention) { m.Metrics = mention.Metrics{Likes: 1<<64 - 1, Views: 1<<64 - 1} }), nil, i, p)
	i, p = rejected(dlqInvalid, "metrics.likes: want a JSON uint64")
	add("likes 2^64 (overflows)", nil, rawLine(`"likes":1`, `"likes":18446744073709551616`), i, p)
	i, p = rejected(dlqInvalid, "metrics.likes: want a JSON uint64")
	add("likes -1", nil, rawLine(`"likes":1`, `"likes":-1`), i, p)
	i, p = both(land)
	add("emoji and scripts in author names", with("x", func(m *mention.Mention) {
		m.AuthorName, m.AuthorHandle = "👩🏽‍💻 Siân Dŵr 🏴󠁧󠁢󠁷󠁬󠁳󠁿 محمد", "ʇsǝʇ_ǝɯoɔ"
	}), nil, i, p)
	add("text of only whitespace", with(" \t\r\n\u00a0\u2003\u3000 ", nil), nil, i, p)
	add("empty text", with("", nil), nil, i, p)
	i, p = rejected(dlqUndecodable, "exceeded max depth")
	add("raw nested 100,000 deep", nil, rawLine(`"raw":{"id":`, `"raw":{"deep":`+strings.Repeat("[", 100000)+strings.Repeat("]", 100000)+`,"id":`), i, p)
	return cases
}

// row is what the test reads back of a stored mention.
type row struct {
	platform, id, text, authorID, handle, name, parent, thread, url, raw string
	created                                                              time.Time
	likes, views                                                         uint64
}

// Every nasty input, imported with `govlisten import` and published straight
// onto the bus, then processed by `govlisten process --once`: each either
// lands byte-exact (text, id, author fields, raw, the created_at second,
// metrics) or is refused with its reason (a bad line of the import, the DLQ
// with its reason header, or the publish itself for what the stream cannot
// hold); nothing crashes, nothing waits for redelivery, and the good
// mentions around them all land.
func TestBadInputCorpus(t *testing.T) {
	e := newEnv(t, sharedClickHouse(t))
	cfg := testenv.Config()
	cfg.NATS.URL = e.natsURL
	conn := testenv.Bus(t, cfg)
	ctx := context.Background()
	cases := badInputs()

	g := synth.New(2024)
	goodLine := func() []byte {
		m := g.Next()
		m.Source.Name = goodSource
		return encodeLine(m)
	}
	// The id of case c on a route: distinct per case and route.
	idOf := func(c int, route string) string {
		r := "1"
		if route == routePub {
			r = "2"
		}
		return fmt.Sprintf("1990000000000%03d%s", c, r)
	}
	// The bytes sent for case c on a route, and its expected record.
	sent := make(map[string][]byte)
	want := make(map[string]*mention.Mention)
	key := func(c int, route string) string { return route + "/" + strconv.Itoa(c) }
	for c, bc := range cases {
		for _, route := range []string{routeImport, routePub} {
			id := idOf(c, route)
			if bc.mk != nil {
				m := bc.mk(id)
				sent[key(c, route)], want[key(c, route)] = encodeLine(m), m
			} else {
				sent[key(c, route)] = bc.raw(id)
			}
		}
	}

	// Route 1: one file, three good mentions before each bad one and after
	// the last.
	goods := 0
	var lines [][]byte
	lineOf := map[int]int{} // file line -> case
	for c := range cases {
		for range 3 {
			lines = append(lines, goodLine())
			goods++
		}
		lines = append(lines, sent[key(c, routeImport)])
		lineOf[len(lines)] = c
	}
	for range 3 {
		lines = append(lines, goodLine())
		goods++
	}
	file := writeLines(t, lines)
	start := time.Now()
	_, stderr, code := e.run(nil, "import", file)
	t.Logf("import of %d lines (%d MiB) took %s", len(lines), len(bytes.Join(lines, nil))>>20, time.Since(start).Round(time.Millisecond))
	if code != 1 {
		t.Fatalf("import exited %d, want 1 (bad lines reported, good ones published): %s", code, tail(stderr, 3000))
	}
	actual := map[string]expect{}
	for _, l := range strings.Split(stderr, "\n") {
		rest, ok := strings.CutPrefix(l, file+":")
		if !ok {
			continue
		}
		n, reason, ok := strings.Cut(rest, ": ")
		ln, err := strconv.Atoi(n)
		if !ok || err != nil {
			t.Fatalf("unreadable bad-line report %q", l)
		}
		c, isCase := lineOf[ln]
		if !isCase {
			t.Fatalf("a good line was reported bad: %s", l)
		}
		actual[key(c, routeImport)] = expect{badLine, reason}
	}
	if !strings.Contains(stderr, `"import done"`) {
		t.Fatalf("import did not finish: %s", tail(stderr, 3000))
	}

	// Route 2: straight onto the bus, as a collector or another producer
	// would publish, with good mentions around each.
	publishGood := func() {
		for range 3 {
			m := g.Next()
			m.Source.Name = goodSource
			msg, err := collectors.Encode(m)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := conn.JS.PublishMsg(ctx, msg); err != nil {
				t.Fatal(err)
			}
			goods++
		}
	}
	for c := range cases {
		publishGood()
		subject := "govlisten.mentions.twitter.post"
		if m := want[key(c, routePub)]; m != nil {
			subject = m.Subject()
		}
		if _, err := conn.JS.Publish(ctx, subject, sent[key(c, routePub)]); err != nil {
			actual[key(c, routePub)] = expect{refused, err.Error()}
		}
	}
	publishGood()

	start = time.Now()
	if _, stderr, code := e.run(nil, "process", "--once"); code != 0 {
		t.Fatalf("process --once exited %d: %s", code, tail(stderr, 3000))
	}
	t.Logf("process --once took %s", time.Since(start).Round(time.Millisecond))

	// The DLQ, matched to what was published by its bytes.
	out, stderr, code := e.run(nil, "dlq", "list")
	if code != 0 {
		t.Fatalf("dlq list exited %d: %s", code, stderr)
	}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if l == "" {
			continue
		}
		var d dlqEntry
		if err := json.Unmarshal([]byte(l), &d); err != nil {
			t.Fatal(err)
		}
		data := []byte(d.Data + string(d.DataBase64))
		found := false
		for c := range cases {
			for _, route := range []string{routeImport, routePub} {
				if bytes.Equal(data, sent[key(c, route)]) || route == routeImport && bytes.Contains(data, []byte(`"id":"`+idOf(c, routeImport))) {
					actual[key(c, route)] = expect{"DLQ " + strings.TrimPrefix(d.Subject, bus.DLQPrefix), d.Reason}
					found = true
				}
			}
		}
		if !found {
			t.Errorf("DLQ holds a message that was not a bad input (a good mention?): %s", tail(l, 300))
		}
	}

	// What landed, read back in full.
	rows, err := e.store.Conn().Query(ctx, "SELECT toString(platform), id, text, author_id, author_handle, author_name, parent_id, thread_id, url, raw, created_at, likes, views FROM "+
		e.store.DB()+".mentions FINAL WHERE source = '"+badSource+"'")
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string]row{}
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.platform, &r.id, &r.text, &r.authorID, &r.handle, &r.name, &r.parent, &r.thread, &r.url, &r.raw, &r.created, &r.likes, &r.views); err != nil {
			t.Fatal(err)
		}
		stored[r.platform+":"+r.id] = r
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	for k, m := range want {
		r, ok := stored[m.Platform+":"+m.ID]
		if !ok {
			continue
		}
		delete(stored, m.Platform+":"+m.ID)
		if prev, seen := actual[k]; seen {
			t.Errorf("%s: stored and also %s", k, prev.outcome)
		}
		var sentRaw struct {
			Raw json.RawMessage `json:"raw"`
		}
		_ = json.Unmarshal(sent[k], &sentRaw)
		diffs := compareRow(r, m, string(sentRaw.Raw))
		if len(diffs) == 0 {
			actual[k] = expect{landed, ""}
		} else {
			actual[k] = expect{"landed CORRUPTED", strings.Join(diffs, "; ")}
		}
	}
	for k := range stored {
		t.Errorf("stored a mention no case expects: %s", k)
	}

	// The good mentions around them: every one stored.
	if got := e.count("SELECT count() FROM DB.mentions FINAL WHERE source = '" + goodSource + "'"); got != uint64(goods) {
		t.Errorf("%d of the %d good mentions stored", got, goods)
	}
	// Nothing left waiting for redelivery.
	cons, err := conn.JS.Consumer(ctx, bus.StreamMentions, "processor")
	if err != nil {
		t.Fatal(err)
	}
	info, err := cons.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.NumPending != 0 || info.NumAckPending != 0 || info.NumRedelivered != 0 {
		t.Errorf("consumer after the run: pending %d, ack pending %d, redelivered %d", info.NumPending, info.NumAckPending, info.NumRedelivered)
	}

	// The table, and each outcome against its expectation.
	var table strings.Builder
	fmt.Fprintf(&table, "\n%-78s | %-7s | %-20s | %s\n", "input", "route", "outcome", "reason")
	for c, bc := range cases {
		for _, route := range []string{routeImport, routePub} {
			exp := bc.imp
			if route == routePub {
				exp = bc.pub
			}
			got, ok := actual[key(c, route)]
			if !ok {
				got = expect{"LOST", "neither stored, nor refused, nor dead-lettered"}
			}
			fmt.Fprintf(&table, "%-78s | %-7s | %-20s | %s\n", bc.name, route, got.outcome, short(got.reason, 140))
			if got.outcome != exp.outcome || !strings.Contains(got.reason, exp.reason) {
				t.Errorf("%s via %s: %s (%s), want %s with %q", bc.name, route, got.outcome, short(got.reason, 300), exp.outcome, exp.reason)
			}
		}
	}
	t.Log(table.String())
}

// compareRow lists how r differs from m as sent (raw: the bytes sent).
// created_at is compared to the second: the column is a DateTime.
func compareRow(r row, m *mention.Mention, raw string) []string {
	var diffs []string
	for _, f := range []struct{ name, got, want string }{
		{"id", r.id, m.ID}, {"text", r.text, m.Text}, {"author_id", r.authorID, m.AuthorID},
		{"author_handle", r.handle, m.AuthorHandle}, {"author_name", r.name, m.AuthorName},
		{"parent_id", r.parent, m.ParentID}, {"thread_id", r.thread, m.ThreadID}, {"url", r.url, m.URL}, {"raw", r.raw, raw},
	} {
		if f.got != f.want {
			diffs = append(diffs, fmt.Sprintf("%s: stored %d bytes %q, sent %d bytes %q", f.name, len(f.got), short(f.got, 60), len(f.want), short(f.want, 60)))
		}
	}
	if want := m.CreatedAt.UTC().Truncate(time.Second); !r.created.Equal(want) {
		diffs = append(diffs, fmt.Sprintf("created_at: stored %s, sent %s", r.created.UTC().Format(time.RFC3339), m.CreatedAt.Format(time.RFC3339Nano)))
	}
	if r.likes != m.Metrics.Likes || r.views != m.Metrics.Views {
		diffs = append(diffs, fmt.Sprintf("metrics: stored likes %d views %d, sent %d %d", r.likes, r.views, m.Metrics.Likes, m.Metrics.Views))
	}
	return diffs
}

// short cuts s to at most n bytes (at a rune boundary) for a message.
func short(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
