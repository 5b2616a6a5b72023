package twitter

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// invalidParam is a 400 for one parameter.
type invalidParam struct {
	param, value, message string
}

func (e *invalidParam) Error() string { return e.message }

var (
	simTweetFields = set("article", "attachments", "author_id", "card_uri", "community_id", "context_annotations",
		"conversation_id", "created_at", "display_text_range", "edit_controls", "edit_history_tweet_ids", "entities",
		"geo", "id", "in_reply_to_user_id", "lang", "media_metadata", "non_public_metrics", "note_tweet",
		"organic_metrics", "possibly_sensitive", "promoted_metrics", "public_metrics", "referenced_tweets",
		"reply_settings", "scopes", "source", "text", "withheld")
	simUserFields = set("affiliation", "connection_status", "created_at", "description", "entities", "id", "location",
		"most_recent_tweet_id", "name", "pinned_tweet_id", "profile_banner_url", "profile_image_url", "protected",
		"public_metrics", "receives_your_dm", "subscription_type", "url", "username", "verified", "verified_type", "withheld")
	simExpansions = set("attachments.media_keys", "attachments.poll_ids", "author_id", "edit_history_tweet_ids",
		"entities.mentions.username", "geo.place_id", "in_reply_to_user_id", "referenced_tweets.id",
		"referenced_tweets.id.author_id")
)

func set(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// parse validates the request as X does and places it in the stream.
func (s *Simulator) parse(r *http.Request, kind, userID string, now time.Time) (*simRequest, error) {
	v := r.URL.Query()
	req := &simRequest{kind: kind, userID: userID, max: 10}
	lists := []struct {
		param string
		known map[string]bool
		into  *map[string]bool
	}{
		{"tweet.fields", simTweetFields, &req.tweetFields},
		{"user.fields", simUserFields, &req.userFields},
		{"expansions", simExpansions, nil},
	}
	for _, l := range lists {
		got := map[string]bool{}
		if raw := v.Get(l.param); raw != "" {
			for _, f := range strings.Split(raw, ",") {
				if !l.known[f] {
					return nil, &invalidParam{l.param, f, fmt.Sprintf("The `%s` query parameter value [%s] is not one of the allowed values", l.param, f)}
				}
				got[f] = true
			}
		}
		if l.into != nil {
			*l.into = got
		} else {
			req.authorExp = got["author_id"]
		}
	}
	minResults := 10
	if kind == kindMentions {
		minResults = 5
		if !isID(userID) {
			return nil, &invalidParam{"id", userID, fmt.Sprintf("The `id` query parameter value [%s] does not match ^[0-9]{1,19}$", userID)}
		}
		if _, ok := simDepartmentByID(userID); !ok {
			req.unknownUser = true
		}
	} else {
		q := v.Get("query")
		if q == "" || utf8.RuneCountInString(q) > 512 {
			return nil, &invalidParam{"query", q, "The `query` query parameter value must be between 1 and 512 characters"}
		}
		req.noRetweets = strings.Contains(q, "-is:retweet")
		req.noReplies = strings.Contains(q, "-is:reply")
		if so := v.Get("sort_order"); so != "" && so != "recency" && so != "relevancy" {
			return nil, &invalidParam{"sort_order", so, fmt.Sprintf("The `sort_order` query parameter value [%s] is not one of [recency,relevancy]", so)}
		}
	}
	if mr := v.Get("max_results"); mr != "" {
		n, err := strconv.Atoi(mr)
		if err != nil || n < minResults || n > 100 {
			return nil, &invalidParam{"max_results", mr, fmt.Sprintf("The `max_results` query parameter value [%s] is not between %d and 100", mr, minResults)}
		}
		req.max = n
	}
	token := v.Get("pagination_token")
	if kind == kindSearch && v.Get("next_token") != "" {
		token = v.Get("next_token")
	}
	floor := now.Add(-searchWindow)
	// The parameters are validated on every page; the bounds come from
	// the first page and ride in the token.
	bounds := struct {
		since, until uint64
		start, end   time.Time
	}{}
	for _, p := range []struct {
		name string
		into *uint64
	}{{"since_id", &bounds.since}, {"until_id", &bounds.until}} {
		raw := v.Get(p.name)
		if raw == "" {
			continue
		}
		n, err := strconv.ParseUint(raw, 10, 64)
		if err != nil {
			return nil, &invalidParam{p.name, raw, fmt.Sprintf("The `%s` query parameter value [%s] is not a valid Tweet ID", p.name, raw)}
		}
		if kind == kindSearch && p.name == "since_id" {
			if t, ok := snowflakeTime(raw); ok && t.Before(floor) {
				return nil, &invalidParam{p.name, raw, fmt.Sprintf("Invalid 'since_id':'%s'. 'since_id' must be a tweet id created after %s", raw, floor.UTC().Format(time.RFC3339))}
			}
		}
		*p.into = n
	}
	for _, p := range []struct {
		name string
		into *time.Time
	}{{"start_time", &bounds.start}, {"end_time", &bounds.end}} {
		raw := v.Get(p.name)
		if raw == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, raw)
		if err != nil {
			return nil, &invalidParam{p.name, raw, fmt.Sprintf("Invalid '%s':'%s'. '%s' must be of the form YYYY-MM-DDTHH:mm:ssZ", p.name, raw, p.name)}
		}
		if kind == kindSearch && p.name == "start_time" && t.Before(floor) {
			return nil, &invalidParam{p.name, raw, fmt.Sprintf("Invalid 'start_time':'%s'. 'start_time' must be on or after %s", raw, floor.UTC().Format(time.RFC3339))}
		}
		*p.into = t
	}
	if token != "" {
		cur, ok := s.decodeToken(token)
		if !ok {
			name := "pagination_token"
			if kind == kindSearch {
				name = "next_token"
			}
			return nil, &invalidParam{name, token, fmt.Sprintf("The `%s` query parameter value [%s] is not valid", name, token)}
		}
		req.cur, req.token = cur, token
		return req, nil
	}
	n := s.count(now)
	cur := simCursor{asOf: now.UnixMilli(), hi: n}
	if kind == kindSearch {
		cur.lo = s.firstAt(floor, n)
	}
	if bounds.since != 0 {
		cur.lo = max(cur.lo, s.firstAfterID(bounds.since, n))
	}
	if !bounds.start.IsZero() {
		cur.lo = max(cur.lo, s.firstAt(bounds.start, n))
	}
	if bounds.until != 0 {
		cur.hi = min(cur.hi, s.firstAfterID(bounds.until-1, n))
	}
	if !bounds.end.IsZero() {
		cur.hi = min(cur.hi, s.firstAt(bounds.end, n))
	}
	req.cur = cur
	return req, nil
}

