package youtube

import (
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/govlisten/govlisten/config"
	"github.com/govlisten/govlisten/mention"
)

// Kinds of the response pages the mapping reads (the "kind" of the list
// envelope).
const (
	kindThreadList  = "youtube#commentThreadListResponse"
	kindCommentList = "youtube#commentListResponse"
)

// MapCommentThreads maps one raw commentThreads.list response page (the
// bytes the API sent) to mentions: each thread's top-level comment (Kind
// comment, Raw = the whole commentThread item) followed by the replies
// embedded in it (Kind reply, Raw = the reply's comment item). It also
// returns the page's nextPageToken ("" on the last page).
//
// The page is mapped whole or not at all: a body that is not a
// commentThreadListResponse, or an item without an id, a snippet or a valid
// publishedAt, is an error and no mention is returned. Nothing is filtered:
// collectors collect, processors decide. It is the one mapping of YouTube
// comment threads, used by the collector and by `govlisten import`.
func MapCommentThreads(body []byte, src config.Source, collectedAt time.Time) ([]*mention.Mention, string, error) {
	page, err := parseThreads(body, src, collectedAt)
	if err != nil {
		return nil, "", err
	}
	var out []*mention.Mention
	for _, t := range page.threads {
		out = append(out, t.mentions()...)
	}
	return out, page.next, nil
}

// MapComments maps one raw comments.list response page (replies listed
// with parentId) to mentions of Kind reply, with the page's nextPageToken.
// Like MapCommentThreads, it maps the page whole or returns an error.
func MapComments(body []byte, src config.Source, collectedAt time.Time) ([]*mention.Mention, string, error) {
	items, next, err := parseComments(body, src, collectedAt, "")
	if err != nil {
		return nil, "", err
	}
	ms := make([]*mention.Mention, len(items))
	for i, it := range items {
		ms[i] = it.m
	}
	return ms, next, nil
}

// item is a mapped comment with its latest activity (publishedAt, or
// updatedAt when later: an edit), which the pass logic compares with the
// checkpoint; Mention has no field for updatedAt.
type item struct {
	m      *mention.Mention
	active time.Time
}

// thread is a mapped commentThread.
type thread struct {
	top     item
	replies []item
	// total is snippet.totalReplyCount: more than len(replies) means the
	// rest must be listed with comments.list.
	total   uint64
	videoID string
}

func (t *thread) mentions() []*mention.Mention {
	out := make([]*mention.Mention, 0, 1+len(t.replies))
	out = append(out, t.top.m)
	for _, r := range t.replies {
		out = append(out, r.m)
	}
	return out
}

// latest is the thread's latest activity: its top-level comment's or any
// reply's publishedAt or updatedAt.
func (t *thread) latest() time.Time {
	l := t.top.active
	for _, r := range t.replies {
		if r.active.After(l) {
			l = r.active
		}
	}
	return l
}

// incomplete says whether replies beyond the embedded ones exist.
func (t *thread) incomplete() bool { return uint64(len(t.replies)) < t.total }

type threadPage struct {
	next    string
	threads []*thread
}

// Wire shapes: only what the mapping reads. Items stay json.RawMessage so
// each mention's Raw holds the bytes the API sent.
type listEnvelope struct {
	Kind          string            `json:"kind"`
	NextPageToken string            `json:"nextPageToken"`
	Items         []json.RawMessage `json:"items"`
}

type wireThread struct {
	ID      string `json:"id"`
	Snippet *struct {
		ChannelID       string       `json:"channelId"`
		VideoID         string       `json:"videoId"`
		TopLevelComment *wireComment `json:"topLevelComment"`
		TotalReplyCount uint64       `json:"totalReplyCount"`
	} `json:"snippet"`
	Replies *struct {
		Comments []json.RawMessage `json:"comments"`
	} `json:"replies"`
}

