package twitter

import (
	"encoding/base32"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// SimConfig configures a Simulator.
type SimConfig struct {
	// Rate is new posts per second; default 20.
	Rate float64
	// Seed makes the stream: the same seed and Start give the same posts.
	Seed uint64
	// Token is the only bearer token accepted; "" accepts any non-empty one.
	Token string
	// Start is when the stream begins (post i is created at Start + i/Rate);
	// zero: time.Now() at NewSimulator. A test may set it in the past to
	// have a backlog.
	Start time.Time
	// WindowLimit, when positive, is how many calls each endpoint takes in
	// a 15-minute window before answering 429 on its own. Zero: never (the
	// x-rate-limit-* headers still count down from 450, but stop at 1).
	WindowLimit int
}

// FaultKind is a failure the Simulator can be told to produce.
type FaultKind int

// Faults, each as X produces it.
const (
	// FaultRateLimit answers 429 with X's problem body, a Content-Type and
	// x-rate-limit-* headers whose reset is Fault.Wait away (rounded up to
	// the second; zero: one second).
	FaultRateLimit FaultKind = iota + 1
	// FaultServerError answers 503, then 500, alternately, with a problem body.
	FaultServerError
	// FaultMalformed answers 200 with the page's JSON cut in half.
	FaultMalformed
	// FaultEmpty answers 200 with no data and a next_token that continues
	// where the request was (X search does this now and then).
	FaultEmpty
	// FaultTokenExpired answers 401 with X's Unauthorized problem body.
	FaultTokenExpired
	// FaultRepeatToken answers the page with next_token equal to the token
	// of the request. It waits for a request that carries a token (a first
	// page has none to repeat); other requests pass it by.
	FaultRepeatToken
)

// Fault queues Kind for the next Count API requests (default 1).
type Fault struct {
	Kind  FaultKind
	Count int
	// Wait is the reset a FaultRateLimit announces.
	Wait time.Duration
}

// Simulator serves X API v2's GET /2/tweets/search/recent and
// GET /2/users/{id}/mentions locally, in X's wire format: the same
// parameters and their validation (400 invalid-request bodies for
// max_results out of range, bad ids or times, a start_time or since_id
// older than search's 7 days, unknown fields), bearer auth (401 problem
// body), reverse-chronological pages of max_results with next_token /
// pagination_token (tokens are opaque, do not expire and replay
// identically: a pass sees the stream as it was at its first page),
// tweet.fields / user.fields / expansions as requested (includes.users
// when expansions=author_id), and x-rate-limit-limit/remaining/reset on
// every response.
//
// The stream is a steady flow of public posts about UK government
// departments (texts from internal/synth, with Welsh and French, emoji and
// ZWJ sequences, long posts with note_tweet, &-escaped text): replies to
// earlier posts and to departments' announcements (referenced_tweets,
// conversation_id, in_reply_to_user_id), departments' own replies, retweets,
// edited posts (a new id with edit_history_tweet_ids of two ids), posts
// deleted a few minutes after they appear (they stop being served), and
// the odd suspended author (a 200 with partial errors[]). Ids are
// snowflakes above 2^53 that grow with time.
//
// Search ignores the query's meaning (every query gets the whole stream)
// except for the negations -is:retweet and -is:reply. Mentions serves the
// posts whose entities mention the user (SimAccounts are the departments);
// an unknown user gets X's 200 with a not-found error and no data, and the
// timeline stops at the 800 most recent mentions.
//
// It also serves GET /_sim/served, {"ids":[...]} as Served returns them.
// A Simulator is safe for concurrent use.
type Simulator struct {
	cfg   SimConfig
	start time.Time
	now   func() time.Time
	mux   *http.ServeMux

	mu      sync.Mutex
	faults  []Fault
	served  map[string]struct{}
	windows map[string]*simWindow
	errs    int // server errors produced, to alternate 503 and 500
}

type simWindow struct {
	start time.Time
	used  int
}

const (
	simDefaultLimit = 450
	simWindowLen    = 15 * time.Minute
	mentionsCap     = 800
)

// NewSimulator returns a Simulator for c.
func NewSimulator(c SimConfig) *Simulator {
	if c.Rate <= 0 {
		c.Rate = 20
	}
	start := c.Start
	if start.IsZero() {
		start = time.Now()
	}
	s := &Simulator{
		cfg:     c,
		start:   start.Truncate(time.Millisecond),
		now:     time.Now,
		served:  map[string]struct{}{},
		windows: map[string]*simWindow{},
	}
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("GET /2/tweets/search/recent", func(w http.ResponseWriter, r *http.Request) {
		s.api(w, r, kindSearch, "")
	})
	s.mux.HandleFunc("GET /2/users/{id}/mentions", func(w http.ResponseWriter, r *http.Request) {
		s.api(w, r, kindMentions, r.PathValue("id"))
	})
	s.mux.HandleFunc("GET /_sim/served", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string][]string{"ids": s.Served()})
	})
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, http.StatusNotFound, "Not Found Error", "Sorry, that page does not exist.", "about:blank")
	})
	return s
}

