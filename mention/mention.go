// Package mention defines Mention, the record that travels on the bus from the
// collectors to the processors, with its validation, its NATS subject and the
// message id that makes re-publishing idempotent.
//
// The package is deliberately small and dependency-free: both sides of the bus
// import it, and the wire format it defines is a contract (see the field table
// in the project's DESIGN.md). Field names never change; new fields may be
// added, and a breaking change bumps Version.
package mention

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"

	"errors"
	"fmt"
	gojson "github.com/goccy/go-json"
	"strings"
	"time"
	"unicode/utf8"
)

// Version is the schema version written by this code and the highest one it
// accepts.
const Version = 1

// Platforms.
const (
	Twitter  = "twitter"
	YouTube  = "youtube"
	Facebook = "facebook"
)

// Kinds.
const (
	KindPost    = "post"
	KindComment = "comment"
	KindReply   = "reply"
)

// SubjectPrefix is the prefix of every subject of stream MENTIONS.
const SubjectPrefix = "govlisten.mentions."

// Mention is one public post, comment or reply, as a collector saw it.
// The zero value is not valid; see Validate.
type Mention struct {
	V            int       `json:"v"`
	Platform     string    `json:"platform"`
	ID           string    `json:"id"`
	Kind         string    `json:"kind"`
	ParentID     string    `json:"parent_id,omitempty"`
	ThreadID     string    `json:"thread_id,omitempty"`
	AuthorID     string    `json:"author_id,omitempty"`
	AuthorHandle string    `json:"author_handle,omitempty"`
	AuthorName   string    `json:"author_name,omitempty"`
	Text         string    `json:"text"`
	Lang         string    `json:"lang,omitempty"`
	URL          string    `json:"url,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
	CollectedAt  time.Time `json:"collected_at"`
	Metrics      Metrics   `json:"metrics"`
	Source       Source    `json:"source"`
	// Own is true when the author is one of the source's own accounts
	// (the department's channel, page or handle): the department's replies,
	// told apart from the public's.
	Own bool            `json:"own,omitempty"`
	Raw json.RawMessage `json:"raw,omitempty"`
}

// Metrics are the engagement counts the platform reported when the mention
// was collected. A count the platform does not give is zero.
type Metrics struct {
	Likes   uint64 `json:"likes,omitempty"`
	Replies uint64 `json:"replies,omitempty"`
	Shares  uint64 `json:"shares,omitempty"`
	Quotes  uint64 `json:"quotes,omitempty"`
	Views   uint64 `json:"views,omitempty"`
}

// Source names the configured source that found the mention, and the
// department it was collected for, if any.
type Source struct {
	Name       string `json:"name,omitempty"`
	Department string `json:"department,omitempty"`
}

// InvalidError says which field of a record is wrong and why.
type InvalidError struct {
	Field  string
	Reason string
}

func (e *InvalidError) Error() string { return e.Field + ": " + e.Reason }

// ErrUndecodable is wrapped by Decode when the bytes are not a JSON object of
// the record's shape (garbage, truncated JSON, wrong types).
var ErrUndecodable = errors.New("not a mention record")

func invalid(field, format string, args ...any) error {
	return &InvalidError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

var (
	platforms = map[string]bool{Twitter: true, YouTube: true, Facebook: true}
	kinds     = map[string]bool{KindPost: true, KindComment: true, KindReply: true}
	// Timestamps outside these bounds cannot be stored (ClickHouse DateTime)
	// and are certainly wrong.
	minTime = time.Date(1970, 1, 1, 0, 0, 1, 0, time.UTC)
	maxTime = time.Date(2105, 12, 31, 0, 0, 0, 0, time.UTC)
)

// Validate reports the first problem of m as an *InvalidError naming the
// field, or nil when m may be stored.
func (m *Mention) Validate() error {
	if err := m.validateShape(); err != nil {
		return err
	}
	for _, f := range []struct{ name, value string }{
		{"id", m.ID}, {"text", m.Text}, {"parent_id", m.ParentID}, {"thread_id", m.ThreadID},
		{"author_id", m.AuthorID}, {"author_handle", m.AuthorHandle}, {"author_name", m.AuthorName},
		{"lang", m.Lang}, {"url", m.URL}, {"source.name", m.Source.Name}, {"source.department", m.Source.Department},
	} {
		if !utf8.ValidString(f.value) {
			return invalid(f.name, "not valid UTF-8")
		}
	}
	return nil
}

// validateShape is Validate without the UTF-8 check of the strings, for
// Decode, which has checked the record's bytes and its escapes (a field
// decoded from valid UTF-8 without a lone surrogate escape is valid).
func (m *Mention) validateShape() error {
	switch {
	case m.V < 1 || m.V > Version:
		return invalid("v", "unsupported schema version %d (this build reads 1 to %d)", m.V, Version)
	case m.Platform == "":
		return invalid("platform", "missing")
	case !platforms[m.Platform]:
		return invalid("platform", "unknown platform %q", m.Platform)
	case m.ID == "":
		return invalid("id", "missing")
	case m.Kind == "":
		return invalid("kind", "missing")
	case !kinds[m.Kind]:
		return invalid("kind", "unknown kind %q", m.Kind)
	}
	if err := checkTime("created_at", m.CreatedAt); err != nil {
		return err
	}
	return checkTime("collected_at", m.CollectedAt)
}

func checkTime(field string, t time.Time) error {
	if t.IsZero() {
		return invalid(field, "missing")
	}
	if t.Before(minTime) || t.After(maxTime) {
		return invalid(field, "%s is outside %s..%s, what the store's DateTime holds", t.UTC().Format(time.RFC3339), minTime.Format(time.RFC3339), maxTime.Format(time.RFC3339))
	}
	return nil
}

// Decode parses one wire record and validates it. The error is an
// *InvalidError for a record of the right shape with a bad field, and wraps
// ErrUndecodable for anything else.
//
// encoding/json silently replaces invalid UTF-8 with U+FFFD, which would
// store corrupted text; Decode therefore checks the raw bytes first and names
// the field that holds them.
func Decode(data []byte) (*Mention, error) {
	if !utf8.Valid(data) {
		return nil, badUTF8Field(data)
	}
	var m Mention
	if err := gojson.Unmarshal(data, &m); err != nil {
		var te *gojson.UnmarshalTypeError
		var pe *time.ParseError
		switch {
		case errors.As(err, &te) && te.Field != "":
			return nil, invalid(te.Field, "want a JSON %s, got %s", te.Type, te.Value)
		case errors.As(err, &pe):
			return nil, timeFieldError(data, pe)
		}
		return nil, fmt.Errorf("%w: %v", ErrUndecodable, err)
	}
	if bytes.Contains(data, []byte(`\u`)) {
		if err := loneSurrogateField(data); err != nil {
			return nil, err
		}
	}
	if m.V == 0 {
		m.V = Version // a record without "v" is read as the current version
	}
	if err := m.validateShape(); err != nil {
		return nil, err
	}
	return &m, nil
}

// badUTF8Field finds the top-level field whose bytes are not valid UTF-8.
func badUTF8Field(data []byte) error {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		return fmt.Errorf("%w: not valid UTF-8 and not a JSON object", ErrUndecodable)
	}
	for _, name := range []string{"text", "id", "author_name", "author_handle", "author_id", "url", "lang", "parent_id", "thread_id", "platform", "kind", "source", "raw", "metrics"} {
		if raw, ok := fields[name]; ok && !utf8.Valid(raw) {
			return invalid(name, "not valid UTF-8")
		}
	}
	for name, raw := range fields {
		if !utf8.Valid(raw) {
			return invalid(name, "not valid UTF-8")
		}
	}
	return invalid("(key)", "not valid UTF-8")
}

// loneSurrogateField finds a field (raw aside, which is stored as the bytes
// sent) whose JSON holds a \u escape of half a UTF-16 surrogate pair. It is
// no character: decoders turn it into U+FFFD silently, which would store
// altered text, like invalid UTF-8.
func loneSurrogateField(data []byte) error {
	if !hasLoneSurrogate(data) {
		return nil
	}
	var fields map[string]json.RawMessage
	if json.Unmarshal(data, &fields) != nil {
		return nil
	}
	for _, name := range []string{"text", "id", "author_name", "author_handle", "author_id", "url", "lang", "parent_id", "thread_id", "platform", "kind", "source"} {
		for key, raw := range fields { // keys match fields case-insensitively
			if strings.EqualFold(key, name) && hasLoneSurrogate(raw) {
				return invalid(name, "holds a lone UTF-16 surrogate escape (half of a pair, not a character)")
			}
		}
	}
	return nil
}

// hasLoneSurrogate says whether JSON text b holds a \uD800-\uDFFF escape
// that is not a high surrogate followed by a low one.
func hasLoneSurrogate(b []byte) bool {
	for i := 0; i+1 < len(b); i++ {
		if b[i] != '\\' {
			continue
		}
		r, ok := hex4(b, i+2)
		if b[i+1] != 'u' || !ok {
			i++ // skip the escaped character (it may be a backslash)
			continue
		}
		switch {
		case r >= 0xDC00 && r <= 0xDFFF:
			return true
		case r >= 0xD800 && r <= 0xDBFF:
			lo, ok := hex4(b, i+8)
			if i+7 >= len(b) || b[i+6] != '\\' || b[i+7] != 'u' || !ok || lo < 0xDC00 || lo > 0xDFFF {
				return true
			}
			i += 11
		default:
			i += 5
		}
	}
	return false
}

// hex4 reads the four hex digits at b[i:].
func hex4(b []byte, i int) (rune, bool) {
	if i < 0 || i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case '0' <= c && c <= '9':
			r = r<<4 | rune(c-'0')
		case 'a' <= c && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case 'A' <= c && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// timeFieldError names which timestamp did not parse.
func timeFieldError(data []byte, pe *time.ParseError) error {
	var ts struct {
		CreatedAt   json.RawMessage `json:"created_at"`
		CollectedAt json.RawMessage `json:"collected_at"`
	}
	_ = json.Unmarshal(data, &ts)
	field := "created_at"
	var t time.Time
	if json.Unmarshal(ts.CreatedAt, &t) == nil {
		field = "collected_at"
	}
	return invalid(field, "not an RFC 3339 timestamp: %q", pe.Value)
}

// Subject is the NATS subject the mention is published on.
func (m *Mention) Subject() string {
	return SubjectPrefix + m.Platform + "." + m.Kind
}

// MsgID is the Nats-Msg-Id header value: platform, id and a hash of the
// content. JetStream drops a re-send of identical content inside the stream's
// duplicate window; a re-collected mention whose text or metrics changed gets
// a new id and replaces the stored row downstream.
func (m *Mention) MsgID() string {
	return m.Platform + ":" + m.ID + ":" + m.ContentHash()
}

// ContentHash is a short hex digest of everything in m except CollectedAt,
// which changes on every collection without changing the mention.
func (m *Mention) ContentHash() string {
	c := *m
	c.CollectedAt = time.Time{}
	c.Raw = compactRaw(c.Raw)
	b, _ := json.Marshal(&c)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

func compactRaw(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 {
		return raw
	}
	var buf bytes.Buffer
	if json.Compact(&buf, raw) != nil {
		return raw
	}
	return buf.Bytes()
}

// Normalize fills what a producer may leave implicit: the schema version,
// and UTC timestamps.
func (m *Mention) Normalize() {
	if m.V == 0 {
		m.V = Version
	}
	m.CreatedAt = m.CreatedAt.UTC()
	m.CollectedAt = m.CollectedAt.UTC()
}