// visible reports whether post p is served to req.
func (req *simRequest) visible(p *simPost, asOf time.Time) bool {
	switch {
	case !p.deletedAt.IsZero() && !asOf.Before(p.deletedAt):
		return false
	case req.kind == kindMentions:
		return p.mentionsUser(req.userID)
	case req.noRetweets && p.retweetOf != 0, req.noReplies && p.replyTo != 0:
		return false
	}
	return true
}

// page renders the page req asks for and returns the Mention ids it holds.
func (s *Simulator) page(req *simRequest) ([]byte, []string) {
	if req.unknownUser {
		return mustJSON(map[string]any{"errors": []map[string]any{{
			"value": req.userID, "detail": fmt.Sprintf("Could not find user with id: [%s].", req.userID),
			"title": "Not Found Error", "resource_type": "user", "parameter": "id", "resource_id": req.userID,
			"type": "https://api.twitter.com/2/problems/resource-not-found",
		}}}), nil
	}
	cur := req.cur
	asOf := time.UnixMilli(cur.asOf)
	limit := req.max
	if req.kind == kindMentions {
		limit = min(limit, int(mentionsCap-cur.served))
	}
	cache := genCache{}
	var posts []*simPost
	i := cur.hi - 1
	for ; i >= cur.lo && len(posts) < limit; i-- {
		if p := s.post(i, cache); req.visible(p, asOf) {
			posts = append(posts, p)
		}
		if len(cache) > 4096 {
			clear(cache)
		}
	}
	more := false
	if len(posts) == limit && (req.kind != kindMentions || cur.served+int64(len(posts)) < mentionsCap) {
		for j := i; j >= cur.lo; j-- {
			if req.visible(s.post(j, cache), asOf) {
				more = true
				break
			}
		}
	}
	out := simResponse{Meta: simMeta{ResultCount: len(posts)}}
	ids := make([]string, 0, len(posts))
	users := map[string]bool{}
	for _, p := range posts {
		out.Data = append(out.Data, s.wire(p, req))
		ids = append(ids, p.mappedID())
		if !req.authorExp {
			continue
		}
		if p.authorGone {
			out.Errors = append(out.Errors, simPartialError{
				Value: p.author.ID, Detail: fmt.Sprintf("Could not find user with author_id: [%s].", p.author.ID),
				Title: "Not Found Error", ResourceType: "user", Parameter: "author_id", ResourceID: p.author.ID,
				Type: "https://api.twitter.com/2/problems/resource-not-found",
			})
		} else if !users[p.author.ID] {
			users[p.author.ID] = true
			out.Includes = append(out.Includes, s.wireUser(p, req))
		}
	}
	if len(posts) > 0 {
		out.Meta.NewestID = strconv.FormatUint(posts[0].id, 10)
		out.Meta.OldestID = strconv.FormatUint(posts[len(posts)-1].id, 10)
	}
	if more {
		next := cur
		next.hi = posts[len(posts)-1].idx
		next.served += int64(len(posts))
		next.hop = 0
		out.Meta.NextToken = s.encodeToken(next)
	}
	return out.encode(), ids
}

