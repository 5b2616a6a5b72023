package twitter

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/govlisten/govlisten/collectors"
	"github.com/govlisten/govlisten/config"
	"github.com/govlisten/govlisten/mention"
)

// ResponsePage is one X API v2 response page mapped to mentions: a page of
// GET /2/tweets/search/recent or GET /2/users/:id/mentions, or one line of
// twarc2 output (twarc2 writes the API's pages as they came).
type ResponsePage struct {
	// Mentions in the order of data[] (newest first for both endpoints).
	Mentions []*mention.Mention
	// NextToken is meta.next_token; empty on the last page.
	NextToken string
	// NewestID is the largest post id in data[] (the raw ids, not the
	// Mention ids an edit maps to), compared numerically; empty when data[]
	// is. It is what since_id polling advances to.
	NewestID string
	// ResultCount is meta.result_count.
	ResultCount int
	// Errors are the partial errors of a 200 (a suspended author, a deleted
	// referenced post). The data is kept; the caller logs them.
	Errors []PartialError
}

// PartialError is one item of errors[] in a successful response.
type PartialError struct {
	Title        string `json:"title"`
	Detail       string `json:"detail"`
	Type         string `json:"type"`
	ResourceType string `json:"resource_type"`
	ResourceID   string `json:"resource_id"`
	Parameter    string `json:"parameter"`
	Value        string `json:"value"`
}

// wirePage is the response envelope. Items stay raw: each is decoded on
// its own so that Mention.Raw holds the exact bytes the API sent.
type wirePage struct {
	Data     []json.RawMessage `json:"data"`
	Includes struct {
		Users []wireUser `json:"users"`
	} `json:"includes"`
	Errors []wirePartialError `json:"errors"`
	Meta   *struct {
		ResultCount int    `json:"result_count"`
		NextToken   string `json:"next_token"`
	} `json:"meta"`
	// A problem object (a non-2xx body) has these instead of data/meta.
	Title  string `json:"title"`
	Detail string `json:"detail"`
}

type wireUser struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Username string `json:"username"`
}

// wirePartialError tolerates a non-string value (the docs show strings,
// but a partial error must never make a page unreadable).
type wirePartialError struct {
	PartialError
	Value json.RawMessage `json:"value"`
}

type wireTweet struct {
	ID               string   `json:"id"`
	Text             string   `json:"text"`
	EditHistory      []string `json:"edit_history_tweet_ids"`
	AuthorID         string   `json:"author_id"`
	CreatedAt        string   `json:"created_at"`
	ConversationID   string   `json:"conversation_id"`
	Lang             string   `json:"lang"`
	ReferencedTweets []struct {
		Type string `json:"type"`
		ID   string `json:"id"`
	} `json:"referenced_tweets"`
	PublicMetrics *struct {
		RetweetCount    uint64 `json:"retweet_count"`
		ReplyCount      uint64 `json:"reply_count"`
		LikeCount       uint64 `json:"like_count"`
		QuoteCount      uint64 `json:"quote_count"`
		ImpressionCount uint64 `json:"impression_count"`
	} `json:"public_metrics"`
	NoteTweet *struct {
		Text string `json:"text"`
	} `json:"note_tweet"`
}

// twitterEpochMs is the Unix time in milliseconds that X snowflake ids
// count from (id >> 22 is milliseconds since it).
const twitterEpochMs = 1288834974657

// MapResponse maps one raw X API v2 page (the response body of recent
// search or the mentions timeline, or one twarc2 output line) to mentions.
// It is pure: the collector and `govlisten import --format twitter-v2` use
// it alike.
//
// The mapping is faithful and filters nothing: retweets, replies and the
// source's own posts are all mapped (Own marks the latter). Long posts take
// note_tweet.text; an edited post takes the first id of its edit history as
// its Mention ID (so the newest version replaces the original downstream)
// and keeps its own, newest, text; its URL is the permalink of the version
// mapped. X escapes &, < and > in post text as HTML entities; the mapping
// turns them back into the characters.
//
// A page without data[] (nothing matched, or only errors[] such as the
// mentions timeline's "user not found") maps to no mentions. Input that is
// not a page (not a JSON object, a problem object, an item without a
// numeric id or with an unreadable field) returns an error and no mentions:
// a page is never mapped in part.
func MapResponse(body []byte, src config.Source, collectedAt time.Time) (*ResponsePage, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, errors.New("not a JSON object")
	}
	var wp wirePage
	if err := json.Unmarshal(trimmed, &wp); err != nil {
		return nil, fmt.Errorf("decoding page: %w", err)
	}
	if wp.Data == nil && wp.Meta == nil {
		switch {
		case wp.Title != "": // a problem object (a non-2xx body)
			return nil, fmt.Errorf("an error response, not a page: %s: %s", wp.Title, wp.Detail)
		case len(wp.Errors) == 0:
			return nil, errors.New("neither data nor meta: not an X API v2 page")
		}
	}
	users := make(map[string]wireUser, len(wp.Includes.Users))
	for _, u := range wp.Includes.Users {
		users[u.ID] = u
	}
	own := newOwnSet(src.Own)
	page := &ResponsePage{Mentions: make([]*mention.Mention, 0, len(wp.Data))}
	if wp.Meta != nil {
		page.NextToken = wp.Meta.NextToken
		page.ResultCount = wp.Meta.ResultCount
	}
	for _, e := range wp.Errors {
		pe := e.PartialError
		pe.Value = rawString(e.Value)
		page.Errors = append(page.Errors, pe)
	}
	collectedAt = collectedAt.UTC()
	for i, raw := range wp.Data {
		m, id, err := mapTweet(raw, users, own, src, collectedAt)
		if err != nil {
			return nil, fmt.Errorf("data[%d]: %w", i, err)
		}
		if page.NewestID == "" || collectors.CompareIDs(id, page.NewestID) > 0 {
			page.NewestID = id
		}
		page.Mentions = append(page.Mentions, m)
	}
	return page, nil
}

