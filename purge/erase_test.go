package purge_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/govlisten/govlisten/bus"
	"github.com/govlisten/govlisten/internal/testenv"
	"github.com/govlisten/govlisten/mention"
	"github.com/govlisten/govlisten/privacy"
	"github.com/govlisten/govlisten/processors"
	"github.com/govlisten/govlisten/processors/sink"
	"github.com/govlisten/govlisten/processors/tagger"
	"github.com/govlisten/govlisten/purge"
)

// The author to erase (A) and the one who stays (B), on X and YouTube.
const (
	aXID, aHandle, aName = "880011223344", "Alice_Erase", "Alice Example"
	aYTID                = "UCaliceErase0000000000001"
	aWords               = "alice-only-words"
	bXID, bHandle, bName = "990055667788", "bob_keeps", "Bob Keeps"
	bYTID                = "UCbobKeeps000000000000001"
)

func ytComment(id, channel, display, text string) map[string]any {
	return map[string]any{"kind": "youtube#comment", "id": id, "snippet": map[string]any{
		"textOriginal": text, "authorDisplayName": display, "authorChannelId": map[string]any{"value": channel},
		"authorChannelUrl": "http://www.youtube.com/channel/" + channel, "publishedAt": "2026-05-11T09:00:00Z"}}
}

// bThread is B's top-level comment with A's and Carol's replies: B's
// mention carries the whole thread as its raw.
func bThread(id string) map[string]any {
	return map[string]any{"kind": "youtube#commentThread", "id": id, "snippet": map[string]any{
		"videoId": "vid1", "topLevelComment": ytComment(id, bYTID, "@"+bHandle, "bob top comment")},
		"replies": map[string]any{"comments": []any{
			ytComment(id+".a", aYTID, "@"+aHandle, aWords+" in a reply"),
			ytComment(id+".c", "UCcarol00000000000000001", "Carol", "carol reply words"),
		}}}
}

func xRaw(id, author, handle, name, text string) map[string]any {
	return map[string]any{"id": id, "text": text, "author_id": author,
		"author": map[string]any{"id": author, "username": handle, "name": name}}
}

// scenario is the data of an erasure test.
type scenario struct {
	stored, streamed []post
	dlq              []*nats.Msg
}

