package mention

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"
)

// FuzzDecode feeds arbitrary bytes to Decode, the processors' reading of
// every message on stream MENTIONS.
//
// Properties: no panic; an error returns no record and is either an
// *InvalidError (DLQ reason "invalid") or wraps ErrUndecodable
// ("undecodable"); a record returned is valid; and it round-trips: the JSON
// a collector would publish for it (collectors.Encode uses encoding/json)
// decodes to the same record with the same message id, so a re-published
// mention is dropped as a duplicate and never stored changed.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(good))
	f.Add([]byte(`{"platform":"youtube","id":"Ugz0001","kind":"reply","parent_id":"Ugz0000","thread_id":"vid","author_name":"Siân 🏴󠁧󠁢󠁷󠁬󠁳󠁿","text":"Diolch","created_at":"2026-11-01T10:00:00+01:00","collected_at":"2026-11-01T10:00:00Z"}`))
	f.Add([]byte(`{"v":1,"platform":"facebook","id":"100000000000001_200000000000002","kind":"comment","text":"\u0000\u202e\u200d","created_at":"1970-01-01T00:00:01Z","collected_at":"2105-12-31T00:00:00Z","metrics":{"likes":18446744073709551615},"raw":{"a":[1,2,{"b":null}]}}`))
	f.Add([]byte(`{"v":1,"platform":"twitter","id":"1","kind":"post","text":"x","created_at":"1969-12-31T23:59:59Z","collected_at":"2026-11-01T00:00:00Z"}`))
	f.Add([]byte(`{"v":1,"platform":"twitter","id":"1","kind":"post","text":"\ud800","created_at":"2026-11-01T00:00:00Z","collected_at":"2026-11-01T00:00:00Z"}`))
	f.Add([]byte(`{"v":1,"platform":"twitter","id":"1","kind":"post","TEXT":"upper","text":"lower","created_at":"2026-11-01T00:00:00Z","collected_at":"2026-11-01T00:00:00Z"}`))
	f.Add([]byte(`{"v":1,"platform":"twitter","id":"1","kind":"post","text":"a","text":"b","created_at":"2026-11-01T00:00:00Z","collected_at":"2026-11-01T00:00:00Z","raw":nul}`))
	f.Add([]byte("\x00\x13\x7fGARBAGE\xff\xff"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Decode(data)
		if err != nil {
			if m != nil {
				t.Fatalf("a record with the error %v", err)
			}
			var ie *InvalidError
			if !errors.As(err, &ie) && !errors.Is(err, ErrUndecodable) {
				t.Fatalf("unclassified error %T: %v", err, err)
			}
			return
		}
		if err := m.Validate(); err != nil {
			t.Fatalf("Decode returned an invalid record: %v", err)
		}
		// The reference reading: encoding/json must not see a different
		// record in the same bytes (goccy/go-json reads them in the
		// processor).
		var ref Mention
		if json.Unmarshal(data, &ref) == nil {
			if ref.V == 0 {
				ref.V = Version
			}
			if !sameMention(&ref, m) {
				t.Fatalf("encoding/json reads\n%+v\nDecode reads\n%+v", ref, *m)
			}
		}
		wire, err := json.Marshal(m)
		if err != nil {
			t.Fatalf("a decoded record does not encode: %v", err)
		}
		back, err := Decode(wire)
		if err != nil {
			t.Fatalf("re-encoded record does not decode: %v\n%s", err, wire)
		}
		if !sameMention(m, back) {
			t.Fatalf("round trip changed the record:\n%+v\n%+v", *m, *back)
		}
		if m.MsgID() != back.MsgID() {
			t.Fatalf("round trip changed the message id: %s, %s", m.MsgID(), back.MsgID())
		}
	})
}

// sameMention compares two records field by field: times as instants,
// Raw as the same JSON value (encoding/json compacts it and escapes <, >
// and & as \u003c, \u003e and \u0026 when it writes a record).
func sameMention(a, b *Mention) bool {
	x, y := *a, *b
	if !x.CreatedAt.Equal(y.CreatedAt) || !x.CollectedAt.Equal(y.CollectedAt) {
		return false
	}
	x.CreatedAt, y.CreatedAt, x.CollectedAt, y.CollectedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if !sameJSON(x.Raw, y.Raw) {
		return false
	}
	x.Raw, y.Raw = nil, nil
	return reflect.DeepEqual(x, y)
}

func sameJSON(a, b json.RawMessage) bool {
	if bytes.Equal(compactRaw(a), compactRaw(b)) {
		return true
	}
	var va, vb any
	da, db := json.NewDecoder(bytes.NewReader(a)), json.NewDecoder(bytes.NewReader(b))
	da.UseNumber()
	db.UseNumber()
	if da.Decode(&va) != nil || db.Decode(&vb) != nil {
		return false
	}
	return reflect.DeepEqual(va, vb)
}