type wireComment struct {
	ID      string `json:"id"`
	Snippet *struct {
		ChannelID         string `json:"channelId"`
		VideoID           string `json:"videoId"`
		TextDisplay       string `json:"textDisplay"`
		TextOriginal      string `json:"textOriginal"`
		ParentID          string `json:"parentId"`
		AuthorDisplayName string `json:"authorDisplayName"`
		AuthorChannelID   *struct {
			Value string `json:"value"`
		} `json:"authorChannelId"`
		LikeCount   uint64 `json:"likeCount"`
		PublishedAt string `json:"publishedAt"`
		UpdatedAt   string `json:"updatedAt"`
	} `json:"snippet"`
}

// decodeList checks the envelope of a list page.
func decodeList(body []byte, kind string) (*listEnvelope, error) {
	if !utf8.Valid(body) {
		return nil, errors.New("response is not valid UTF-8")
	}
	var env listEnvelope
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, fmt.Errorf("decoding %s: %w", kind, err)
	}
	if env.Kind != kind {
		return nil, fmt.Errorf("kind is %q, want %q", env.Kind, kind)
	}
	return &env, nil
}

func parseThreads(body []byte, src config.Source, collectedAt time.Time) (*threadPage, error) {
	env, err := decodeList(body, kindThreadList)
	if err != nil {
		return nil, err
	}
	page := &threadPage{next: env.NextPageToken, threads: make([]*thread, 0, len(env.Items))}
	for i, raw := range env.Items {
		t, err := parseThread(raw, src, collectedAt)
		if err != nil {
			return nil, fmt.Errorf("item %d: %w", i, err)
		}
		page.threads = append(page.threads, t)
	}
	return page, nil
}

func parseThread(raw json.RawMessage, src config.Source, collectedAt time.Time) (*thread, error) {
	var w wireThread
	if err := json.Unmarshal(raw, &w); err != nil {
		return nil, fmt.Errorf("decoding commentThread: %w", err)
	}
	if w.Snippet == nil || w.Snippet.TopLevelComment == nil {
		return nil, fmt.Errorf("commentThread %q has no snippet.topLevelComment", w.ID)
	}
	// Raw is the thread, replies and all: the top-level comment's context.
	top, err := mapWire(w.Snippet.TopLevelComment, raw, src, collectedAt, w.Snippet.VideoID)
	if err != nil {
		return nil, fmt.Errorf("commentThread %q: %w", w.ID, err)
	}
	top.m.Kind = mention.KindComment
	top.m.ParentID = ""
	top.m.Metrics.Replies = w.Snippet.TotalReplyCount
	t := &thread{top: top, total: w.Snippet.TotalReplyCount, videoID: top.m.ThreadID}
	if w.Replies != nil {
		for j, rr := range w.Replies.Comments {
			r, err := mapReply(rr, src, collectedAt, t.videoID, top.m.ID)
			if err != nil {
				return nil, fmt.Errorf("commentThread %q: reply %d: %w", w.ID, j, err)
			}
			t.replies = append(t.replies, r)
		}
	}
	return t, nil
}

func parseComments(body []byte, src config.Source, collectedAt time.Time, videoID string) ([]item, string, error) {
	env, err := decodeList(body, kindCommentList)
	if err != nil {
		return nil, "", err
	}
	items := make([]item, 0, len(env.Items))
	for i, raw := range env.Items {
		it, err := mapReply(raw, src, collectedAt, videoID, "")
		if err != nil {
			return nil, "", fmt.Errorf("item %d: %w", i, err)
		}
		items = append(items, it)
	}
	return items, env.NextPageToken, nil
}

// mapReply maps a reply. Its parent is snippet.parentId, else the part of
// its id before the dot (reply ids are "<parentId>.<suffix>"), else parent.
func mapReply(raw json.RawMessage, src config.Source, collectedAt time.Time, videoID, parent string) (item, error) {
	it, err := mapComment(raw, src, collectedAt, videoID)
	if err != nil {
		return item{}, err
	}
	it.m.Kind = mention.KindReply
	if it.m.ParentID == "" {
		if p, _, ok := strings.Cut(it.m.ID, "."); ok {
			it.m.ParentID = p
		} else {
			it.m.ParentID = parent
		}
	}
	return it, nil
}

