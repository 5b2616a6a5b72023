package twitter

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// get calls the Simulator directly (no client library) and decodes the body.
func simGet(t *testing.T, s *Simulator, path string, params url.Values, token string) (int, http.Header, []byte) {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, path+"?"+params.Encode(), nil)
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	body, _ := io.ReadAll(w.Result().Body)
	return w.Code, w.Result().Header, body
}

func searchParams(extra ...string) url.Values {
	v := url.Values{
		"query":        {"@DWP -is:retweet"},
		"max_results":  {"100"},
		"expansions":   {"author_id"},
		"tweet.fields": {"author_id,created_at,conversation_id,in_reply_to_user_id,lang,public_metrics,referenced_tweets,entities,note_tweet,edit_history_tweet_ids"},
		"user.fields":  {"username,name"},
	}
	for i := 0; i+1 < len(extra); i += 2 {
		v.Set(extra[i], extra[i+1])
	}
	return v
}

type simPage struct {
	Data []struct {
		ID               string   `json:"id"`
		Text             string   `json:"text"`
		EditHistory      []string `json:"edit_history_tweet_ids"`
		AuthorID         string   `json:"author_id"`
		CreatedAt        string   `json:"created_at"`
		ReferencedTweets []struct {
			Type, ID string
		} `json:"referenced_tweets"`
	} `json:"data"`
	Includes struct {
		Users []map[string]any `json:"users"`
	} `json:"includes"`
	Errors []map[string]any `json:"errors"`
	Meta   map[string]any   `json:"meta"`
	Title  string           `json:"title"`
	Type   string           `json:"type"`
	Status int              `json:"status"`
}

func decodePage(t *testing.T, body []byte) simPage {
	t.Helper()
	var p simPage
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	return p
}

func TestSimulatorValidatesLikeX(t *testing.T) {
	s := NewSimulator(SimConfig{Seed: 1, Token: "good", Start: time.Now().Add(-time.Minute)})
	const search = "/2/tweets/search/recent"
	mentions := "/2/users/" + SimAccounts()[0].ID + "/mentions"
	old := time.Now().Add(-8 * 24 * time.Hour)
	cases := []struct {
		name   string
		path   string
		params url.Values
		token  string
		status int
		typ    string
	}{
		{"no token", search, searchParams(), "", 401, "about:blank"},
		{"wrong token", search, searchParams(), "bad", 401, "about:blank"},
		{"max_results 5 on search", search, searchParams("max_results", "5"), "good", 400, "invalid-request"},
		{"max_results 101", search, searchParams("max_results", "101"), "good", 400, "invalid-request"},
		{"max_results 5 on mentions", mentions, url.Values{"max_results": {"5"}}, "good", 200, ""},
		{"max_results 4 on mentions", mentions, url.Values{"max_results": {"4"}}, "good", 400, "invalid-request"},
		{"no query", search, url.Values{}, "good", 400, "invalid-request"},
		{"bad since_id", search, searchParams("since_id", "x1"), "good", 400, "invalid-request"},
		{"since_id older than 7 days", search, searchParams("since_id", strconv.FormatUint(snowflake(old, 0), 10)), "good", 400, "invalid-request"},
		{"start_time older than 7 days", search, searchParams("start_time", old.UTC().Format(time.RFC3339)), "good", 400, "invalid-request"},
		{"start_time malformed", search, searchParams("start_time", "2026-01-01"), "good", 400, "invalid-request"},
		{"unknown field", search, searchParams("tweet.fields", "text,colour"), "good", 400, "invalid-request"},
		{"bad token", search, searchParams("next_token", "zzzz"), "good", 400, "invalid-request"},
		{"mentions of a non-numeric id", "/2/users/DWP/mentions", url.Values{}, "good", 400, "invalid-request"},
		{"unknown path", "/2/tweets/sample/stream", url.Values{}, "good", 404, ""},
	}
	for _, tc := range cases {
		status, h, body := simGet(t, s, tc.path, tc.params, tc.token)
		if status != tc.status {
			t.Errorf("%s: status %d, want %d: %s", tc.name, status, tc.status, body)
			continue
		}
		if status != 404 && !strings.HasPrefix(h.Get("Content-Type"), "application/json") {
			t.Errorf("%s: Content-Type %q", tc.name, h.Get("Content-Type"))
		}
		if tc.typ != "" && !strings.HasSuffix(decodePage(t, body).Type, tc.typ) {
			t.Errorf("%s: body %s", tc.name, body)
		}
		if status != 404 && h.Get("X-Rate-Limit-Reset") == "" {
			t.Errorf("%s: no rate-limit headers", tc.name)
		}
	}
}