// ServeHTTP implements http.Handler.
func (s *Simulator) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Inject queues f for the next f.Count API requests.
func (s *Simulator) Inject(f Fault) {
	if f.Count <= 0 {
		f.Count = 1
	}
	s.mu.Lock()
	s.faults = append(s.faults, f)
	s.mu.Unlock()
}

// Served returns the distinct Mention ids (as MapResponse produces them:
// an edited post under its first id) of the posts served in successful
// responses so far, in numeric order.
func (s *Simulator) Served() []string {
	s.mu.Lock()
	ids := make([]string, 0, len(s.served))
	for id := range s.served {
		ids = append(ids, id)
	}
	s.mu.Unlock()
	slices.SortFunc(ids, compareIDs)
	return ids
}

func compareIDs(a, b string) int {
	if len(a) != len(b) {
		return len(a) - len(b)
	}
	return strings.Compare(a, b)
}

// id and created place post i in time.
func (s *Simulator) id(i int64) uint64 {
	return snowflake(s.start, uint64(float64(i)*1000/s.cfg.Rate*(1<<22)))
}

func (s *Simulator) created(i int64) time.Time {
	return s.start.Add(time.Duration(float64(i) / s.cfg.Rate * 1e9))
}

// count is how many posts exist at t.
func (s *Simulator) count(t time.Time) int64 {
	if t.Before(s.start) {
		return 0
	}
	return int64(math.Floor(t.Sub(s.start).Seconds()*s.cfg.Rate)) + 1
}

// firstAfterID is the index of the first post with an id above id, among n.
func (s *Simulator) firstAfterID(id uint64, n int64) int64 {
	return int64(sort.Search(int(n), func(i int) bool { return s.id(int64(i)) > id }))
}

// firstAt is the index of the first post created at or after t, among n.
func (s *Simulator) firstAt(t time.Time, n int64) int64 {
	return int64(sort.Search(int(n), func(i int) bool { return !s.created(int64(i)).Before(t) }))
}

// simCursor is what a page token holds: the snapshot time of the pass and
// the index range still to serve.
type simCursor struct {
	asOf   int64 // Unix ms
	lo, hi int64 // indices: lo inclusive, hi exclusive
	served int64 // posts served so far in the pass (mentions stop at 800)
	hop    int64 // distinguishes an empty page's token from its request's
}

var tokenEncoding = base32.NewEncoding("0123456789abcdefghijklmnopqrstuv").WithPadding(base32.NoPadding)

func (s *Simulator) encodeToken(c simCursor) string {
	b := make([]byte, 0, 40)
	for _, v := range []int64{c.asOf, c.lo, c.hi, c.served, c.hop} {
		b = binary.AppendUvarint(b, uint64(v))
	}
	h := fnv.New32a()
	_, _ = h.Write(b)
	_, _ = fmt.Fprint(h, s.cfg.Seed)
	b = binary.BigEndian.AppendUint16(b, uint16(h.Sum32()))
	return tokenEncoding.EncodeToString(b)
}

func (s *Simulator) decodeToken(tok string) (simCursor, bool) {
	b, err := tokenEncoding.DecodeString(tok)
	if err != nil || len(b) < 7 {
		return simCursor{}, false
	}
	body, sum := b[:len(b)-2], b[len(b)-2:]
	h := fnv.New32a()
	_, _ = h.Write(body)
	_, _ = fmt.Fprint(h, s.cfg.Seed)
	if binary.BigEndian.Uint16(sum) != uint16(h.Sum32()) {
		return simCursor{}, false
	}
	var v [5]int64
	for k := range v {
		x, n := binary.Uvarint(body)
		if n <= 0 {
			return simCursor{}, false
		}
		v[k], body = int64(x), body[n:]
	}
	if len(body) != 0 {
		return simCursor{}, false
	}
	return simCursor{asOf: v[0], lo: v[1], hi: v[2], served: v[3], hop: v[4]}, true
}

