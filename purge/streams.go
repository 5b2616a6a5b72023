package purge

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/govlisten/govlisten/bus"
	"github.com/govlisten/govlisten/privacy"
)

// StreamReport is what erasure found and did in one stream.
type StreamReport struct {
	Stream string
	// Scanned messages (those present when the scan began).
	Scanned int
	// Deleted: the author's own messages (and undecodable ones naming them),
	// securely deleted (overwritten on disk).
	Deleted int
	// Rewritten: messages by others whose raw held the author's replies or
	// comments, published again without them, the original deleted.
	Rewritten int
	// Gone: messages a processor took (and stored) between the scan and
	// the delete; the ClickHouse step then removes them.
	Gone int
}

// msgAction is what to do with one stream message.
type msgAction struct {
	seq     uint64
	subject string
	header  nats.Header
	data    []byte // rewrite: the new message; nil: delete
}

// planStream reads every message of a stream present now (a message get by
// sequence, "next message on the stream's subjects from here": stream
// MENTIONS is a work queue, where a second consumer is not allowed and an
// ordered one would consume what it reads) and decides what to do with
// each. A message by the author adds its ids and handles to id.
func planStream(ctx context.Context, js jetstream.JetStream, name, subjects string, id *identity, platform string) ([]msgAction, int, error) {
	stream, err := js.Stream(ctx, name)
	if err != nil {
		return nil, 0, fmt.Errorf("stream %s: %w", name, err)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("stream %s: %w", name, err)
	}
	last := info.State.LastSeq
	var (
		actions []msgAction
		scanned int
	)
	for seq := info.State.FirstSeq; info.State.Msgs > 0 && seq <= last; {
		m, err := stream.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(subjects))
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			break
		}
		if err != nil {
			return nil, scanned, fmt.Errorf("reading %s message %d: %w", name, seq, err)
		}
		if m.Sequence > last {
			break
		}
		seq = m.Sequence + 1
		scanned++
		if a, ok := decide(m, id, platform); ok {
			actions = append(actions, a)
		}
	}
	return actions, scanned, nil
}

// decide classifies one message: the author's (delete), someone else's
// whose raw holds the author's parts (rewrite), or neither.
func decide(m *jetstream.RawStreamMsg, id *identity, platform string) (msgAction, bool) {
	a := msgAction{seq: m.Sequence, subject: m.Subject, header: m.Header}
	var rec map[string]json.RawMessage
	if json.Unmarshal(m.Data, &rec) != nil || rec == nil {
		// Not a JSON object (the DLQ keeps undecodable messages as they
		// came): it is the author's if it names them as a whole word.
		if msgPlatform(nil, m) != "" && platform != "" && msgPlatform(nil, m) != platform {
			return a, false
		}
		return a, id.tokenIn(m.Data)
	}
	if p := msgPlatform(rec, m); platform != "" && p != "" && p != platform {
		return a, false
	}
	authorID, handle := field(rec, "author_id"), field(rec, "author_handle")
	if id.is(authorID) || id.is(handle) {
		id.add(authorID)
		id.add(handle)
		return a, true
	}
	raw, ok := rec["raw"]
	if !ok || !id.mentionedIn(raw) {
		return a, false
	}
	stripped, removed, err := privacy.StripAuthor(raw, id.is)
	switch {
	case err != nil:
		// A raw that does not parse but names the author: drop it.
		if !id.tokenIn(raw) {
			return a, false
		}
		delete(rec, "raw")
	case removed == 0:
		return a, false
	case stripped == nil:
		delete(rec, "raw")
	default:
		rec["raw"] = stripped
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if enc.Encode(rec) != nil {
		return a, false
	}
	a.data = bytes.TrimRight(buf.Bytes(), "\n")
	return a, true
}

// field is a top-level string (or number) field of a record, "" if absent.
func field(rec map[string]json.RawMessage, name string) string {
	var v any
	if json.Unmarshal(rec[name], &v) != nil {
		return ""
	}
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return ""
}

// msgPlatform is the platform of a message: its platform field, else the
// platform token of its (original) subject, govlisten.mentions.<platform>.<kind>.
func msgPlatform(rec map[string]json.RawMessage, m *jetstream.RawStreamMsg) string {
	if p := field(rec, "platform"); p != "" {
		return p
	}
	subj := m.Subject
	if o := m.Header.Get(bus.HeaderOriginalSubject); o != "" {
		subj = o
	}
	if rest, ok := strings.CutPrefix(subj, "govlisten.mentions."); ok {
		p, _, _ := strings.Cut(rest, ".")
		return p
	}
	return ""
}

// applyStream carries out the actions on one stream: a rewrite publishes
// the new message first and deletes the old one only once the new one is
// stored, so nothing is lost if it fails half way.
func applyStream(ctx context.Context, js jetstream.JetStream, name string, actions []msgAction, rep *StreamReport) error {
	stream, err := js.Stream(ctx, name)
	if err != nil {
		return fmt.Errorf("stream %s: %w", name, err)
	}
	for _, a := range actions {
		if a.data != nil {
			out := nats.NewMsg(a.subject)
			out.Data = a.data
			for k, vs := range a.header {
				if k != jetstream.MsgIDHeader {
					out.Header[k] = vs
				}
			}
			out.Header.Set(jetstream.MsgIDHeader, "erase:"+name+":"+strconv.FormatUint(a.seq, 10))
			if _, err := js.PublishMsg(ctx, out); err != nil {
				return fmt.Errorf("publishing %s message %d again without the author's parts: %w", name, a.seq, err)
			}
		}
		err := stream.SecureDeleteMsg(ctx, a.seq)
		switch {
		case err == nil && a.data != nil:
			rep.Rewritten++
		case err == nil:
			rep.Deleted++
		case isNotFound(err):
			rep.Gone++
		default:
			return fmt.Errorf("deleting %s message %d: %w", name, a.seq, err)
		}
	}
	return nil
}

// isNotFound: the message was removed meanwhile (a processor acknowledged it).
func isNotFound(err error) bool {
	var apiErr *jetstream.APIError
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return true
	}
	return errors.As(err, &apiErr) && strings.Contains(strings.ToLower(apiErr.Description), "no message found")
}