// mapTweet maps one item of data[] and returns it with its own post id.
func mapTweet(raw json.RawMessage, users map[string]wireUser, own ownSet, src config.Source, collectedAt time.Time) (*mention.Mention, string, error) {
	var t wireTweet
	if err := json.Unmarshal(raw, &t); err != nil {
		return nil, "", fmt.Errorf("decoding post: %w", err)
	}
	if !isID(t.ID) {
		return nil, "", fmt.Errorf("post id %q is not a numeric id", t.ID)
	}
	created, err := createdAt(t.CreatedAt, t.ID)
	if err != nil {
		return nil, "", fmt.Errorf("post %s: %w", t.ID, err)
	}
	m := &mention.Mention{
		V:           mention.Version,
		Platform:    mention.Twitter,
		ID:          t.ID,
		Kind:        mention.KindPost,
		ThreadID:    t.ConversationID,
		AuthorID:    t.AuthorID,
		Text:        unescapeText(t.Text),
		Lang:        t.Lang,
		CreatedAt:   created,
		CollectedAt: collectedAt,
		Source:      mention.Source{Name: src.Name, Department: src.Department},
		Raw:         raw,
	}
	if t.NoteTweet != nil && t.NoteTweet.Text != "" {
		m.Text = unescapeText(t.NoteTweet.Text)
	}
	if len(t.EditHistory) > 1 && isID(t.EditHistory[0]) {
		m.ID = t.EditHistory[0]
	}
	for _, r := range t.ReferencedTweets {
		if r.Type == "replied_to" {
			m.Kind = mention.KindReply
			m.ParentID = r.ID
			break
		}
	}
	if pm := t.PublicMetrics; pm != nil {
		m.Metrics = mention.Metrics{
			Likes: pm.LikeCount, Replies: pm.ReplyCount, Shares: pm.RetweetCount,
			Quotes: pm.QuoteCount, Views: pm.ImpressionCount,
		}
	}
	if u, ok := users[t.AuthorID]; ok && t.AuthorID != "" {
		m.AuthorHandle, m.AuthorName = u.Username, u.Name
	}
	if m.AuthorHandle != "" {
		m.URL = "https://x.com/" + m.AuthorHandle + "/status/" + t.ID
	} else {
		m.URL = "https://x.com/i/web/status/" + t.ID
	}
	m.Own = own.has(m.AuthorID) || own.has(m.AuthorHandle)
	if err := m.Validate(); err != nil {
		return nil, "", fmt.Errorf("post %s: %w", t.ID, err)
	}
	return m, t.ID, nil
}

// createdAt parses created_at ("2025-06-02T09:14:07.000Z"). A page fetched
// without tweet.fields=created_at has none; the time is then read from the
// snowflake id, which carries it to the millisecond.
func createdAt(s, id string) (time.Time, error) {
	if s != "" {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return time.Time{}, fmt.Errorf("created_at: %w", err)
		}
		return t.UTC(), nil
	}
	if t, ok := snowflakeTime(id); ok {
		return t, nil
	}
	return time.Time{}, errors.New("no created_at, and the id is not a snowflake")
}

// snowflakeTime is the creation time encoded in an X snowflake id. Ids from
// before snowflakes (2010) report false.
func snowflakeTime(id string) (time.Time, bool) {
	if !isID(id) || len(id) < 16 || len(id) > 19 {
		return time.Time{}, false
	}
	var n uint64
	for i := 0; i < len(id); i++ {
		n = n*10 + uint64(id[i]-'0')
	}
	if n>>63 != 0 { // a 19-digit number above 2^63: not a snowflake
		return time.Time{}, false
	}
	return time.UnixMilli(int64(n>>22) + twitterEpochMs).UTC(), true
}

// isID reports whether s is a numeric id of at most 20 digits.
func isID(s string) bool {
	if s == "" || len(s) > 20 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// textUnescaper undoes X's escaping of post text: X writes &, < and > as
// &amp;, &lt; and &gt; (and nothing else), so one left-to-right pass is
// exact: a user who typed "&lt;" arrives as "&amp;lt;" and leaves as "&lt;".
var textUnescaper = strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">")

func unescapeText(s string) string {
	if !strings.Contains(s, "&") {
		return s
	}
	return textUnescaper.Replace(s)
}

// ownSet is a source's Own list normalised: ids and handles, compared
// case-insensitively, without a leading @.
type ownSet map[string]bool

func newOwnSet(own []string) ownSet {
	if len(own) == 0 {
		return nil
	}
	set := make(ownSet, len(own))
	for _, o := range own {
		if o = normalizeAccount(o); o != "" {
			set[o] = true
		}
	}
	return set
}

func (s ownSet) has(account string) bool {
	return account != "" && s[normalizeAccount(account)]
}

func normalizeAccount(s string) string {
	return strings.ToLower(strings.TrimPrefix(strings.TrimSpace(s), "@"))
}

// rawString renders a JSON value for a log line: a string without quotes,
// anything else as written.
func rawString(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}