func TestSimulatorPagesAndTokens(t *testing.T) {
	s := NewSimulator(SimConfig{Seed: 2, Start: time.Now().Add(-20 * time.Second)})
	now := time.Now()
	s.now = func() time.Time { return now }
	const search = "/2/tweets/search/recent"
	_, h1, b1 := simGet(t, s, search, searchParams(), "t")
	p1 := decodePage(t, b1)
	if len(p1.Data) != 100 || p1.Meta["next_token"] == nil || len(p1.Includes.Users) == 0 {
		t.Fatalf("page 1: %d posts, meta %v", len(p1.Data), p1.Meta)
	}
	for _, d := range p1.Data {
		if d.AuthorID == "" || d.CreatedAt == "" || len(d.EditHistory) == 0 {
			t.Fatalf("fields missing: %+v", d)
		}
		for _, r := range d.ReferencedTweets {
			if r.Type == "retweeted" {
				t.Fatal("-is:retweet served a retweet")
			}
		}
	}
	tok := p1.Meta["next_token"].(string)
	// Later, the same token gives the same page, deletions and all.
	now = now.Add(15 * time.Minute)
	_, _, b2 := simGet(t, s, search, searchParams("next_token", tok), "t")
	_, _, b3 := simGet(t, s, search, searchParams("next_token", tok), "t")
	if string(b2) != string(b3) || len(decodePage(t, b2).Data) == 0 {
		t.Fatal("a token does not replay identically")
	}
	if decodePage(t, b2).Data[0].ID >= p1.Data[len(p1.Data)-1].ID {
		t.Fatal("page 2 is not older than page 1")
	}
	// Remaining counts down, and starts again with a new 15-minute window
	// (the clock moved 15 minutes above).
	_, h2, _ := simGet(t, s, search, searchParams(), "t")
	r1, _ := strconv.Atoi(h1.Get("X-Rate-Limit-Remaining"))
	r2, _ := strconv.Atoi(h2.Get("X-Rate-Limit-Remaining"))
	if h1.Get("X-Rate-Limit-Limit") != "450" || r1 != 449 || r2 != 447 {
		t.Fatalf("remaining %d then %d", r1, r2)
	}
	// Without expansions there are no includes, and fields come only when asked.
	v := searchParams()
	v.Del("expansions")
	v.Set("tweet.fields", "lang")
	_, _, b4 := simGet(t, s, search, v, "t")
	if p := decodePage(t, b4); len(p.Includes.Users) != 0 || p.Data[0].AuthorID != "" || p.Data[0].CreatedAt != "" {
		t.Fatalf("fields not asked for were served: %s", b4[:300])
	}
}

func TestSimulatorDeletesAndEdits(t *testing.T) {
	s := NewSimulator(SimConfig{Seed: 3, Start: time.Now().Add(-time.Hour), Rate: 1})
	cache := genCache{}
	var deleted, edit *simPost
	for i := int64(0); i < 3000 && (deleted == nil || edit == nil); i++ {
		p := s.post(i, cache)
		if !p.deletedAt.IsZero() && deleted == nil {
			deleted = p
		}
		if p.editOf != 0 && edit == nil {
			edit = p
		}
	}
	if deleted == nil || edit == nil {
		t.Fatal("no deleted or edited post in the stream")
	}
	orig := s.post(int64(indexOfID(s, edit.editOf)), cache)
	if orig.id != edit.editOf || orig.author != edit.author || !strings.HasPrefix(edit.text, orig.text) {
		t.Fatalf("edit %+v of %+v", edit, orig)
	}
	find := func(at time.Time) bool {
		s.now = func() time.Time { return at }
		v := searchParams("end_time", deleted.created.Add(time.Second).UTC().Format(time.RFC3339), "max_results", "10")
		v.Set("query", "x")
		_, _, body := simGet(t, s, "/2/tweets/search/recent", v, "t")
		for _, d := range decodePage(t, body).Data {
			if d.ID == strconv.FormatUint(deleted.id, 10) {
				return true
			}
		}
		return false
	}
	if !find(deleted.created.Add(time.Second)) {
		t.Fatal("the post is not served before its deletion")
	}
	if find(deleted.deletedAt) {
		t.Fatal("a deleted post is still served")
	}
}

// indexOfID is the index of the post with id.
func indexOfID(s *Simulator, id uint64) int64 {
	return s.firstAfterID(id-1, s.count(time.Now()))
}