// simRequest is a validated request.
type simRequest struct {
	kind, userID string
	max          int
	cur          simCursor
	token        string // the token the request carried
	tweetFields  map[string]bool
	userFields   map[string]bool
	authorExp    bool
	noRetweets   bool
	noReplies    bool
	unknownUser  bool
}

// api serves one API request.
func (s *Simulator) api(w http.ResponseWriter, r *http.Request, kind, userID string) {
	now := s.now()
	auth := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(auth, "Bearer ")
	authorized := ok && tok != "" && (s.cfg.Token == "" || tok == s.cfg.Token)
	hdr, limited := s.window(kind, now, authorized)
	for k, v := range hdr {
		w.Header()[k] = v
	}
	if !authorized {
		writeProblem(w, http.StatusUnauthorized, "Unauthorized", "Unauthorized", "about:blank")
		return
	}
	if limited {
		writeProblem(w, http.StatusTooManyRequests, "Too Many Requests", "Too Many Requests", "about:blank")
		return
	}
	v := r.URL.Query()
	fault := s.takeFault(v.Get("next_token") != "" || v.Get("pagination_token") != "")
	switch fault.Kind {
	case FaultRateLimit:
		wait := fault.Wait
		if wait <= 0 {
			wait = time.Second
		}
		reset := now.Add(wait)
		sec := reset.Unix()
		if reset.After(time.Unix(sec, 0)) {
			sec++
		}
		w.Header().Set("X-Rate-Limit-Remaining", "0")
		w.Header().Set("X-Rate-Limit-Reset", strconv.FormatInt(sec, 10))
		writeProblem(w, http.StatusTooManyRequests, "Too Many Requests", "Too Many Requests", "about:blank")
		return
	case FaultServerError:
		s.mu.Lock()
		s.errs++
		odd := s.errs%2 == 1
		s.mu.Unlock()
		if odd {
			writeProblem(w, http.StatusServiceUnavailable, "Service Unavailable", "Service Unavailable", "about:blank")
		} else {
			writeProblem(w, http.StatusInternalServerError, "Internal Server Error", "Internal Server Error", "about:blank")
		}
		return
	case FaultTokenExpired:
		writeProblem(w, http.StatusUnauthorized, "Unauthorized", "Unauthorized", "about:blank")
		return
	}
	req, verr := s.parse(r, kind, userID, now)
	if verr != nil {
		writeInvalid(w, verr)
		return
	}
	if fault.Kind == FaultEmpty {
		next := req.cur
		next.hop++
		writeJSON(w, http.StatusOK, map[string]any{"meta": map[string]any{"result_count": 0, "next_token": s.encodeToken(next)}})
		return
	}
	body, ids := s.page(req)
	if fault.Kind == FaultRepeatToken {
		body = s.withNextToken(body, req.token)
	}
	if fault.Kind == FaultMalformed {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(body[:len(body)/2])
		return
	}
	s.mu.Lock()
	for _, id := range ids {
		s.served[id] = struct{}{}
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// window returns the x-rate-limit-* headers of kind's 15-minute window,
// counting the call when count is set, and whether the call is over
// WindowLimit.
func (s *Simulator) window(kind string, now time.Time, count bool) (http.Header, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	win := s.windows[kind]
	if win == nil || !now.Before(win.start.Add(simWindowLen)) {
		win = &simWindow{start: now}
		s.windows[kind] = win
	}
	limit := simDefaultLimit
	if s.cfg.WindowLimit > 0 {
		limit = s.cfg.WindowLimit
	}
	if count {
		win.used++
	}
	h := http.Header{}
	h.Set("X-Rate-Limit-Limit", strconv.Itoa(limit))
	remaining := max(limit-win.used, 0)
	if s.cfg.WindowLimit <= 0 {
		remaining = max(remaining, 1) // not enforced: never announce an empty window
	}
	h.Set("X-Rate-Limit-Remaining", strconv.Itoa(remaining))
	h.Set("X-Rate-Limit-Reset", strconv.FormatInt(win.start.Add(simWindowLen).Unix(), 10))
	return h, s.cfg.WindowLimit > 0 && win.used > limit
}

// takeFault takes the next queued fault that applies (FaultRepeatToken
// waits for a request with a token); the zero Fault when none.
func (s *Simulator) takeFault(hasToken bool) Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, f := range s.faults {
		if f.Kind == FaultRepeatToken && !hasToken {
			continue
		}
		s.faults[k].Count--
		if s.faults[k].Count <= 0 {
			s.faults = slices.Delete(s.faults, k, k+1)
		}
		return f
	}
	return Fault{}
}