// withNextToken rewrites a page's meta.next_token.
func (s *Simulator) withNextToken(body []byte, token string) []byte {
	var page map[string]json.RawMessage
	if json.Unmarshal(body, &page) != nil {
		return body
	}
	var meta map[string]any
	_ = json.Unmarshal(page["meta"], &meta)
	if meta == nil {
		meta = map[string]any{}
	}
	meta["next_token"] = token
	page["meta"] = mustJSON(meta)
	return mustJSON(page)
}

// Wire shapes. Optional fields are pointers or omitempty so that only what
// was asked for appears.
type simResponse struct {
	Data     []simTweet
	Includes []simWireUser
	Errors   []simPartialError
	Meta     simMeta
}

func (r *simResponse) encode() []byte {
	type includes struct {
		Users []simWireUser `json:"users,omitempty"`
	}
	var out struct {
		Data     []simTweet        `json:"data,omitempty"`
		Includes *includes         `json:"includes,omitempty"`
		Errors   []simPartialError `json:"errors,omitempty"`
		Meta     simMeta           `json:"meta"`
	}
	out.Data, out.Errors, out.Meta = r.Data, r.Errors, r.Meta
	if len(r.Includes) > 0 {
		out.Includes = &includes{Users: r.Includes}
	}
	return mustJSON(out)
}

type simMeta struct {
	NewestID    string `json:"newest_id,omitempty"`
	OldestID    string `json:"oldest_id,omitempty"`
	ResultCount int    `json:"result_count"`
	NextToken   string `json:"next_token,omitempty"`
}

type simPartialError struct {
	Value        string `json:"value"`
	Detail       string `json:"detail"`
	Title        string `json:"title"`
	ResourceType string `json:"resource_type"`
	Parameter    string `json:"parameter"`
	ResourceID   string `json:"resource_id"`
	Type         string `json:"type"`
}

type simTweet struct {
	ID               string          `json:"id"`
	Text             string          `json:"text"`
	EditHistory      []string        `json:"edit_history_tweet_ids"`
	AuthorID         string          `json:"author_id,omitempty"`
	CreatedAt        string          `json:"created_at,omitempty"`
	ConversationID   string          `json:"conversation_id,omitempty"`
	InReplyToUserID  string          `json:"in_reply_to_user_id,omitempty"`
	Lang             string          `json:"lang,omitempty"`
	PublicMetrics    *simMetrics     `json:"public_metrics,omitempty"`
	ReferencedTweets []simRef        `json:"referenced_tweets,omitempty"`
	Entities         *simEntities    `json:"entities,omitempty"`
	NoteTweet        *simNote        `json:"note_tweet,omitempty"`
	EditControls     *simEditControl `json:"edit_controls,omitempty"`
}

type simMetrics struct {
	RetweetCount    int `json:"retweet_count"`
	ReplyCount      int `json:"reply_count"`
	LikeCount       int `json:"like_count"`
	QuoteCount      int `json:"quote_count"`
	BookmarkCount   int `json:"bookmark_count"`
	ImpressionCount int `json:"impression_count"`
}

type simRef struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

type simEntities struct {
	Mentions []simWireMention `json:"mentions,omitempty"`
	Hashtags []simWireTag     `json:"hashtags,omitempty"`
}

type simWireMention struct {
	Start    int    `json:"start"`
	End      int    `json:"end"`
	Username string `json:"username"`
	ID       string `json:"id"`
}

type simWireTag struct {
	Start int    `json:"start"`
	End   int    `json:"end"`
	Tag   string `json:"tag"`
}

type simNote struct {
	Text string `json:"text"`
}

type simEditControl struct {
	EditsRemaining int    `json:"edits_remaining"`
	IsEditEligible bool   `json:"is_edit_eligible"`
	EditableUntil  string `json:"editable_until"`
}