// mapComment maps a comment resource; videoID is used when the comment's
// snippet does not name its video.
func mapComment(raw json.RawMessage, src config.Source, collectedAt time.Time, videoID string) (item, error) {
	var w wireComment
	if err := json.Unmarshal(raw, &w); err != nil {
		return item{}, fmt.Errorf("decoding comment: %w", err)
	}
	return mapWire(&w, raw, src, collectedAt, videoID)
}

// mapWire maps a decoded comment; raw becomes the mention's Raw.
func mapWire(w *wireComment, raw json.RawMessage, src config.Source, collectedAt time.Time, videoID string) (item, error) {
	if w.ID == "" {
		return item{}, errors.New("comment without id")
	}
	s := w.Snippet
	if s == nil {
		return item{}, fmt.Errorf("comment %q has no snippet", w.ID)
	}
	published, err := parseTime(s.PublishedAt)
	if err != nil {
		return item{}, fmt.Errorf("comment %q: publishedAt: %w", w.ID, err)
	}
	active := published
	if s.UpdatedAt != "" {
		updated, err := parseTime(s.UpdatedAt)
		if err != nil {
			return item{}, fmt.Errorf("comment %q: updatedAt: %w", w.ID, err)
		}
		if updated.After(active) {
			active = updated
		}
	}
	if s.VideoID != "" {
		videoID = s.VideoID
	}
	var author string
	if s.AuthorChannelID != nil {
		author = s.AuthorChannelID.Value
	}
	m := &mention.Mention{
		V:           mention.Version,
		Platform:    mention.YouTube,
		ID:          w.ID,
		Kind:        mention.KindComment,
		ParentID:    s.ParentID,
		ThreadID:    videoID,
		AuthorID:    author,
		AuthorName:  s.AuthorDisplayName,
		Text:        s.TextOriginal,
		CreatedAt:   published,
		CollectedAt: collectedAt.UTC(),
		Metrics:     mention.Metrics{Likes: s.LikeCount},
		Source:      mention.Source{Name: src.Name, Department: src.Department},
		Own:         isOwn(author, src),
		Raw:         raw,
	}
	if strings.HasPrefix(s.AuthorDisplayName, "@") {
		m.AuthorHandle = s.AuthorDisplayName
	}
	if m.Text == "" {
		m.Text = plainText(s.TextDisplay)
	}
	if videoID != "" {
		m.URL = "https://www.youtube.com/watch?v=" + videoID + "&lc=" + w.ID
	}
	if err := m.Validate(); err != nil {
		return item{}, fmt.Errorf("comment %q: %w", w.ID, err)
	}
	return item{m: m, active: active}, nil
}

func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, errors.New("missing")
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, err
	}
	return t.UTC(), nil
}

// isOwn says whether a comment's author is one of the source's own
// channels: src.Own, and the channel itself for a channel_comments source.
func isOwn(author string, src config.Source) bool {
	if author == "" {
		return false
	}
	if src.Kind == KindChannelComments && author == src.ChannelID {
		return true
	}
	return slices.Contains(src.Own, author)
}

var (
	htmlTag    = regexp.MustCompile(`(?i)<br\s*/?>|</?(?:a|b|i|s|u|strong|em|span)(?:\s[^>]*)?>`)
	htmlEntity = regexp.MustCompile(`&(?:[a-zA-Z]{2,8}|#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6});`)
)

// plainText turns a textDisplay into plain text. The collector asks for
// textFormat=plainText, so textDisplay is plain already and is returned
// unchanged; an archived page fetched with the default textFormat=html has
// <br>, <a href> and entities, which are converted (line breaks kept,
// tags dropped, entities decoded). Only text that shows HTML markup is
// touched, so a plain comment that merely contains "&" stays as written.
func plainText(s string) string {
	if !htmlTag.MatchString(s) && !htmlEntity.MatchString(s) {
		return s
	}
	s = htmlTag.ReplaceAllStringFunc(s, func(tag string) string {
		if strings.HasPrefix(strings.ToLower(tag), "<br") {
			return "\n"
		}
		return ""
	})
	return html.UnescapeString(s)
}
