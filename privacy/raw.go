package privacy

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
)

// The author fields of the platforms' JSON, by key. Every object of a raw
// document is searched, at any depth, so the replies embedded in a YouTube
// comment thread and the comments embedded in a Facebook post are covered
// with the mention's own author:
//
//	X (API v2)    author_id; the expanded user object under author (twarc2),
//	              includes.users[], and user (API v1.1): id/id_str and
//	              username/screen_name are kept as pseudonyms, the rest
//	              (name, description, location, profile image...) dropped
//	YouTube       authorDisplayName, authorChannelId{value}, authorChannelUrl,
//	              authorProfileImageUrl, authorGoogleplusProfileUrl
//	Facebook      from{id, name, picture...}: id kept as a pseudonym, the rest dropped
//
// Besides these keys, any string equal to the mention's own author id or
// handle, and any URL with one as a path segment or query value, is
// replaced by the pseudonym. References to other people — entities.mentions
// (the @handles of the text), in_reply_to_user_id — are left alone, like
// the text they mirror.

// decodeJSON parses exactly one JSON value, keeping numbers as written.
func decodeJSON(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the JSON value")
	}
	return v, nil
}

// encodeJSON writes v compactly, without escaping <, > and & (the platform
// text stays as readable as it came).
func encodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// scrubRaw pseudonymises a raw document; nil when it is not valid JSON.
func (p *Pseudonymiser) scrubRaw(raw []byte, own ownAuthor) []byte {
	v, err := decodeJSON(raw)
	if err != nil {
		return nil
	}
	out, err := encodeJSON(p.scrub(v, own))
	if err != nil {
		return nil
	}
	return out
}

func (p *Pseudonymiser) scrub(v any, own ownAuthor) any {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			switch k {
			case "author_id":
				x[k] = p.Author(scalar(val))
			case "author", "user":
				if m, ok := val.(map[string]any); ok {
					x[k] = p.user(m)
				} else {
					x[k] = p.Author(scalar(val))
				}
			case "users":
				if arr, ok := val.([]any); ok {
					for i, u := range arr {
						if m, ok := u.(map[string]any); ok {
							arr[i] = p.user(m)
						} else {
							arr[i] = p.scrub(u, own)
						}
					}
				} else {
					x[k] = p.scrub(val, own)
				}
			case "authorDisplayName":
				// YouTube's display name is the @handle for most channels
				// (stored as author_handle); anything else is a name.
				if s := scalar(val); strings.HasPrefix(s, "@") || IsPseudonym(s) {
					x[k] = p.Author(s)
				} else {
					x[k] = ""
				}
			case "authorChannelId":
				if m, ok := val.(map[string]any); ok {
					x[k] = map[string]any{"value": p.Author(scalar(m["value"]))}
				} else {
					x[k] = p.Author(scalar(val))
				}
			case "authorChannelUrl", "authorProfileImageUrl", "authorGoogleplusProfileUrl":
				x[k] = ""
			case "from":
				if m, ok := val.(map[string]any); ok {
					out := map[string]any{}
					if id := scalar(m["id"]); id != "" {
						out["id"] = p.Author(id)
					}
					x[k] = out
				} else {
					x[k] = ""
				}
			default:
				x[k] = p.scrub(val, own)
			}
		}
	case []any:
		for i := range x {
			x[i] = p.scrub(x[i], own)
		}
	case string:
		if own.is(x) {
			return p.Author(x)
		}
		if strings.HasPrefix(x, "http://") || strings.HasPrefix(x, "https://") {
			return p.scrubURL(x, "", own)
		}
	}
	return v
}

// user reduces a user object to its pseudonymised id and handle.
func (p *Pseudonymiser) user(m map[string]any) map[string]any {
	out := map[string]any{}
	if id := first(m, "id", "id_str"); id != "" {
		out["id"] = p.Author(id)
	}
	if h := first(m, "username", "screen_name"); h != "" {
		out["username"] = p.Author(h)
	}
	return out
}

func first(m map[string]any, keys ...string) string {
	for _, k := range keys {
		if s := scalar(m[k]); s != "" {
			return s
		}
	}
	return ""
}

// scalar is a string or number as text, "" for anything else.
func scalar(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	}
	return ""
}

// StripAuthor removes from a raw document everything written by the
// author isAuthor recognises (it is given author ids and handles exactly
// as found, and should normalise them; see Normalise): each array element
// that is, or contains, an object with an author field of theirs (a reply
// in a YouTube thread, a comment embedded in a Facebook post) is removed,
// text and all. References to them in other people's objects
// (in_reply_to_user_id, entities.mentions, the @handles of a text) stay.
//
// It returns the document re-encoded and how many parts were removed; out
// is nil with removed 1 when the document as a whole is theirs. An error
// means raw is not valid JSON; the caller decides what to do with it.
// Erasure uses this on mentions by other authors.
func StripAuthor(raw []byte, isAuthor func(string) bool) (out []byte, removed int, err error) {
	v, err := decodeJSON(raw)
	if err != nil {
		return nil, 0, err
	}
	s := stripper{isAuthor: isAuthor}
	nv, authored := s.strip(v)
	if authored {
		return nil, s.removed + 1, nil
	}
	if s.removed == 0 {
		return raw, 0, nil
	}
	out, err = encodeJSON(nv)
	if err != nil {
		return nil, 0, err
	}
	return out, s.removed, nil
}

type stripper struct {
	isAuthor func(string) bool
	removed  int
}

// strip returns v without the author's array elements, and whether v
// itself is theirs (an object with one of their author fields, directly or
// through a non-array member such as a YouTube comment's snippet).
func (s *stripper) strip(v any) (any, bool) {
	switch x := v.(type) {
	case map[string]any:
		authored := s.direct(x)
		for k, val := range x {
			nv, a := s.strip(val)
			x[k] = nv
			authored = authored || a
		}
		return x, authored
	case []any:
		kept := x[:0]
		for _, e := range x {
			ne, a := s.strip(e)
			if a {
				s.removed++
				continue
			}
			kept = append(kept, ne)
		}
		return kept, false
	}
	return v, false
}

// direct says whether m carries an author field of the author.
func (s *stripper) direct(m map[string]any) bool {
	is := func(v string) bool { return v != "" && s.isAuthor(v) }
	if is(scalar(m["author_id"])) {
		return true
	}
	if d := scalar(m["authorDisplayName"]); strings.HasPrefix(d, "@") && is(d) {
		return true
	}
	switch c := m["authorChannelId"].(type) {
	case map[string]any:
		if is(scalar(c["value"])) {
			return true
		}
	default:
		if is(scalar(c)) {
			return true
		}
	}
	if f, ok := m["from"].(map[string]any); ok && is(scalar(f["id"])) {
		return true
	}
	for _, k := range []string{"author", "user"} {
		if u, ok := m[k].(map[string]any); ok {
			for _, f := range []string{"id", "id_str", "username", "screen_name"} {
				if is(scalar(u[f])) {
					return true
				}
			}
		}
	}
	return false
}
