package facebook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/govlisten/govlisten/config"
	"github.com/govlisten/govlisten/mention"
)

// TimeLayout is the layout of Graph timestamps ("2025-06-03T07:41:09+0000").
// time.RFC3339, and so time.Time's JSON decoding, rejects the "+0000" offset.
const TimeLayout = "2006-01-02T15:04:05-0700"

// MapPosts maps one page of /{page-id}/feed or /{page-id}/tagged, as the API
// sent it, to mentions of kind post. It returns the page's after cursor and
// whether the page has a next one (paging.next present). Items without an id
// or a created_time are skipped (the API withholds them under some
// permissions); anything that does not parse is an error and no mention of
// the page is returned. Each mention's Raw is the item's bytes from body.
//
// The collector and the importer of archived Graph responses both use it.
func MapPosts(body []byte, src config.Source, collectedAt time.Time) (mentions []*mention.Mention, after string, next bool, err error) {
	r, err := mapPosts(body, src, collectedAt)
	if err != nil {
		return nil, "", false, err
	}
	return r.mentions, r.after, r.next, nil
}

// MapComments maps one page of /{post-id}/comments (filter=stream: replies
// included, told apart by their parent) to mentions of kind comment or reply
// in the thread of postID. Results and errors are as for MapPosts.
func MapComments(body []byte, postID string, src config.Source, collectedAt time.Time) (mentions []*mention.Mention, after string, next bool, err error) {
	r, err := mapComments(body, postID, src, collectedAt)
	if err != nil {
		return nil, "", false, err
	}
	return r.mentions, r.after, r.next, nil
}

// pageResult is a mapped page with what the collector needs beyond the
// exported functions' results.
type pageResult struct {
	mentions []*mention.Mention
	after    string
	next     bool
	// nextQuery holds the parameters of paging.next without the token, for
	// edges that page by time (until, __paging_token) instead of cursors.
	nextQuery url.Values
	// skipped are items that cannot become a mention, with the reason.
	skipped []string
	// quiet are posts whose comments summary says they have none.
	quiet map[string]bool
}

// envelope is a Graph edge response.
type envelope struct {
	Data   *[]json.RawMessage `json:"data"`
	Paging *struct {
		Cursors *struct {
			Before string `json:"before"`
			After  string `json:"after"`
		} `json:"cursors"`
		Next string `json:"next"`
	} `json:"paging"`
}

type graphUser struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// summaryEdge is a connection asked for as name.summary(true).limit(0).
type summaryEdge struct {
	Summary *struct {
		TotalCount *uint64 `json:"total_count"`
	} `json:"summary"`
}

func (s *summaryEdge) count() (uint64, bool) {
	if s == nil || s.Summary == nil || s.Summary.TotalCount == nil {
		return 0, false
	}
	return *s.Summary.TotalCount, true
}

type graphPost struct {
	ID           string     `json:"id"`
	Message      string     `json:"message"`
	CreatedTime  graphTime  `json:"created_time"`
	UpdatedTime  graphTime  `json:"updated_time"`
	PermalinkURL string     `json:"permalink_url"`
	From         *graphUser `json:"from"`
	Shares       *struct {
		Count uint64 `json:"count"`
	} `json:"shares"`
	Comments  *summaryEdge `json:"comments"`
	Reactions *summaryEdge `json:"reactions"`
}

type graphComment struct {
	ID           string     `json:"id"`
	Message      string     `json:"message"`
	CreatedTime  graphTime  `json:"created_time"`
	From         *graphUser `json:"from"`
	LikeCount    uint64     `json:"like_count"`
	CommentCount uint64     `json:"comment_count"`
	PermalinkURL string     `json:"permalink_url"`
	Parent       *struct {
		ID string `json:"id"`
	} `json:"parent"`
}

// graphTime reads a Graph timestamp: TimeLayout, RFC 3339, or Unix seconds
// (date_format=U). null or absent is the zero time.
type graphTime struct{ time.Time }

func (t *graphTime) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	if len(b) > 0 && b[0] != '"' {
		sec, err := strconv.ParseInt(string(b), 10, 64)
		if err != nil {
			return fmt.Errorf("timestamp %s is neither a string nor Unix seconds", b)
		}
		t.Time = time.Unix(sec, 0).UTC()
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	for _, layout := range []string{TimeLayout, time.RFC3339} {
		if v, err := time.Parse(layout, s); err == nil {
			t.Time = v.UTC()
			return nil
		}
	}
	return fmt.Errorf("timestamp %q is not in layout %s", s, TimeLayout)
}

