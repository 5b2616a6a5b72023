package mention

import (
	"errors"
	"strings"
	"testing"
)

const good = `{"v":1,"platform":"twitter","id":"1893456789012345679","kind":"post","text":"@DWP my Universal Credit payment is late 😩","lang":"en","created_at":"2025-06-02T09:14:07Z","collected_at":"2025-06-02T09:20:00Z","metrics":{"likes":3},"source":{"name":"dwp-mentions","department":"dwp"},"raw":{"id":"1893456789012345679"}}`

func TestDecodeGood(t *testing.T) {
	m, err := Decode([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if m.ID != "1893456789012345679" || m.Metrics.Likes != 3 || m.Source.Department != "dwp" {
		t.Fatalf("decoded %+v", m)
	}
	if got := m.Subject(); got != "govlisten.mentions.twitter.post" {
		t.Fatalf("subject %q", got)
	}
	if !strings.HasPrefix(m.MsgID(), "twitter:1893456789012345679:") {
		t.Fatalf("msg id %q", m.MsgID())
	}
}

func TestDecodeInvalid(t *testing.T) {
	for _, tc := range []struct {
		name, in, field string
	}{
		{"no platform", strings.Replace(good, `"platform":"twitter",`, ``, 1), "platform"},
		{"unknown platform", strings.Replace(good, `"twitter"`, `"myspace"`, 1), "platform"},
		{"no id", strings.Replace(good, `"id":"1893456789012345679",`, ``, 1), "id"},
		{"empty id", strings.Replace(good, `"id":"1893456789012345679",`, `"id":"",`, 1), "id"},
		{"numeric id", strings.Replace(good, `"id":"1893456789012345679",`, `"id":1893456789012345679,`, 1), "id"},
		{"unknown kind", strings.Replace(good, `"kind":"post"`, `"kind":"story"`, 1), "kind"},
		{"bad created_at", strings.Replace(good, `"2025-06-02T09:14:07Z"`, `"yesterday"`, 1), "created_at"},
		{"bad collected_at", strings.Replace(good, `"2025-06-02T09:20:00Z"`, `"2025-13-02"`, 1), "collected_at"},
		{"missing created_at", strings.Replace(good, `"created_at":"2025-06-02T09:14:07Z",`, ``, 1), "created_at"},
		{"future version", strings.Replace(good, `"v":1`, `"v":9`, 1), "v"},
		{"invalid utf-8 text", strings.Replace(good, "late", "l\xffte", 1), "text"},
		{"invalid utf-8 author", strings.Replace(good, `"lang":"en"`, "\"lang\":\"en\",\"author_name\":\"\xc3\x28\"", 1), "author_name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode([]byte(tc.in))
			var ie *InvalidError
			if !errors.As(err, &ie) {
				t.Fatalf("want *InvalidError naming %s, got %v", tc.field, err)
			}
			if ie.Field != tc.field {
				t.Fatalf("error names %q, want %q (%v)", ie.Field, tc.field, err)
			}
		})
	}
}

func TestDecodeGarbage(t *testing.T) {
	for _, in := range []string{"", "\x00\x01\x02garbage", `{"v":1,"platform":"twitter","id":"1`, `[1,2,3]`, `null`} {
		_, err := Decode([]byte(in))
		if err == nil {
			t.Fatalf("%q decoded without error", in)
		}
	}
	if _, err := Decode([]byte(`{"v":1,"platform":"twitter","id":"1`)); !errors.Is(err, ErrUndecodable) {
		t.Fatalf("truncated JSON: %v, want ErrUndecodable", err)
	}
}

func TestMsgIDIgnoresCollectedAt(t *testing.T) {
	a, _ := Decode([]byte(good))
	b, _ := Decode([]byte(strings.Replace(good, `"2025-06-02T09:20:00Z"`, `"2025-06-03T00:00:00Z"`, 1)))
	c, _ := Decode([]byte(strings.Replace(good, `"likes":3`, `"likes":4`, 1)))
	if a.MsgID() != b.MsgID() {
		t.Fatal("re-collection of unchanged content changed the message id")
	}
	if a.MsgID() == c.MsgID() {
		t.Fatal("changed metrics kept the message id")
	}
}

func BenchmarkDecode(b *testing.B) {
	data := []byte(good)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for i := 0; i < b.N; i++ {
		if _, err := Decode(data); err != nil {
			b.Fatal(err)
		}
	}
}

// A \u escape of half a surrogate pair is no character: encoding/json and
// goccy/go-json would store U+FFFD in its place. It is refused like invalid
// UTF-8; a whole pair, and a literal backslash before "ud800", are text.
func TestDecodeSurrogateEscapes(t *testing.T) {
	for _, tc := range []struct{ name, text, want, field string }{
		{"pair", `"late \ud83d\ude29"`, "late 😩", ""},
		{"escaped backslash", `"C:\\ud800"`, `C:\ud800`, ""},
		{"lone high", `"late \ud83d"`, "", "text"},
		{"high then text", `"\ud83dx\ude29"`, "", "text"},
		{"lone low", `"\uDE29 late"`, "", "text"},
		{"high at end", `"\ud83d"`, "", "text"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := strings.Replace(good, `"@DWP my Universal Credit payment is late 😩"`, tc.text, 1)
			m, err := Decode([]byte(in))
			if tc.field == "" {
				if err != nil || m.Text != tc.want {
					t.Fatalf("got %v, %v; want text %q", m, err, tc.want)
				}
				return
			}
			var ie *InvalidError
			if !errors.As(err, &ie) || ie.Field != tc.field {
				t.Fatalf("got %v, %v; want an *InvalidError naming %s", m, err, tc.field)
			}
		})
	}
	// In raw, which is stored as the bytes sent, it is kept.
	in := strings.Replace(good, `"raw":{"id":"1893456789012345679"}`, `"raw":{"text":"\ud83d"}`, 1)
	if m, err := Decode([]byte(in)); err != nil || string(m.Raw) != `{"text":"\ud83d"}` {
		t.Fatalf("raw with a lone surrogate: %v, %v", m, err)
	}
	upper := strings.Replace(good, `"lang":"en"`, `"lang":"en","TEXT":"late \ud83d"`, 1)
	if _, err := Decode([]byte(upper)); !errors.As(err, new(*InvalidError)) {
		t.Fatalf("lone surrogate under a key in capitals: %v", err)
	}
	author := strings.Replace(good, `"lang":"en"`, `"lang":"en","author_name":"Dana \udc00"`, 1)
	var ie *InvalidError
	if _, err := Decode([]byte(author)); !errors.As(err, &ie) || ie.Field != "author_name" {
		t.Fatalf("lone surrogate in author_name: %v", err)
	}
}