func newScenario() scenario {
	aX := func(id, created string, depts []string, label string) post {
		return newPost(mention.Twitter, id, aXID, aHandle, aName, created, aWords+" "+id, depts, label, xRaw(id, aXID, aHandle, aName, aWords))
	}
	bX := func(id, created string, depts []string, label string) post {
		return newPost(mention.Twitter, id, bXID, bHandle, bName, created, "bob says "+id, depts, label, xRaw(id, bXID, bHandle, bName, "bob"))
	}
	aReply := newPost(mention.YouTube, "UgyB1.a", aYTID, "@"+aHandle, "@"+aHandle, "2026-05-11T09:05:00Z", aWords+" in a reply",
		[]string{"dhsc"}, tagger.Negative, ytComment("UgyB1.a", aYTID, "@"+aHandle, aWords+" in a reply"))
	aReply.m.Kind = mention.KindReply
	s := scenario{
		stored: []post{
			aX("1001", "2026-04-03T10:00:00Z", []string{"dwp"}, tagger.Negative),
			aX("1002", "2026-05-10T11:00:00Z", []string{"dhsc"}, tagger.Positive),
			aX("1002", "2026-05-10T11:00:00Z", []string{"dhsc"}, tagger.Positive), // delivered twice
			aReply,
			bX("2001", "2026-04-03T10:30:00Z", []string{"dwp"}, tagger.Neutral),
			bX("2002", "2026-05-10T11:20:00Z", []string{"dhsc"}, tagger.Negative),
			bX("2003", "2026-05-10T12:00:00Z", nil, tagger.Positive),
			newPost(mention.YouTube, "UgyB1", bYTID, "@"+bHandle, "@"+bHandle, "2026-05-11T09:00:00Z", "bob top comment",
				[]string{"dhsc"}, tagger.Negative, bThread("UgyB1")),
		},
		streamed: []post{
			aX("1003", "2026-05-20T08:00:00Z", nil, tagger.Neutral),
			newPost(mention.YouTube, "UgyA9", aYTID, "@"+aHandle, "@"+aHandle, "2026-05-21T08:00:00Z", aWords, nil, tagger.Neutral,
				ytComment("UgyA9", aYTID, "@"+aHandle, aWords)),
			bX("2004", "2026-05-20T09:00:00Z", nil, tagger.Neutral),
			newPost(mention.YouTube, "UgyB2", bYTID, "@"+bHandle, "@"+bHandle, "2026-05-21T09:00:00Z", "bob top comment", nil, tagger.Neutral, bThread("UgyB2")),
		},
	}
	dlq := func(reason, subject string, data []byte) *nats.Msg {
		m := nats.NewMsg(bus.DLQPrefix + reason)
		m.Data = data
		m.Header.Set(bus.HeaderReason, reason+": test")
		m.Header.Set(bus.HeaderOriginalSubject, subject)
		return m
	}
	// A's, with only the id (no handle) and no created_at: invalid.
	s.dlq = append(s.dlq,
		dlq("invalid", "govlisten.mentions.twitter.post", []byte(`{"v":1,"platform":"twitter","id":"1004","kind":"post","author_id":"`+aXID+`","text":"`+aWords+`"}`)),
		dlq("undecodable", "govlisten.mentions.twitter.post", []byte(`{"v":1,"platform":"twitter","id":"1005","author_handle":"`+aHandle+`","text":"cut o`)),
		dlq("invalid", "govlisten.mentions.twitter.post", []byte(`{"v":1,"platform":"twitter","id":"2005","kind":"post","author_id":"`+bXID+`","text":"bob"}`)),
	)
	return s
}

