package facebook

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"
)

func simGet(t *testing.T, srv *httptest.Server, path, bearer string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, body
}

func graphCode(t *testing.T, body []byte) (code, subcode int) {
	t.Helper()
	var e struct {
		Error struct {
			Code    int `json:"code"`
			Subcode int `json:"error_subcode"`
		} `json:"error"`
	}
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("not a Graph error: %s", body)
	}
	return e.Error.Code, e.Error.Subcode
}

func TestSimulatorWire(t *testing.T) {
	sim := NewSimulator(backlog())
	srv := httptest.NewServer(sim)
	defer srv.Close()

	// Auth: none, wrong, as a parameter.
	if st, _, body := simGet(t, srv, "/v23.0/100000000000001/feed", ""); st != 400 {
		t.Errorf("no token: %d", st)
	} else if code, _ := graphCode(t, body); code != 104 {
		t.Errorf("no token: code %d", code)
	}
	if _, h, body := simGet(t, srv, "/v23.0/100000000000001/feed", "wrong"); h.Get("WWW-Authenticate") == "" {
		t.Error("no WWW-Authenticate on a refused token")
	} else if code, _ := graphCode(t, body); code != 190 {
		t.Errorf("wrong token: code %d", code)
	}
	st, h, body := simGet(t, srv, "/v23.0/100000000000001/feed?limit=5&access_token="+testToken, "")
	if st != 200 {
		t.Fatalf("token as a parameter: %d %s", st, body)
	}
	for _, name := range []string{"X-App-Usage", "X-Business-Use-Case-Usage"} {
		if !json.Valid([]byte(h.Get(name))) {
			t.Errorf("%s = %q", name, h.Get(name))
		}
	}

	// Default fields, escapes, paging.next on the real host with the token.
	var page struct {
		Data   []map[string]json.RawMessage `json:"data"`
		Paging struct {
			Cursors struct{ After string } `json:"cursors"`
			Next    string                 `json:"next"`
		} `json:"paging"`
	}
	if err := json.Unmarshal(body, &page); err != nil {
		t.Fatal(err)
	}
	if len(page.Data) == 0 || len(page.Data) > 5 {
		t.Fatalf("%d items for limit=5", len(page.Data))
	}
	for _, item := range page.Data {
		for k := range item {
			if !slices.Contains([]string{"id", "message", "created_time"}, k) {
				t.Errorf("field %s not asked for", k)
			}
		}
	}
	if !strings.HasPrefix(page.Paging.Next, "https://graph.facebook.com/v23.0/100000000000001/feed?") || !strings.Contains(page.Paging.Next, "access_token="+testToken) {
		t.Errorf("next = %q", page.Paging.Next)
	}
	if !strings.Contains(string(body), `https:\/\/graph.facebook.com`) {
		t.Error("the simulator does not escape / as Graph does")
	}
	for _, c := range string(body) {
		if c > 127 {
			t.Fatalf("non-ASCII %q in the body: Graph escapes it", c)
		}
	}

	// Limits, unknown objects, deleted posts.
	if st, _, body := simGet(t, srv, "/v23.0/100000000000001/feed?limit=101", testToken); st != 400 {
		t.Errorf("limit=101: %d", st)
	} else if code, _ := graphCode(t, body); code != 100 {
		t.Errorf("limit=101: code %d", code)
	}
	if st, _, body := simGet(t, srv, "/v23.0/999/feed", testToken); st != 400 {
		t.Errorf("unknown page: %d", st)
	} else if code, sub := graphCode(t, body); code != 100 || sub != 33 {
		t.Errorf("unknown page: %d/%d", code, sub)
	}
	var first struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(page.Data[0]["id"], &first.ID)
	if !sim.Delete(first.ID) {
		t.Fatalf("Delete(%s) = false", first.ID)
	}
	if st, _, body := simGet(t, srv, "/v23.0/"+first.ID+"/comments", testToken); st != 400 {
		t.Errorf("comments of a deleted post: %d", st)
	} else if code, sub := graphCode(t, body); code != 100 || sub != 33 {
		t.Errorf("comments of a deleted post: %d/%d", code, sub)
	}
	if _, _, body := simGet(t, srv, "/v23.0/100000000000001/feed?limit=100", testToken); strings.Contains(string(body), `"`+first.ID+`"`) {
		t.Error("a deleted post still appears")
	}

	// /_sim/served lists what was served.
	_, _, body = simGet(t, srv, "/_sim/served", "")
	var served struct{ IDs []string }
	if err := json.Unmarshal(body, &served); err != nil || !slices.Contains(served.IDs, first.ID) || len(served.IDs) != len(sim.Served()) {
		t.Errorf("/_sim/served: %v, %d ids", err, len(served.IDs))
	}
}

func TestSimulatorIsDeterministic(t *testing.T) {
	start := time.Now().Add(-20 * time.Second)
	get := func() string {
		sim := NewSimulator(SimConfig{Seed: 9, Start: start})
		srv := httptest.NewServer(sim)
		defer srv.Close()
		_, _, body := simGet(t, srv, "/v23.0/100000000000002/feed?limit=100&fields="+postFields, "x")
		// Cursors carry a nonce; compare the data only.
		var page struct{ Data json.RawMessage }
		_ = json.Unmarshal(body, &page)
		return string(page.Data)
	}
	if a, b := get(), get(); a != b || len(a) < 100 {
		t.Errorf("two simulators with the same seed differ:\n%.300s\n%.300s", a, b)
	}
}

func TestSimulatorItemsArriveAtRate(t *testing.T) {
	sim := NewSimulator(SimConfig{Rate: 50, Seed: 1})
	srv := httptest.NewServer(sim)
	defer srv.Close()
	count := func() (int, time.Time) {
		sim.mu.Lock()
		defer sim.mu.Unlock()
		now := time.Now()
		sim.generate(now)
		return len(sim.items), now
	}
	n0, t0 := count()
	time.Sleep(200 * time.Millisecond)
	n1, t1 := count()
	// Item i exists from Start + i/Rate: the count follows the clock.
	if want := t1.Sub(t0).Seconds() * 50; float64(n1-n0) < want-2 || float64(n1-n0) > want+2 {
		t.Errorf("%d items in %v at 50/s", n1-n0, t1.Sub(t0))
	}
}