// decodePage checks and decodes the envelope of an edge response.
func decodePage(body []byte) (*envelope, *pageResult, error) {
	if !utf8.Valid(body) {
		return nil, nil, errors.New("response is not valid UTF-8")
	}
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, nil, fmt.Errorf("decoding page: %w", err)
	}
	if env.Data == nil {
		return nil, nil, errors.New(`page has no "data" array`)
	}
	r := &pageResult{}
	if env.Paging != nil {
		if env.Paging.Cursors != nil {
			r.after = env.Paging.Cursors.After
		}
		if env.Paging.Next != "" {
			r.next = true
			r.nextQuery = nextQuery(env.Paging.Next)
		}
	}
	return &env, r, nil
}

// nextQuery returns the query of a paging.next URL without the access token
// or its proof, or nil. The URL itself (host, token) is never used.
func nextQuery(next string) url.Values {
	u, err := url.Parse(next)
	if err != nil {
		return nil
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return nil
	}
	q.Del("access_token")
	q.Del("appsecret_proof")
	return q
}

func mapPosts(body []byte, src config.Source, collectedAt time.Time) (*pageResult, error) {
	env, r, err := decodePage(body)
	if err != nil {
		return nil, err
	}
	for i, raw := range *env.Data {
		var p graphPost
		if err := json.Unmarshal(raw, &p); err != nil {
			return nil, fmt.Errorf("post %d: %w", i, err)
		}
		switch {
		case p.ID == "":
			r.skipped = append(r.skipped, fmt.Sprintf("post %d has no id", i))
			continue
		case p.CreatedTime.IsZero():
			r.skipped = append(r.skipped, fmt.Sprintf("post %s has no created_time", p.ID))
			continue
		}
		m := newMention(p.ID, mention.KindPost, p.Message, p.From, p.CreatedTime.Time, raw, src, collectedAt)
		m.ThreadID = p.ID
		m.URL = p.PermalinkURL
		m.Metrics.Likes, _ = p.Reactions.count()
		var known bool
		m.Metrics.Replies, known = p.Comments.count()
		if known && m.Metrics.Replies == 0 {
			if r.quiet == nil {
				r.quiet = map[string]bool{}
			}
			r.quiet[p.ID] = true
		}
		if p.Shares != nil {
			m.Metrics.Shares = p.Shares.Count
		}
		if err := m.Validate(); err != nil {
			return nil, fmt.Errorf("post %s: %w", p.ID, err)
		}
		r.mentions = append(r.mentions, m)
	}
	return r, nil
}

func mapComments(body []byte, postID string, src config.Source, collectedAt time.Time) (*pageResult, error) {
	env, r, err := decodePage(body)
	if err != nil {
		return nil, err
	}
	for i, raw := range *env.Data {
		var c graphComment
		if err := json.Unmarshal(raw, &c); err != nil {
			return nil, fmt.Errorf("comment %d of %s: %w", i, postID, err)
		}
		switch {
		case c.ID == "":
			r.skipped = append(r.skipped, fmt.Sprintf("comment %d of post %s has no id", i, postID))
			continue
		case c.CreatedTime.IsZero():
			r.skipped = append(r.skipped, fmt.Sprintf("comment %s has no created_time", c.ID))
			continue
		}
		kind, parent := mention.KindComment, postID
		if c.Parent != nil && c.Parent.ID != "" {
			kind, parent = mention.KindReply, c.Parent.ID
		}
		m := newMention(c.ID, kind, c.Message, c.From, c.CreatedTime.Time, raw, src, collectedAt)
		m.ParentID = parent
		m.ThreadID = postID
		m.URL = c.PermalinkURL
		m.Metrics.Likes = c.LikeCount
		m.Metrics.Replies = c.CommentCount
		if err := m.Validate(); err != nil {
			return nil, fmt.Errorf("comment %s: %w", c.ID, err)
		}
		r.mentions = append(r.mentions, m)
	}
	return r, nil
}

func newMention(id, kind, text string, from *graphUser, created time.Time, raw json.RawMessage, src config.Source, collectedAt time.Time) *mention.Mention {
	m := &mention.Mention{
		V:           mention.Version,
		Platform:    mention.Facebook,
		ID:          id,
		Kind:        kind,
		Text:        text,
		CreatedAt:   created.UTC(),
		CollectedAt: collectedAt.UTC(),
		Source:      mention.Source{Name: src.Name, Department: src.Department},
		Raw:         bytes.Clone(raw),
	}
	if from != nil {
		m.AuthorID, m.AuthorName = from.ID, from.Name
		m.Own = m.AuthorID != "" && (m.AuthorID == src.PageID || slices.Contains(src.Own, m.AuthorID))
	}
	return m
}