// load stores, publishes and dead-letters the scenario; with p, the stored
// mentions are pseudonymised as a processor would (the stream keeps them
// as collected).
func (s scenario) load(t *testing.T, st *sink.Store, conn *bus.Conn, p *privacy.Pseudonymiser) {
	t.Helper()
	ctx := ctxFor(t)
	var stored []post
	for _, x := range s.stored {
		c := *x.m
		p.Apply(&c)
		stored = append(stored, post{m: &c, tags: x.tags})
	}
	insert(t, st, stored[:2]...) // two inserts: two parts, the duplicate in both
	insert(t, st, stored[2:]...)
	alertIDs := []string{"twitter:1001", "twitter:2001"}
	insertAlert(t, st, "hour:department:dwp:2026-04-03T10:00:00Z", day("2026-04-03T10:00:00Z"), alertIDs)
	for _, x := range s.streamed {
		data, err := json.Marshal(x.m)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.JS.Publish(ctx, x.m.Subject(), data, jetstream.WithMsgID(x.m.MsgID())); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range s.dlq {
		if _, err := conn.JS.PublishMsg(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
}

// traces lists where any of the needles is still found: every String and
// Array(String) column of every table of the database (raw included), and
// every message (data and headers) of both streams. Case is ignored.
func traces(t *testing.T, st *sink.Store, js jetstream.JetStream, needles []string) []string {
	t.Helper()
	ctx := ctxFor(t)
	var found []string
	rows, err := st.Conn().Query(ctx, "SELECT c.table, c.name, c.type FROM system.columns AS c WHERE c.database = ? AND c.type IN ('String', 'Array(String)') "+
		"AND c.table IN (SELECT name FROM system.tables WHERE database = ? AND engine LIKE '%MergeTree')", st.DB(), st.DB())
	if err != nil {
		t.Fatal(err)
	}
	type col struct{ table, name, typ string }
	var cols []col
	for rows.Next() {
		var c col
		if err := rows.Scan(&c.table, &c.name, &c.typ); err != nil {
			t.Fatal(err)
		}
		cols = append(cols, c)
	}
	rows.Close()
	if len(cols) < 20 {
		t.Fatalf("found only %d string columns to search", len(cols))
	}
	for _, c := range cols {
		for _, n := range needles {
			cond := fmt.Sprintf("positionCaseInsensitiveUTF8(`%s`, '%s') > 0", c.name, n)
			if c.typ == "Array(String)" {
				cond = fmt.Sprintf("arrayExists(x -> positionCaseInsensitiveUTF8(x, '%s') > 0, `%s`)", n, c.name)
			}
			if k := testenv.Count(t, st, fmt.Sprintf("SELECT count() FROM %s.`%s` WHERE %s", st.DB(), c.table, cond)); k > 0 {
				found = append(found, fmt.Sprintf("%d rows of %s.%s hold %q", k, c.table, c.name, n))
			}
		}
	}
	for _, name := range []string{bus.StreamMentions, bus.StreamDLQ} {
		for _, m := range streamMsgs(t, js, name) {
			var all bytes.Buffer
			all.Write(m.Data)
			for k, vs := range m.Header {
				all.WriteString(k + strings.Join(vs, " "))
			}
			for _, n := range needles {
				if bytes.Contains(bytes.ToLower(all.Bytes()), []byte(strings.ToLower(n))) {
					found = append(found, fmt.Sprintf("%s message %d holds %q", name, m.Sequence, n))
				}
			}
		}
	}
	return found
}

func streamMsgs(t *testing.T, js jetstream.JetStream, name string) []*jetstream.RawStreamMsg {
	t.Helper()
	ctx := ctxFor(t)
	s, err := js.Stream(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	var out []*jetstream.RawStreamMsg
	for seq := uint64(1); ; {
		m, err := s.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(">"))
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
		seq = m.Sequence + 1
	}
}

// rollupsExact compares both rollups with mentions FINAL, group by group.
func rollupsExact(t *testing.T, st *sink.Store) {
	t.Helper()
	for _, r := range []struct{ table, period string }{{"mentions_daily", "day"}, {"mentions_hourly", "hour"}} {
		base := "toString(" + map[string]string{"day": "day", "hour": "toStartOfHour(created_at)"}[r.period] + ")"
		q := func(sql string) string {
			rows, err := st.Conn().Query(context.Background(), strings.ReplaceAll(sql, "DB.", st.DB()+"."))
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var b strings.Builder
			for rows.Next() {
				var (
					p, pl, d, tp string
					n, neg       uint64
				)
				if err := rows.Scan(&p, &pl, &d, &tp, &n, &neg); err != nil {
					t.Fatal(err)
				}
				fmt.Fprintf(&b, "%s %s %s %s %d %d\n", p, pl, d, tp, n, neg)
			}
			return b.String()
		}
		rollup := q("SELECT toString(" + r.period + ") AS p, toString(platform) AS pl, toString(departments) AS d, toString(topics) AS tp, " +
			"toUInt64(uniqMerge(mentions)), toUInt64(uniqIfMerge(negative)) FROM DB." + r.table + " GROUP BY p, pl, d, tp HAVING uniqMerge(mentions) > 0 ORDER BY p, pl, d, tp")
		want := q("SELECT " + base + " AS p, toString(platform) AS pl, toString(departments) AS d, toString(topics) AS tp, " +
			"count(), countIf(sentiment_label = 'negative') FROM DB.mentions FINAL GROUP BY p, pl, d, tp ORDER BY p, pl, d, tp")
		if rollup != want {
			t.Errorf("%s differs from mentions FINAL:\n%s\nwant\n%s", r.table, rollup, want)
		}
	}
}

// drain runs a processor over what is left on stream MENTIONS.
func drain(t *testing.T, st *sink.Store, conn *bus.Conn, p *privacy.Pseudonymiser) {
	t.Helper()
	tax, err := processors.LoadTaxonomy("", processors.Compile(tagger.Options{}))
	if err != nil {
		t.Fatal(err)
	}
	cfg := testenv.Config()
	proc := processors.New(conn, st, tax, cfg, discard)
	proc.Privacy = p // nil stores authors as they are
	if err := proc.Run(ctxFor(t), true); err != nil {
		t.Fatal(err)
	}
}

func setup(t *testing.T, db string) (*sink.Store, *bus.Conn) {
	st := clickhouse(t, db)
	cfg := testenv.Config()
	cfg.NATS.URL = testenv.NATS(t)
	return st, testenv.Bus(t, cfg)
}

// An author with mentions in ClickHouse (one stored twice, one a reply held
// in another author's thread), on stream MENTIONS and in the DLQ (one
// carrying only the id, one undecodable) is erased by handle: afterwards
// nothing of theirs is anywhere, the other author is intact, the rollups
// agree with the base table, the work queue still drains, and a second
// erasure finds nothing.
func TestErase(t *testing.T) {
	st, conn := setup(t, "erase")
	ctx := ctxFor(t)
	newScenario().load(t, st, conn, nil)
	needles := []string{aXID, aHandle, aYTID, aName, aWords}
	if len(traces(t, st, conn.JS, needles)) == 0 {
		t.Fatal("the scenario holds no trace of the author to begin with")
	}
	e := &purge.Eraser{Store: st, JS: conn.JS, Progress: t.Logf}

	dry, err := e.Erase(ctx, purge.Request{Author: "@alice_erase", DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if dry.Mentions != 3 || dry.Rows != 4 || dry.RawScrubbed != 1 || dry.Alerts != 1 || dry.Streams[0].Deleted != 2 || dry.Streams[1].Deleted != 2 {
		t.Fatalf("dry run found %+v", dry)
	}
	if n := count(t, st, "SELECT count() FROM DB.mentions"); n != 8 {
		t.Fatalf("dry run changed ClickHouse: %d rows", n)
	}

	rep, err := e.Erase(ctx, purge.Request{Author: "@alice_erase"})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("report: %+v", rep)
	if rep.Mentions != 3 || rep.Rows != 4 || rep.RawScrubbed != 1 || rep.Alerts != 1 || fmt.Sprint(rep.Months) != "[202604 202605]" {
		t.Errorf("ClickHouse: %+v; want 3 mentions (4 rows), 1 raw scrubbed, 1 alert, months 202604 and 202605", rep)
	}
	if s := rep.Streams[0]; s.Stream != bus.StreamMentions || s.Deleted != 2 || s.Rewritten != 1 || s.Scanned != 4 {
		t.Errorf("MENTIONS: %+v; want 2 deleted, 1 rewritten of 4", s)
	}
	if s := rep.Streams[1]; s.Stream != bus.StreamDLQ || s.Deleted != 2 || s.Rewritten != 0 || s.Scanned != 3 {
		t.Errorf("DLQ: %+v; want 2 deleted of 3", s)
	}
	for _, want := range []string{"alice_erase", aXID, strings.ToLower(aYTID)} {
		if !strings.Contains(strings.Join(rep.Identities, " "), want) {
			t.Errorf("identities %v lack %s", rep.Identities, want)
		}
	}
	if left := traces(t, st, conn.JS, needles); len(left) > 0 {
		t.Fatalf("traces of the author left:\n%s", strings.Join(left, "\n"))
	}
	checkB(t, st, conn, 4, 2, 1)
	rollupsExact(t, st)
	if ids := alertIDs(t, st); ids != "[twitter:2001]" {
		t.Errorf("alert lists %s, want [twitter:2001]", ids)
	}

	// What was left on MENTIONS is processed as usual.
	drain(t, st, conn, nil)
	if left := traces(t, st, conn.JS, needles); len(left) > 0 {
		t.Fatalf("traces after processing:\n%s", strings.Join(left, "\n"))
	}
	checkB(t, st, conn, 6, 0, 1)
	rollupsExact(t, st)

	again, err := e.Erase(ctx, purge.Request{Author: aXID})
	if err != nil {
		t.Fatal(err)
	}
	if again.Mentions+again.Rows+again.RawScrubbed+again.Alerts != 0 || again.Streams[0].Deleted+again.Streams[1].Deleted+again.Streams[0].Rewritten != 0 || again.Passes != 1 {
		t.Errorf("second erasure found %+v; want nothing", again)
	}
}

// checkB checks that B's mentions are all there: stored in ClickHouse, on
// stream MENTIONS, and in the DLQ.
func checkB(t *testing.T, st *sink.Store, conn *bus.Conn, stored uint64, streamed, dead int) {
	t.Helper()
	if n := count(t, st, "SELECT count() FROM DB.mentions FINAL WHERE author_id IN ('"+bXID+"', '"+bYTID+"')"); n != stored {
		t.Errorf("B has %d mentions stored, want %d", n, stored)
	}
	if n := count(t, st, "SELECT count() FROM DB.mentions FINAL WHERE id = 'UgyB1' AND position(raw, 'carol reply words') > 0 AND position(raw, 'bob top comment') > 0"); n != 1 {
		t.Error("B's thread lost more than the author's reply")
	}
	var onStream int
	for _, m := range streamMsgs(t, conn.JS, bus.StreamMentions) {
		rec, err := mention.Decode(m.Data)
		if err != nil {
			t.Fatalf("MENTIONS message %d: %v", m.Sequence, err)
		}
		if rec.AuthorID != bXID && rec.AuthorID != bYTID {
			t.Errorf("MENTIONS holds a mention by %s", rec.AuthorID)
		}
		if rec.ID == "UgyB2" && !strings.Contains(string(rec.Raw), "carol reply words") {
			t.Error("B's thread on the stream lost more than the author's reply")
		}
		onStream++
	}
	if onStream != streamed {
		t.Errorf("%d of B's mentions on MENTIONS, want %d", onStream, streamed)
	}
	dlq := streamMsgs(t, conn.JS, bus.StreamDLQ)
	if len(dlq) != dead || dead > 0 && (!strings.Contains(string(dlq[0].Data), bXID) || dlq[0].Header.Get(bus.HeaderReason) == "") {
		t.Errorf("DLQ holds %d messages, want B's %d with its reason", len(dlq), dead)
	}
}

func alertIDs(t *testing.T, st *sink.Store) string {
	t.Helper()
	var ids []string
	if err := st.Conn().QueryRow(context.Background(), "SELECT mention_ids FROM "+st.DB()+".alerts").Scan(&ids); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprint(ids)
}

// With pseudonymisation on, the stored mentions carry pseudonyms and the
// streams the ids as collected: erasure by the X id finds both, across
// platforms (through the handle the author uses on both).
func TestErasePseudonymised(t *testing.T) {
	st, conn := setup(t, "erasep")
	ctx := ctxFor(t)
	p, err := privacy.New([]byte("a test key of at least thirty-two bytes"))
	if err != nil {
		t.Fatal(err)
	}
	newScenario().load(t, st, conn, p)
	if n := count(t, st, "SELECT count() FROM DB.mentions WHERE author_id = '"+p.Author(aXID)+"'"); n != 3 {
		t.Fatalf("%d of the author's rows pseudonymised, want 3", n)
	}
	e := &purge.Eraser{Store: st, JS: conn.JS, Pseudo: p, Progress: t.Logf}
	rep, err := e.Erase(ctx, purge.Request{Author: aXID})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Mentions != 3 || rep.RawScrubbed != 1 || rep.Streams[0].Deleted != 2 || rep.Streams[1].Deleted != 2 {
		t.Errorf("report %+v; want 3 mentions, 1 raw scrubbed, 2 + 2 messages", rep)
	}
	needles := []string{aXID, aHandle, aYTID, aName, aWords, p.Author(aXID), p.Author(aHandle), p.Author(aYTID)}
	if left := traces(t, st, conn.JS, needles); len(left) > 0 {
		t.Fatalf("traces of the author left:\n%s", strings.Join(left, "\n"))
	}
	if n := count(t, st, "SELECT count() FROM DB.mentions FINAL WHERE author_id IN ('"+p.Author(bXID)+"', '"+p.Author(bYTID)+"')"); n != 4 {
		t.Errorf("B has %d mentions stored, want 4", n)
	}
	rollupsExact(t, st)
	drain(t, st, conn, p)
	if left := traces(t, st, conn.JS, needles); len(left) > 0 {
		t.Fatalf("traces after processing:\n%s", strings.Join(left, "\n"))
	}
	rollupsExact(t, st)
}

// A platform limits the erasure to that platform's mentions.
func TestErasePlatform(t *testing.T) {
	st, conn := setup(t, "erasepl")
	ctx := ctxFor(t)
	newScenario().load(t, st, conn, nil)
	e := &purge.Eraser{Store: st, JS: conn.JS, MutationTimeout: time.Minute}
	if _, err := e.Erase(ctx, purge.Request{Author: aHandle, Platform: "myspace"}); err == nil {
		t.Fatal("unknown platform: no error")
	}
	if _, err := e.Erase(ctx, purge.Request{Author: " @ "}); err == nil {
		t.Fatal("no author: no error")
	}
	rep, err := e.Erase(ctx, purge.Request{Author: aHandle, Platform: mention.YouTube})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Mentions != 1 || rep.RawScrubbed != 1 || rep.Streams[0].Deleted != 1 || rep.Streams[0].Rewritten != 1 {
		t.Errorf("report %+v; want A's YouTube reply, B's thread scrubbed, 1 message deleted and 1 rewritten", rep)
	}
	if n := count(t, st, "SELECT count() FROM DB.mentions FINAL WHERE author_id = '"+aXID+"'"); n != 2 {
		t.Errorf("A's X mentions: %d stored, want 2 (another platform)", n)
	}
	if n := count(t, st, "SELECT count() FROM DB.mentions WHERE author_id = '"+aYTID+"' OR position(raw, '"+aYTID+"') > 0"); n != 0 {
		t.Errorf("A's YouTube mentions: %d rows left", n)
	}
	rollupsExact(t, st)
}

// A raw larger than the server's default max_query_size (256 KiB) is
// rewritten all the same.
func TestEraseLargeRaw(t *testing.T) {
	st, conn := setup(t, "eraselarge")
	thread := bThread("UgyBig")
	replies := thread["replies"].(map[string]any)["comments"].([]any)
	for i := range 3000 {
		replies = append(replies, ytComment(fmt.Sprintf("UgyBig.%d", i), "UCcarol00000000000000001", "Carol", "carol reply words"))
	}
	thread["replies"].(map[string]any)["comments"] = replies
	big := newPost(mention.YouTube, "UgyBig", bYTID, "@"+bHandle, "@"+bHandle, "2026-05-11T09:00:00Z", "bob top comment", nil, tagger.Neutral, thread)
	if len(big.m.Raw) < 300<<10 {
		t.Fatalf("raw is only %d bytes", len(big.m.Raw))
	}
	insert(t, st, big)
	rep, err := (&purge.Eraser{Store: st, JS: conn.JS}).Erase(ctxFor(t), purge.Request{Author: aYTID})
	if err != nil {
		t.Fatal(err)
	}
	if rep.RawScrubbed != 1 {
		t.Fatalf("report %+v; want 1 raw scrubbed", rep)
	}
	if n := count(t, st, "SELECT count() FROM DB.mentions WHERE position(raw, '"+aYTID+"') > 0 OR position(raw, '"+aWords+"') > 0"); n != 0 {
		t.Fatal("the author's reply is still in the raw")
	}
	if n := count(t, st, "SELECT count() FROM DB.mentions WHERE length(raw) > 300000"); n != 1 {
		t.Fatal("the rest of the thread was lost")
	}
}