func TestSimulatorMentionsStopAt800(t *testing.T) {
	s := NewSimulator(SimConfig{Seed: 4, Rate: 1000, Start: time.Now().Add(-30 * time.Second)})
	path := "/2/users/" + SimAccounts()[0].ID + "/mentions"
	total, pages := 0, 0
	v := url.Values{"max_results": {"100"}, "tweet.fields": {"entities"}}
	for {
		status, _, body := simGet(t, s, path, v, "t")
		if status != 200 {
			t.Fatalf("status %d: %s", status, body)
		}
		p := decodePage(t, body)
		total += len(p.Data)
		pages++
		tok, _ := p.Meta["next_token"].(string)
		if tok == "" || pages > 20 {
			break
		}
		v.Set("pagination_token", tok)
	}
	if total != mentionsCap {
		t.Fatalf("%d mentions in %d pages, want the 800 most recent", total, pages)
	}
	// An unknown user: 200, no data, a not-found error.
	_, _, body := simGet(t, s, "/2/users/123/mentions", url.Values{}, "t")
	if p := decodePage(t, body); len(p.Data) != 0 || len(p.Errors) != 1 || p.Errors[0]["parameter"] != "id" {
		t.Fatalf("unknown user: %s", body)
	}
}

func TestSimulatorFaultsAndServedEndpoint(t *testing.T) {
	s := NewSimulator(SimConfig{Seed: 5, Start: time.Now().Add(-10 * time.Second)})
	srv := httptest.NewServer(s)
	defer srv.Close()
	s.Inject(Fault{Kind: FaultRepeatToken}) // waits for a request with a token
	s.Inject(Fault{Kind: FaultRateLimit, Wait: 3 * time.Second})
	s.Inject(Fault{Kind: FaultMalformed})
	status, h, _ := simGet(t, s, "/2/tweets/search/recent", searchParams(), "t")
	reset, _ := strconv.ParseInt(h.Get("X-Rate-Limit-Reset"), 10, 64)
	if status != 429 || h.Get("Content-Type") == "" || time.Until(time.Unix(reset, 0)) < 2*time.Second {
		t.Fatalf("429: %d reset in %s", status, time.Until(time.Unix(reset, 0)))
	}
	_, _, body := simGet(t, s, "/2/tweets/search/recent", searchParams(), "t")
	if json.Valid(body) {
		t.Fatal("FaultMalformed served valid JSON")
	}
	_, _, body = simGet(t, s, "/2/tweets/search/recent", searchParams(), "t")
	tok := decodePage(t, body).Meta["next_token"].(string)
	_, _, body = simGet(t, s, "/2/tweets/search/recent", searchParams("next_token", tok), "t")
	if decodePage(t, body).Meta["next_token"] != tok {
		t.Fatal("FaultRepeatToken did not repeat the token")
	}
	res, err := srv.Client().Get(srv.URL + "/_sim/served")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var served struct{ IDs []string }
	if err := json.NewDecoder(res.Body).Decode(&served); err != nil || len(served.IDs) != len(s.Served()) || len(served.IDs) < 100 {
		t.Fatalf("served: %v, %d ids", err, len(served.IDs))
	}
}

func TestSimulatorIsSafeForConcurrentUse(t *testing.T) {
	s := NewSimulator(SimConfig{Seed: 6, Rate: 200, Start: time.Now().Add(-5 * time.Second)})
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < 5; k++ {
				s.Inject(Fault{Kind: FaultServerError})
				r := httptest.NewRequest(http.MethodGet, "/2/tweets/search/recent?"+searchParams().Encode(), nil)
				r.Header.Set("Authorization", "Bearer t")
				s.ServeHTTP(httptest.NewRecorder(), r)
				_ = s.Served()
			}
		}()
	}
	wg.Wait()
}

func TestSimulatorDoesNotChangeWithTheSeedAlone(t *testing.T) {
	start := time.Now().Add(-10 * time.Second)
	a := NewSimulator(SimConfig{Seed: 7, Start: start})
	b := NewSimulator(SimConfig{Seed: 7, Start: start})
	c := NewSimulator(SimConfig{Seed: 8, Start: start})
	pa, pb, pc := a.post(42, genCache{}), b.post(42, genCache{}), c.post(42, genCache{})
	if pa.text != pb.text || pa.id != pb.id {
		t.Fatal("the same seed gave different posts")
	}
	if pa.text == pc.text && pa.author == pc.author {
		t.Fatal("another seed gave the same post")
	}
}