type simWireUser struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Username  string `json:"username"`
	CreatedAt string `json:"created_at,omitempty"`
	Verified  *bool  `json:"verified,omitempty"`
}

// htmlEscaper is X's escaping of post text.
var htmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

const xTime = "2006-01-02T15:04:05.000Z"

// wire renders post p with the fields req asked for.
func (s *Simulator) wire(p *simPost, req *simRequest) simTweet {
	f := req.tweetFields
	id := strconv.FormatUint(p.id, 10)
	t := simTweet{ID: id, EditHistory: []string{id}}
	if p.editOf != 0 {
		t.EditHistory = []string{strconv.FormatUint(p.editOf, 10), id}
	}
	text := p.text
	long := utf8.RuneCountInString(text) > 280
	if long {
		text = string([]rune(text)[:277]) + "…"
	}
	t.Text = htmlEscaper.Replace(text)
	if long && f["note_tweet"] {
		t.NoteTweet = &simNote{Text: htmlEscaper.Replace(p.text)}
	}
	if f["author_id"] {
		t.AuthorID = p.author.ID
	}
	if f["created_at"] {
		t.CreatedAt = p.created.UTC().Truncate(time.Second).Format(xTime)
	}
	if f["conversation_id"] {
		t.ConversationID = strconv.FormatUint(p.conv, 10)
	}
	if f["in_reply_to_user_id"] && p.replyTo != 0 {
		t.InReplyToUserID = p.replyUser
	}
	if f["lang"] {
		t.Lang = p.lang
	}
	if f["public_metrics"] {
		t.PublicMetrics = &simMetrics{RetweetCount: p.retweets, ReplyCount: p.replies, LikeCount: p.likes,
			QuoteCount: p.quotes, BookmarkCount: p.bookmarks, ImpressionCount: p.views}
	}
	if f["referenced_tweets"] {
		if p.replyTo != 0 {
			t.ReferencedTweets = append(t.ReferencedTweets, simRef{"replied_to", strconv.FormatUint(p.replyTo, 10)})
		}
		if p.retweetOf != 0 {
			t.ReferencedTweets = append(t.ReferencedTweets, simRef{"retweeted", strconv.FormatUint(p.retweetOf, 10)})
		}
	}
	if f["entities"] {
		limit := utf8.RuneCountInString(text)
		e := &simEntities{}
		for _, m := range p.mentions {
			if m.End <= limit {
				e.Mentions = append(e.Mentions, simWireMention(m))
			}
		}
		for _, tg := range p.tags {
			if tg.End <= limit {
				e.Hashtags = append(e.Hashtags, simWireTag(tg))
			}
		}
		if len(e.Mentions)+len(e.Hashtags) > 0 {
			t.Entities = e
		}
	}
	if f["edit_controls"] {
		first := p.created
		if p.editOf != 0 {
			first = time.UnixMilli(int64(p.editOf>>22) + twitterEpochMs)
		}
		remaining := 5
		if p.editOf != 0 {
			remaining = 4
		}
		t.EditControls = &simEditControl{EditsRemaining: remaining, IsEditEligible: p.retweetOf == 0,
			EditableUntil: first.Add(30 * time.Minute).UTC().Format(xTime)}
	}
	return t
}

func (s *Simulator) wireUser(p *simPost, req *simRequest) simWireUser {
	u := simWireUser{ID: p.author.ID, Name: p.author.Name, Username: p.author.Username}
	if req.userFields["created_at"] {
		u.CreatedAt = s.start.Add(-time.Duration(len(u.Username)) * 97 * 24 * time.Hour).UTC().Format(xTime)
	}
	if req.userFields["verified"] {
		v := p.dept
		u.Verified = &v
	}
	return u
}

func mustJSON(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(fmt.Sprintf("twitter simulator: encoding a response: %v", err))
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(mustJSON(v))
}

// writeProblem writes X's problem object.
func writeProblem(w http.ResponseWriter, status int, title, detail, typ string) {
	writeJSON(w, status, map[string]any{"title": title, "detail": detail, "type": typ, "status": status})
}

// writeInvalid writes X's 400 invalid-request body.
func writeInvalid(w http.ResponseWriter, err error) {
	var ip *invalidParam
	if !errors.As(err, &ip) {
		ip = &invalidParam{message: err.Error()}
	}
	writeJSON(w, http.StatusBadRequest, map[string]any{
		"errors": []map[string]any{{"parameters": map[string][]string{ip.param: {ip.value}}, "message": ip.message}},
		"title":  "Invalid Request",
		"detail": "One or more parameters to your request was invalid.",
		"type":   "https://api.twitter.com/2/problems/invalid-request",
	})
}
