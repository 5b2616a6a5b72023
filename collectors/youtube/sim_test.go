package youtube

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/govlisten/govlisten/config"
)

// simGet sends a raw request to a Simulator and returns status and body.
func simGet(t *testing.T, s *Simulator, path string, q url.Values) (int, []byte, http.Header) {
	t.Helper()
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path+"?"+q.Encode(), nil))
	body, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, body, rec.Result().Header
}

type simErrBody struct {
	Error struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Errors  []struct {
			Message, Domain, Reason string
		} `json:"errors"`
		Details []map[string]any `json:"details"`
	} `json:"error"`
}

func wantSimError(t *testing.T, code int, body []byte, status int, reason string) {
	t.Helper()
	var e simErrBody
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("error body %s: %v", body, err)
	}
	if code != status || e.Error.Code != status || len(e.Error.Errors) != 1 || e.Error.Errors[0].Reason != reason || e.Error.Message == "" {
		t.Fatalf("HTTP %d %s, want %d %s", code, body, status, reason)
	}
}

func TestSimulatorWire(t *testing.T) {
	clk := &clock{t: t0}
	s := NewSimulator(SimConfig{Seed: 7, Rate: 20, Start: t0.Add(-time.Minute), Token: "k", Now: clk.Now})
	q := func(kv ...string) url.Values {
		v := url.Values{"key": {"k"}}
		for i := 0; i < len(kv); i += 2 {
			v.Add(kv[i], kv[i+1])
		}
		return v
	}

	t.Run("html, comma-joined part", func(t *testing.T) {
		code, body, h := simGet(t, s, "/youtube/v3/commentThreads", q("part", "snippet,replies", "videoId", "simDWPuc001", "maxResults", "100"))
		if code != 200 || !strings.HasPrefix(h.Get("Content-Type"), "application/json") {
			t.Fatalf("HTTP %d", code)
		}
		ms, next, err := MapCommentThreads(body, config.Source{}, t0)
		if err != nil || next == "" || len(ms) < 100 {
			t.Fatalf("%v, next %q, %d mentions", err, next, len(ms))
		}
		var page struct {
			Items []struct {
				Snippet struct {
					TopLevelComment struct {
						Snippet struct{ TextDisplay, TextOriginal string }
					}
				}
			}
		}
		if err := json.Unmarshal(body, &page); err != nil {
			t.Fatal(err)
		}
		escaped := 0
		for _, it := range page.Items {
			sn := it.Snippet.TopLevelComment.Snippet
			if strings.Contains(sn.TextDisplay, "\n") {
				t.Fatalf("html textDisplay has a raw newline: %q", sn.TextDisplay)
			}
			if sn.TextOriginal != "" && plainText(sn.TextDisplay) != sn.TextOriginal {
				t.Fatalf("textDisplay %q does not render textOriginal %q", sn.TextDisplay, sn.TextOriginal)
			}
			if sn.TextDisplay != sn.TextOriginal {
				escaped++
			}
		}
		if escaped == 0 {
			t.Error("no comment needed HTML escaping")
		}
		// Google does not escape & < > as \u0026 in JSON.
		if strings.Contains(string(body), `\u0026`) {
			t.Error("JSON escapes HTML characters")
		}
	})

	t.Run("plainText, repeated part, paging", func(t *testing.T) {
		v := q("part", "snippet", "allThreadsRelatedToChannelId", "UCsimNHSEngland000000003", "textFormat", "plainText", "maxResults", "7")
		v.Add("part", "replies")
		seen := map[string]bool{}
		for page := 0; ; page++ {
			code, body, _ := simGet(t, s, "/youtube/v3/commentThreads", v)
			if code != 200 {
				t.Fatalf("page %d: HTTP %d %s", page, code, body)
			}
			ms, next, err := MapCommentThreads(body, config.Source{}, t0)
			if err != nil || len(ms) == 0 && next != "" {
				t.Fatalf("page %d: %v", page, err)
			}
			for _, m := range ms {
				if seen[m.ID] {
					t.Fatalf("%s on two pages", m.ID)
				}
				seen[m.ID] = true
			}
			if next == "" {
				break
			}
			v.Set("pageToken", next)
		}
		if len(seen) < 20 {
			t.Errorf("%d mentions over all pages", len(seen))
		}
	})

	t.Run("errors", func(t *testing.T) {
		code, body, _ := simGet(t, s, "/youtube/v3/commentThreads", url.Values{"part": {"snippet"}, "videoId": {"simDWPuc001"}})
		wantSimError(t, code, body, 403, "forbidden")
		code, body, _ = simGet(t, s, "/youtube/v3/commentThreads", url.Values{"part": {"snippet"}, "videoId": {"simDWPuc001"}, "key": {"wrong"}})
		wantSimError(t, code, body, 400, "badRequest")
		if !strings.Contains(string(body), "API key not valid") || !strings.Contains(string(body), "API_KEY_INVALID") {
			t.Errorf("bad key body %s", body)
		}
		code, body, _ = simGet(t, s, "/youtube/v3/commentThreads", q("part", "snippet", "videoId", "simDWPoff04"))
		wantSimError(t, code, body, 403, "commentsDisabled")
		code, body, _ = simGet(t, s, "/youtube/v3/commentThreads", q("part", "snippet", "videoId", "nope"))
		wantSimError(t, code, body, 404, "videoNotFound")
		code, body, _ = simGet(t, s, "/youtube/v3/commentThreads", q("part", "snippet", "allThreadsRelatedToChannelId", "UCnope"))
		wantSimError(t, code, body, 404, "channelNotFound")
		code, body, _ = simGet(t, s, "/youtube/v3/commentThreads", q("part", "snippet", "videoId", "simDWPuc001", "pageToken", "garbage"))
		wantSimError(t, code, body, 400, "invalidPageToken")
		code, body, _ = simGet(t, s, "/youtube/v3/commentThreads", q("part", "snippet", "videoId", "simDWPuc001", "maxResults", "101"))
		wantSimError(t, code, body, 400, "invalidParameter")
		code, body, _ = simGet(t, s, "/youtube/v3/comments", q("part", "snippet", "parentId", "UgzNoSuchComment4AaABAg"))
		wantSimError(t, code, body, 404, "commentNotFound")
		s.Inject(Fault{Kind: FaultRateLimit, Wait: 1500 * time.Millisecond})
		code, body, h := simGet(t, s, "/youtube/v3/search", q("part", "snippet", "q", "tax"))
		wantSimError(t, code, body, 429, "rateLimitExceeded")
		if h.Get("Retry-After") != "2" {
			t.Errorf("Retry-After %q", h.Get("Retry-After"))
		}
		s.Inject(Fault{Kind: FaultTokenExpired})
		code, body, _ = simGet(t, s, "/youtube/v3/videos", q("part", "snippet", "id", "simDWPuc001"))
		wantSimError(t, code, body, 400, "keyInvalid")
		if !strings.HasPrefix(string(body), `{"error":{"code":400,"message":`) {
			t.Errorf("envelope %s", body)
		}
	})

	t.Run("daily quota", func(t *testing.T) {
		qs := NewSimulator(SimConfig{Seed: 1, Rate: 0.01, Start: t0, Now: clk.Now, DailyQuota: 250})
		search := q("part", "snippet", "q", "tax")
		for i := 0; i < 2; i++ {
			if code, body, _ := simGet(t, qs, "/youtube/v3/search", search); code != 200 {
				t.Fatalf("search %d: HTTP %d %s", i, code, body)
			}
		}
		code, body, _ := simGet(t, qs, "/youtube/v3/search", search)
		wantSimError(t, code, body, 403, "quotaExceeded")
		if code, _, _ := simGet(t, qs, "/youtube/v3/videos", q("part", "id", "id", "simDWPuc001")); code != 200 {
			t.Errorf("a 1-unit call within the quota: HTTP %d", code)
		}
		if u := qs.Units("k"); u["2026-11-02"] != 201 || qs.Calls("/youtube/v3/search") != 3 {
			t.Errorf("units %v after 2 searches and a video, %d search requests", u, qs.Calls("/youtube/v3/search"))
		}
		clk.Add(24 * time.Hour) // a new Pacific day
		if code, body, _ := simGet(t, qs, "/youtube/v3/search", search); code != 200 {
			t.Errorf("next day: HTTP %d %s", code, body)
		}
		clk.Add(-24 * time.Hour)
	})

	t.Run("search and videos", func(t *testing.T) {
		code, body, _ := simGet(t, s, "/youtube/v3/search", q("part", "snippet", "q", "tax", "type", "video", "order", "date", "maxResults", "1",
			"publishedAfter", t0.Add(-7*24*time.Hour).Format(time.RFC3339)))
		var res struct {
			NextPageToken string
			Items         []struct {
				ID struct{ Kind, VideoID string } `json:"id"`
			}
		}
		if err := json.Unmarshal(body, &res); err != nil || code != 200 || len(res.Items) != 1 || res.Items[0].ID.VideoID != "simHMRCsa01" || res.NextPageToken == "" {
			t.Fatalf("HTTP %d %s", code, body)
		}
		code, body, _ = simGet(t, s, "/youtube/v3/videos", q("part", "snippet,statistics", "id", "simDWPuc001,simDWPoff04,gone"))
		var vl struct {
			Items []struct {
				ID         string
				Statistics map[string]any
			}
		}
		if err := json.Unmarshal(body, &vl); err != nil || code != 200 || len(vl.Items) != 2 {
			t.Fatalf("HTTP %d %s", code, body)
		}
		if _, ok := vl.Items[0].Statistics["commentCount"].(string); !ok {
			t.Errorf("commentCount is not a JSON string: %v", vl.Items[0].Statistics)
		}
		if _, ok := vl.Items[1].Statistics["commentCount"]; ok {
			t.Error("a video with comments disabled has a commentCount")
		}
	})

	t.Run("served", func(t *testing.T) {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/_sim/served", nil))
		var got struct{ IDs []string }
		if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || !slices.Equal(got.IDs, s.Served()) || len(got.IDs) == 0 {
			t.Fatalf("%v: %d ids", err, len(got.IDs))
		}
	})
}

func TestSimulatorEditsAndDeletions(t *testing.T) {
	clk := &clock{t: t0}
	s := NewSimulator(SimConfig{Seed: 2, Rate: 20, Start: t0.Add(-time.Minute), Now: clk.Now})
	list := func() map[string]string { // id → text, all threads of a channel
		texts := map[string]string{}
		v := url.Values{"key": {"x"}, "part": {"snippet,replies"}, "allThreadsRelatedToChannelId": {"UCsimDWPgovuk00000000001"}, "textFormat": {"plainText"}, "maxResults": {"100"}}
		for {
			_, body, _ := simGet(t, s, "/youtube/v3/commentThreads", v)
			ms, next, err := MapCommentThreads(body, config.Source{}, t0)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range ms {
				texts[m.ID] = m.Text
			}
			if next == "" {
				return texts
			}
			v.Set("pageToken", next)
		}
	}
	before := list()
	clk.Add(30 * time.Minute)
	after := list()
	var edited, deleted int
	for id, text := range before {
		switch a, ok := after[id]; {
		case !ok:
			deleted++
		case a != text:
			edited++
			if !strings.HasPrefix(a, text) {
				t.Errorf("%s: edit %q does not extend %q", id, a, text)
			}
		}
	}
	if edited == 0 || deleted == 0 {
		t.Errorf("%d edited, %d deleted in 30 minutes", edited, deleted)
	}
	// The same seed makes the same world (page tokens aside).
	s2 := NewSimulator(SimConfig{Seed: 2, Rate: 20, Start: t0.Add(-time.Minute), Now: clk.Now})
	v := url.Values{"key": {"x"}, "part": {"snippet"}, "videoId": {"simHMRCsa01"}}
	_, b1, _ := simGet(t, s, "/youtube/v3/commentThreads", v)
	_, b2, _ := simGet(t, s2, "/youtube/v3/commentThreads", v)
	var p1, p2 struct{ Items json.RawMessage }
	if json.Unmarshal(b1, &p1) != nil || json.Unmarshal(b2, &p2) != nil || string(p1.Items) != string(p2.Items) || len(p1.Items) < 100 {
		t.Error("same seed, different pages")
	}
}
