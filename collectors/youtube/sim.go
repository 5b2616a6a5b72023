package youtube

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"html"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/govlisten/govlisten/collectors"
	"github.com/govlisten/govlisten/config"
	"github.com/govlisten/govlisten/internal/synth"
)

// SimConfig configures a Simulator.
type SimConfig struct {
	// Rate is new comments per second; default 20.
	Rate float64
	// Seed makes the simulated world: the same seed, the same comments.
	Seed uint64
	// Token is the only API key accepted; "" accepts any non-empty key.
	Token string
	// Start is when comment 0 is posted (comment i at Start + i/Rate).
	// Zero: the clock's time at NewSimulator. A test may set it in the
	// past to have a backlog.
	Start time.Time
	// DailyQuota is the units each key may spend per Pacific day, after
	// which the simulator answers 403 quotaExceeded; 0 is unlimited.
	DailyQuota int
	// Now is the simulator's clock (which comments exist, edits,
	// deletions, quota days); nil is time.Now.
	Now func() time.Time
}

// FaultKind is a kind of failure the Simulator can be told to answer with.
type FaultKind int

// Faults, each in YouTube's wire format.
const (
	// FaultRateLimit answers 429 rateLimitExceeded, with Retry-After =
	// Wait (rounded up to seconds) when Wait > 0.
	FaultRateLimit FaultKind = iota + 1
	// FaultServerError answers 500 backendError, then 503, alternately.
	FaultServerError
	// FaultMalformed answers 200 with the page's JSON cut in half.
	FaultMalformed
	// FaultEmpty answers 200 with no items and a nextPageToken that
	// leads to the page that was asked for.
	FaultEmpty
	// FaultTokenExpired answers 400 keyInvalid (YouTube's refused key).
	FaultTokenExpired
	// FaultRepeatToken answers the page with a nextPageToken equal to the
	// request's pageToken (on a first page: a token that keeps repeating
	// itself).
	FaultRepeatToken
	// FaultRateLimit403 answers 403 userRateLimitExceeded, YouTube's
	// usual throttling answer, with Retry-After when Wait > 0.
	FaultRateLimit403
	// FaultQuotaExceeded answers 403 quotaExceeded.
	FaultQuotaExceeded
)

// Fault queues Kind for the next Count API requests.
type Fault struct {
	Kind  FaultKind
	Count int
	// Wait is the Retry-After a rate-limit fault announces.
	Wait time.Duration
}

// Simulator is a YouTube Data API v3 server for tests and demos: GET
// /youtube/v3/commentThreads, /comments, /search and /videos, with the
// real parameters, JSON shapes, page tokens, quota costs and error
// envelopes, over a small world of UK government channels and videos whose
// comments (replies, edits, deletions, Welsh, emoji) arrive at Rate per
// second. Every request with an accepted key is charged its quota cost, as
// YouTube does, errors included. GET /_sim/served returns {"ids":[...]}.
// Safe for concurrent use.
type Simulator struct {
	cfg   SimConfig
	now   func() time.Time
	start time.Time
	rate  float64
	gen   *synth.Generator

	mu        sync.Mutex
	comments  []*simComment
	byVideo   [][]int // top-level comment indices per video, oldest first
	byChannel [][]int
	authors   []simAuthor
	faults    []Fault
	served    map[string]struct{}
	units     map[string]map[string]int // key → Pacific day → units
	calls     map[string]int            // path → requests
	serial    uint64
	flip      int
}

// simMaxComments bounds the comments a Simulator keeps in memory.
const simMaxComments = 2_000_000

type simChannel struct {
	id, title, handle, department string
}

type simVideo struct {
	id          string
	channel     int
	title       string
	description string
	age         time.Duration // published Start - age
	weight      int           // share of new comments
	disabled    bool          // comments disabled
}

var (
	simChannels = []simChannel{
		{id: "UCsimDWPgovuk00000000001", title: "Department for Work and Pensions", handle: "@DWPgovuk", department: "dwp"},
		{id: "UCsimHMRCgovuk0000000002", title: "HM Revenue & Customs", handle: "@HMRCgovuk", department: "hmrc"},
		{id: "UCsimNHSEngland000000003", title: "NHS England", handle: "@NHSEngland", department: "dhsc"},
	}
	simVideos = []simVideo{
		{id: "simDWPuc001", channel: 0, title: "Universal Credit: how to apply", description: "A step-by-step guide to applying for Universal Credit online.", age: time.Hour, weight: 30},
		{id: "simDWPcol02", channel: 0, title: "Cost of living payments explained", description: "Who gets the cost of living payments and when.", age: 3 * 24 * time.Hour, weight: 18},
		{id: "simDWPpip03", channel: 0, title: "PIP assessments: what to expect", description: "Personal Independence Payment assessments explained.", age: 12 * 24 * time.Hour, weight: 8},
		{id: "simDWPoff04", channel: 0, title: "Minister's statement on State Pension age", description: "A statement from the Secretary of State for Work and Pensions.", age: 2 * 24 * time.Hour, disabled: true},
		{id: "simHMRCsa01", channel: 1, title: "Self Assessment: file your tax return online", description: "How to file your Self Assessment tax return before the deadline.", age: 6 * time.Hour, weight: 20},
		{id: "simHMRCmtd2", channel: 1, title: "Making Tax Digital for Income Tax", description: "What Making Tax Digital means for the self-employed and landlords.", age: 5 * 24 * time.Hour, weight: 7},
		{id: "simNHSvax01", channel: 2, title: "Winter vaccines: who can get them", description: "Flu and COVID-19 vaccines this winter on the NHS.", age: 30 * time.Minute, weight: 14},
		{id: "simNHSapp02", channel: 2, title: "Using the NHS App", description: "Book appointments and order repeat prescriptions in the NHS App.", age: 20 * 24 * time.Hour, weight: 3},
	}
	simWelsh = []string{
		"Diolch yn fawr am y fideo, defnyddiol iawn 👍",
		"Pam nad yw'r ffurflen ar gael yn Gymraeg?",
		"Mae'r gwasanaeth hwn yn ofnadwy, tair wythnos a dim ateb",
		"Da iawn, eglurhad clir o'r diwedd 🏴󠁧󠁢󠁷󠁬󠁳󠁿",
	}
	simExtras = []string{
		" 👩🏽‍💻", " 👨‍👩‍👧‍👦", " 🏴󠁧󠁢󠁷󠁬󠁳󠁿", "\nSecond line: R&D <b>isn't</b> \"bold\"", " 🇬🇧❤️",
	}
	simEdits = []string{" — EDIT: sorted now, thanks", " (edit: still waiting)", "\n\nUpdate: they rang me back 🙏", " — edited: typo"}
	simFirst = []string{"Aisha", "Ben", "Carys", "Dafydd", "Emma", "Femi", "Gareth", "Hannah", "Imran", "Jess", "Kwame", "Lowri", "Mo", "Niamh", "Olu", "Priya", "Rhys", "Sian", "Tom", "Zara"}
	simLast  = []string{"Jones", "Patel", "Williams", "Smith", "Evans", "Khan", "Davies", "Brown", "Okafor", "Hughes", "Taylor", "Ahmed"}
)

// SimSources returns sources over the Simulator's world: each channel's
// comments (with the channel as Own), the busiest video, and a search.
func SimSources() []config.Source {
	var out []config.Source
	for _, c := range simChannels {
		out = append(out, config.Source{
			Name: "youtube-" + strings.ToLower(c.department) + "-channel", Platform: "youtube", Kind: KindChannelComments,
			ChannelID: c.id, Department: c.department, Own: []string{c.id},
		})
	}
	out = append(out,
		config.Source{Name: "youtube-uc-video", Platform: "youtube", Kind: KindVideoComments, VideoID: simVideos[0].id, Department: "dwp", Own: []string{simChannels[0].id}},
		config.Source{Name: "youtube-search-tax", Platform: "youtube", Kind: KindSearch, Query: "tax", Department: "hmrc", Own: []string{simChannels[1].id}},
	)
	return out
}

type simAuthor struct {
	channelID, display, url string
}

type simComment struct {
	idx      int
	id       string
	parent   int // index of the top-level comment; -1 for a top-level one
	video    int
	author   int // index into authors; -1: the video's channel itself
	created  time.Time
	text     string
	edited   string
	editAt   time.Time // zero: never edited
	deleteAt time.Time // zero: never deleted
	likes    int
	original bool // textOriginal is sent
	replies  []int
}

func (c *simComment) visible(now time.Time) bool {
	return c.deleteAt.IsZero() || now.Before(c.deleteAt)
}

// NewSimulator returns a Simulator for c.
func NewSimulator(c SimConfig) *Simulator {
	s := &Simulator{
		cfg:       c,
		now:       c.Now,
		rate:      c.Rate,
		gen:       synth.New(c.Seed),
		byVideo:   make([][]int, len(simVideos)),
		byChannel: make([][]int, len(simChannels)),
		served:    map[string]struct{}{},
		units:     map[string]map[string]int{},
		calls:     map[string]int{},
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.rate <= 0 {
		s.rate = 20
	}
	s.start = c.Start
	if s.start.IsZero() {
		s.start = s.now()
	}
	r := rand.New(rand.NewPCG(c.Seed, 0xa17b0c5))
	for i := 0; i < 150; i++ {
		first, last := simFirst[r.IntN(len(simFirst))], simLast[r.IntN(len(simLast))]
		a := simAuthor{channelID: "UC" + simCode(r, 22)}
		if r.IntN(10) < 7 {
			a.display = "@" + strings.ToLower(first+last) + strconv.Itoa(r.IntN(1000))
			a.url = "http://www.youtube.com/" + a.display
		} else {
			a.display = first + " " + last
			a.url = "http://www.youtube.com/channel/" + a.channelID
		}
		s.authors = append(s.authors, a)
	}
	return s
}

const simAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"

func simCode(r *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = simAlphabet[r.IntN(62)]
	}
	return string(b)
}

// Inject queues f for the next f.Count API requests (after the faults
// already queued).
func (s *Simulator) Inject(f Fault) {
	if f.Count <= 0 {
		f.Count = 1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, f)
}

// Served returns the distinct mention ids (top-level comment and reply
// ids, as the mapping produces them) served in successful responses so
// far, sorted.
func (s *Simulator) Served() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]string, 0, len(s.served))
	for id := range s.served {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// Units returns the quota units charged to key, by Pacific day
// ("2006-01-02").
func (s *Simulator) Units(key string) map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for d, u := range s.units[key] {
		out[d] = u
	}
	return out
}

// Calls returns how many requests path (such as "/youtube/v3/search")
// received, refused ones included.
func (s *Simulator) Calls(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[path]
}

// created is when comment i is posted.
func (s *Simulator) created(i int) time.Time {
	return s.start.Add(time.Duration(float64(i) / s.rate * float64(time.Second)))
}

// advance generates the comments posted by now.
func (s *Simulator) advance(now time.Time) {
	if now.Before(s.start) {
		return
	}
	n := int(math.Min(now.Sub(s.start).Seconds()*s.rate, simMaxComments)) + 1
	for n > len(s.comments) && s.created(n-1).After(now) {
		n--
	}
	for i := len(s.comments); i < n; i++ {
		s.generate(i)
	}
}

func (s *Simulator) generate(i int) {
	r := rand.New(rand.NewPCG(s.cfg.Seed, uint64(i)+1))
	c := &simComment{idx: i, parent: -1, created: s.created(i), author: r.IntN(len(s.authors))}
	weights := 0
	for _, v := range simVideos {
		weights += v.weight
	}
	for w := r.IntN(weights); ; c.video++ {
		if w -= simVideos[c.video].weight; w < 0 {
			break
		}
	}
	if threads := s.byVideo[c.video]; len(threads) > 0 && r.Float64() < 0.45 {
		// A reply to one of the 30 newest threads; a few threads draw
		// most replies (more than the 5 commentThreads embeds).
		recent := threads[max(0, len(threads)-30):]
		total := 0
		for _, k := range recent {
			total += simReplyWeight(k)
		}
		w := r.IntN(total)
		for _, k := range recent {
			if w -= simReplyWeight(k); w < 0 {
				c.parent = k
				break
			}
		}
	}
	if r.Float64() < 0.06 {
		c.author = -1
	}
	c.text = s.gen.Next().Text
	switch x := r.Float64(); {
	case x < 0.08:
		c.text = simWelsh[r.IntN(len(simWelsh))]
	case x < 0.25:
		c.text += simExtras[r.IntN(len(simExtras))]
	}
	c.likes = r.IntN(40)
	if r.IntN(20) == 0 {
		c.likes = r.IntN(50000)
	}
	c.original = r.Float64() >= 0.15
	if r.Float64() < 0.1 {
		c.editAt = c.created.Add(30*time.Second + time.Duration(r.Int64N(int64(10*time.Minute))))
		c.edited = c.text + simEdits[r.IntN(len(simEdits))]
	}
	if r.Float64() < 0.03 {
		c.deleteAt = c.created.Add(time.Minute + time.Duration(r.Int64N(int64(20*time.Minute))))
	}
	if c.parent < 0 {
		c.id = fmt.Sprintf("Ug%c%s%08x4AaABAg", "wxyz"[r.IntN(4)], simCode(r, 7), i)
		s.byVideo[c.video] = append(s.byVideo[c.video], i)
		ch := simVideos[c.video].channel
		s.byChannel[ch] = append(s.byChannel[ch], i)
	} else {
		p := s.comments[c.parent]
		c.id = fmt.Sprintf("%s.A%010x", p.id, i)
		p.replies = append(p.replies, i)
	}
	s.comments = append(s.comments, c)
}

// simReplyWeight makes every 13th thread a popular one.
func simReplyWeight(idx int) int {
	if idx%13 == 0 {
		return 21
	}
	return 1
}

// Page tokens are opaque to clients: base64 of kind|cursor|serial|repeat.
// A "repeat" token keeps naming itself as the next page (FaultRepeatToken).
func (s *Simulator) token(kind byte, cursor int, repeat bool) string {
	s.serial++
	rep := 0
	if repeat {
		rep = 1
	}
	return base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "%c|%d|%d|%d", kind, cursor, s.serial, rep))
}

func parseSimToken(tok string, kind byte) (cursor int, repeat, ok bool) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return 0, false, false
	}
	f := strings.Split(string(b), "|")
	if len(f) != 4 || f[0] != string(kind) {
		return 0, false, false
	}
	cursor, err = strconv.Atoi(f[1])
	if err != nil || cursor < -1 {
		return 0, false, false
	}
	return cursor, f[3] == "1", true
}

// simError is an error answer in YouTube's envelope.
type simError struct {
	code                    int
	reason, domain, message string
	location                string
	header                  http.Header
	modern                  bool // the newer shape with status and details (API key not valid)
}

var simCosts = map[string]int{
	"/youtube/v3/commentThreads": 1,
	"/youtube/v3/comments":       1,
	"/youtube/v3/search":         100,
	"/youtube/v3/videos":         1,
}

// ServeHTTP implements http.Handler.
func (s *Simulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/_sim/served" {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string][]string{"ids": s.Served()})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cost, ok := simCosts[r.URL.Path]
	if !ok {
		writeSimError(w, &simError{code: 404, reason: "notFound", domain: "global", message: "Not Found"})
		return
	}
	s.calls[r.URL.Path]++
	if r.Method != http.MethodGet {
		writeSimError(w, &simError{code: 405, reason: "httpMethodNotAllowed", domain: "global", message: "HTTP method not allowed"})
		return
	}
	q := r.URL.Query()
	key := q.Get("key")
	switch {
	case key == "":
		writeSimError(w, &simError{code: 403, reason: "forbidden", domain: "global", message: "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API."})
		return
	case s.cfg.Token != "" && key != s.cfg.Token:
		writeSimError(w, &simError{code: 400, reason: "badRequest", domain: "global", message: "API key not valid. Please pass a valid API key.", modern: true})
		return
	}
	now := s.now()
	day := now.In(collectors.Pacific).Format("2006-01-02")
	if s.units[key] == nil {
		s.units[key] = map[string]int{}
	}
	if s.cfg.DailyQuota > 0 && s.units[key][day]+cost > s.cfg.DailyQuota {
		writeSimError(w, &simError{code: 403, reason: "quotaExceeded", domain: "youtube.quota", message: "The request cannot be completed because you have exceeded your <a href=\"/youtube/v3/getting-started#quota\">quota</a>."})
		return
	}
	s.units[key][day] += cost
	s.advance(now)

	var mode FaultKind
	if len(s.faults) > 0 {
		f := &s.faults[0]
		mode = f.Kind
		if f.Count--; f.Count <= 0 {
			s.faults = s.faults[1:]
		}
		if e := s.faultError(mode, f.Wait); e != nil {
			writeSimError(w, e)
			return
		}
	}
	var body any
	var ids []string
	var e *simError
	switch r.URL.Path {
	case "/youtube/v3/commentThreads":
		body, ids, e = s.commentThreads(q, now, mode)
	case "/youtube/v3/comments":
		body, ids, e = s.replies(q, now, mode)
	case "/youtube/v3/search":
		body, e = s.search(q, now, mode)
	case "/youtube/v3/videos":
		body, e = s.videos(q, now, mode)
	}
	if e != nil {
		writeSimError(w, e)
		return
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // Google sends & < > as they are
	_ = enc.Encode(body)
	out := buf.Bytes()
	if mode == FaultMalformed {
		out = out[:len(out)/2]
	} else {
		for _, id := range ids {
			s.served[id] = struct{}{}
		}
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.Header().Set("Vary", "Origin, X-Origin, Referer")
	_, _ = w.Write(out)
}

func (s *Simulator) faultError(k FaultKind, wait time.Duration) *simError {
	retry := http.Header{}
	if wait > 0 {
		retry.Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
	}
	switch k {
	case FaultRateLimit:
		return &simError{code: 429, reason: "rateLimitExceeded", domain: "youtube.quota", message: "The request cannot be completed because you have exceeded your rate limit.", header: retry}
	case FaultRateLimit403:
		return &simError{code: 403, reason: "userRateLimitExceeded", domain: "usageLimits", message: "User Rate Limit Exceeded", header: retry}
	case FaultQuotaExceeded:
		return &simError{code: 403, reason: "quotaExceeded", domain: "youtube.quota", message: "The request cannot be completed because you have exceeded your <a href=\"/youtube/v3/getting-started#quota\">quota</a>."}
	case FaultTokenExpired:
		return &simError{code: 400, reason: "keyInvalid", domain: "usageLimits", message: "Bad Request"}
	case FaultServerError:
		s.flip++
		if s.flip%2 == 1 {
			return &simError{code: 500, reason: "backendError", domain: "global", message: "Backend Error"}
		}
		return &simError{code: 503, reason: "backendError", domain: "global", message: "The service is currently unavailable."}
	}
	return nil
}

func writeSimError(w http.ResponseWriter, e *simError) {
	type errorItem struct {
		Message      string `json:"message"`
		Domain       string `json:"domain"`
		Reason       string `json:"reason"`
		Location     string `json:"location,omitempty"`
		LocationType string `json:"locationType,omitempty"`
	}
	type errorBody struct {
		Code    int         `json:"code"`
		Message string      `json:"message"`
		Errors  []errorItem `json:"errors"`
		Status  string      `json:"status,omitempty"`
		Details []any       `json:"details,omitempty"`
	}
	body := errorBody{Code: e.code, Message: e.message, Errors: []errorItem{{Message: e.message, Domain: e.domain, Reason: e.reason, Location: e.location}}}
	if e.location != "" {
		body.Errors[0].LocationType = "parameter"
	}
	if e.modern {
		body.Status = "INVALID_ARGUMENT"
		body.Details = []any{map[string]any{
			"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID", "domain": "googleapis.com",
			"metadata": map[string]string{"service": "youtube.googleapis.com"},
		}}
	}
	for k, v := range e.header {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(e.code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(map[string]errorBody{"error": body})
}

func badParam(reason, location, message string) *simError {
	return &simError{code: 400, reason: reason, domain: "youtube.parameter", message: message, location: location}
}

// parts reads part, repeated or comma-joined.
func parts(q url.Values) map[string]bool {
	out := map[string]bool{}
	for _, p := range q["part"] {
		for _, x := range strings.Split(p, ",") {
			if x = strings.TrimSpace(x); x != "" {
				out[x] = true
			}
		}
	}
	return out
}

func maxResults(q url.Values, dflt, lo, hi int) (int, *simError) {
	v := q.Get("maxResults")
	if v == "" {
		return dflt, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, badParam("invalidParameter", "maxResults", fmt.Sprintf("Invalid value '%s'. Values must be within the range: [%d, %d]", v, lo, hi))
	}
	return n, nil
}

func textFormat(q url.Values) (htmlFormat bool, e *simError) {
	switch q.Get("textFormat") {
	case "", "html":
		return true, nil
	case "plainText":
		return false, nil
	}
	return false, badParam("invalidParameter", "textFormat", "Invalid value for textFormat")
}

// Wire shapes, in the API's field order.
type (
	simList struct {
		Kind          string      `json:"kind"`
		Etag          string      `json:"etag"`
		NextPageToken string      `json:"nextPageToken,omitempty"`
		RegionCode    string      `json:"regionCode,omitempty"`
		PageInfo      simPageInfo `json:"pageInfo"`
		Items         any         `json:"items"`
	}
	simPageInfo struct {
		TotalResults   int `json:"totalResults"`
		ResultsPerPage int `json:"resultsPerPage"`
	}
	simWireComment struct {
		Kind    string         `json:"kind"`
		Etag    string         `json:"etag"`
		ID      string         `json:"id"`
		Snippet simWireSnippet `json:"snippet"`
	}
	simWireSnippet struct {
		ChannelID             string        `json:"channelId"`
		VideoID               string        `json:"videoId"`
		TextDisplay           string        `json:"textDisplay"`
		TextOriginal          string        `json:"textOriginal,omitempty"`
		ParentID              string        `json:"parentId,omitempty"`
		AuthorDisplayName     string        `json:"authorDisplayName"`
		AuthorProfileImageURL string        `json:"authorProfileImageUrl"`
		AuthorChannelURL      string        `json:"authorChannelUrl"`
		AuthorChannelID       *simWireValue `json:"authorChannelId,omitempty"`
		CanRate               bool          `json:"canRate"`
		ViewerRating          string        `json:"viewerRating"`
		LikeCount             int           `json:"likeCount"`
		PublishedAt           string        `json:"publishedAt"`
		UpdatedAt             string        `json:"updatedAt"`
	}
	simWireValue struct {
		Value string `json:"value"`
	}
	simWireThread struct {
		Kind    string               `json:"kind"`
		Etag    string               `json:"etag"`
		ID      string               `json:"id"`
		Snippet simWireThreadSnippet `json:"snippet"`
		Replies *simWireReplies      `json:"replies,omitempty"`
	}
	simWireThreadSnippet struct {
		ChannelID       string         `json:"channelId"`
		VideoID         string         `json:"videoId"`
		TopLevelComment simWireComment `json:"topLevelComment"`
		CanReply        bool           `json:"canReply"`
		TotalReplyCount int            `json:"totalReplyCount"`
		IsPublic        bool           `json:"isPublic"`
	}
	simWireReplies struct {
		Comments []simWireComment `json:"comments"`
	}
)

func simEtag(parts ...string) string {
	h := fnv.New64a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}

func (s *Simulator) wireComment(c *simComment, now time.Time, htmlFormat bool) simWireComment {
	v := simVideos[c.video]
	ch := simChannels[v.channel]
	text, updated := c.text, c.created
	if !c.editAt.IsZero() && !now.Before(c.editAt) {
		text, updated = c.edited, c.editAt
	}
	sn := simWireSnippet{
		ChannelID: ch.id, VideoID: v.id, TextDisplay: text,
		CanRate: true, ViewerRating: "none", LikeCount: c.likes,
		PublishedAt: c.created.UTC().Format(time.RFC3339), UpdatedAt: updated.UTC().Format(time.RFC3339),
	}
	if htmlFormat {
		sn.TextDisplay = strings.ReplaceAll(html.EscapeString(text), "\n", "<br>")
	}
	if c.original {
		sn.TextOriginal = text
	}
	if c.author < 0 {
		sn.AuthorDisplayName, sn.AuthorChannelURL = ch.handle, "http://www.youtube.com/"+ch.handle
		sn.AuthorChannelID = &simWireValue{Value: ch.id}
	} else {
		a := s.authors[c.author]
		sn.AuthorDisplayName, sn.AuthorChannelURL = a.display, a.url
		sn.AuthorChannelID = &simWireValue{Value: a.channelID}
	}
	sn.AuthorProfileImageURL = "https://yt3.ggpht.com/ytc/sim" + simEtag(sn.AuthorChannelID.Value) + "=s48-c-k-c0x00ffffff-no-rj"
	if c.parent >= 0 {
		sn.ParentID = s.comments[c.parent].id
	}
	return simWireComment{Kind: "youtube#comment", Etag: simEtag(c.id, sn.UpdatedAt), ID: c.id, Snippet: sn}
}

// visibleReplies are a thread's replies that exist at now, oldest first.
func (s *Simulator) visibleReplies(c *simComment, now time.Time) []*simComment {
	var out []*simComment
	for _, i := range c.replies {
		if r := s.comments[i]; r.visible(now) {
			out = append(out, r)
		}
	}
	return out
}

func (s *Simulator) commentThreads(q url.Values, now time.Time, mode FaultKind) (any, []string, *simError) {
	p := parts(q)
	if len(p) == 0 {
		return nil, nil, badParam("required", "part", "Required parameter: part")
	}
	filters := 0
	for _, f := range []string{"videoId", "allThreadsRelatedToChannelId", "id", "channelId"} {
		if q.Get(f) != "" {
			filters++
		}
	}
	switch {
	case filters == 0:
		return nil, nil, badParam("missingRequiredParameter", "", "No filter selected. Expected one of: allThreadsRelatedToChannelId, channelId, id, videoId")
	case filters > 1:
		return nil, nil, badParam("incompatibleParameters", "", "Incompatible parameters specified in the request: filters")
	case q.Get("videoId") == "" && q.Get("allThreadsRelatedToChannelId") == "":
		return nil, nil, badParam("operationNotSupported", "", "The simulator supports videoId and allThreadsRelatedToChannelId only.")
	}
	limit, e := maxResults(q, 20, 1, 100)
	if e != nil {
		return nil, nil, e
	}
	if o := q.Get("order"); o != "" && o != "time" && o != "relevance" {
		return nil, nil, badParam("invalidParameter", "order", "Invalid value for order")
	}
	htmlFormat, e := textFormat(q)
	if e != nil {
		return nil, nil, e
	}
	var list []int
	if id := q.Get("videoId"); id != "" {
		vi := slices.IndexFunc(simVideos, func(v simVideo) bool { return v.id == id })
		switch {
		case vi < 0:
			return nil, nil, &simError{code: 404, reason: "videoNotFound", domain: "youtube.commentThread", location: "videoId",
				message: "The video identified by the <code><a href=\"/youtube/v3/docs/commentThreads/list#videoId\">videoId</a></code> parameter could not be found."}
		case simVideos[vi].disabled:
			return nil, nil, &simError{code: 403, reason: "commentsDisabled", domain: "youtube.commentThread", location: "videoId",
				message: "The video identified by the <code><a href=\"/youtube/v3/docs/commentThreads/list#videoId\">videoId</a></code> parameter has disabled comments."}
		}
		list = s.byVideo[vi]
	} else {
		id := q.Get("allThreadsRelatedToChannelId")
		ci := slices.IndexFunc(simChannels, func(c simChannel) bool { return c.id == id })
		if ci < 0 {
			return nil, nil, &simError{code: 404, reason: "channelNotFound", domain: "youtube.commentThread", location: "allThreadsRelatedToChannelId",
				message: "The channel identified by the <code>allThreadsRelatedToChannelId</code> parameter could not be found."}
		}
		list = s.byChannel[ci]
	}
	cursor, repeat := math.MaxInt, false
	if tok := q.Get("pageToken"); tok != "" {
		var ok bool
		if cursor, repeat, ok = parseSimToken(tok, 't'); !ok {
			return nil, nil, badParam("invalidPageToken", "pageToken", "The request specifies an invalid page token.")
		}
	}
	items := []simWireThread{}
	var ids []string
	last, more := cursor, false
	if mode != FaultEmpty {
		pos := sort.SearchInts(list, cursor)
		for j := pos - 1; j >= 0; j-- {
			c := s.comments[list[j]]
			if !c.visible(now) {
				continue
			}
			if len(items) == limit {
				more = true
				break
			}
			replies := s.visibleReplies(c, now)
			t := simWireThread{Kind: "youtube#commentThread", ID: c.id, Snippet: simWireThreadSnippet{
				ChannelID: simChannels[simVideos[c.video].channel].id, VideoID: simVideos[c.video].id,
				TopLevelComment: s.wireComment(c, now, htmlFormat), CanReply: true, TotalReplyCount: len(replies), IsPublic: true,
			}}
			ids = append(ids, c.id)
			if p["replies"] && len(replies) > 0 {
				t.Replies = &simWireReplies{}
				for _, r := range replies[:min(len(replies), 5)] {
					t.Replies.Comments = append(t.Replies.Comments, s.wireComment(r, now, htmlFormat))
					ids = append(ids, r.id)
				}
			}
			t.Etag = simEtag(c.id, t.Snippet.TopLevelComment.Etag, strconv.Itoa(len(replies)))
			items = append(items, t)
			last = c.idx
		}
	} else {
		more = true
	}
	page := &simList{Kind: kindThreadList, PageInfo: simPageInfo{TotalResults: len(items), ResultsPerPage: limit}, Items: items}
	switch {
	case repeat || mode == FaultRepeatToken && q.Get("pageToken") != "":
		page.NextPageToken = q.Get("pageToken")
	case mode == FaultRepeatToken:
		page.NextPageToken = s.token('t', cursor, true)
	case more:
		page.NextPageToken = s.token('t', last, false)
	}
	page.Etag = simEtag(kindThreadList, page.NextPageToken, strconv.Itoa(len(ids)))
	return page, ids, nil
}

func (s *Simulator) replies(q url.Values, now time.Time, mode FaultKind) (any, []string, *simError) {
	if len(parts(q)) == 0 {
		return nil, nil, badParam("required", "part", "Required parameter: part")
	}
	parentID := q.Get("parentId")
	if parentID == "" {
		return nil, nil, badParam("missingRequiredParameter", "", "No filter selected. Expected one of: id, parentId")
	}
	limit, e := maxResults(q, 20, 1, 100)
	if e != nil {
		return nil, nil, e
	}
	htmlFormat, e := textFormat(q)
	if e != nil {
		return nil, nil, e
	}
	var parent *simComment
	if i := strings.LastIndex(parentID, "4AaABAg"); i > 8 {
		if n, err := strconv.ParseInt(parentID[i-8:i], 16, 64); err == nil && int(n) < len(s.comments) && s.comments[n].id == parentID {
			parent = s.comments[n]
		}
	}
	if parent == nil || !parent.visible(now) {
		return nil, nil, &simError{code: 404, reason: "commentNotFound", domain: "youtube.comment", location: "parentId",
			message: "The comment identified by the <code><a href=\"/youtube/v3/docs/comments/list#parentId\">parentId</a></code> parameter could not be found."}
	}
	cursor, repeat := -1, false
	if tok := q.Get("pageToken"); tok != "" {
		var ok bool
		if cursor, repeat, ok = parseSimToken(tok, 'r'); !ok {
			return nil, nil, badParam("invalidPageToken", "pageToken", "The request specifies an invalid page token.")
		}
	}
	items := []simWireComment{}
	var ids []string
	last, more := cursor, mode == FaultEmpty
	if mode != FaultEmpty {
		for _, r := range s.visibleReplies(parent, now) {
			if r.idx <= cursor {
				continue
			}
			if len(items) == limit {
				more = true
				break
			}
			items = append(items, s.wireComment(r, now, htmlFormat))
			ids = append(ids, r.id)
			last = r.idx
		}
	}
	page := &simList{Kind: kindCommentList, PageInfo: simPageInfo{TotalResults: len(items), ResultsPerPage: limit}, Items: items}
	switch {
	case repeat || mode == FaultRepeatToken && q.Get("pageToken") != "":
		page.NextPageToken = q.Get("pageToken")
	case mode == FaultRepeatToken:
		page.NextPageToken = s.token('r', cursor, true)
	case more:
		page.NextPageToken = s.token('r', last, false)
	}
	page.Etag = simEtag(kindCommentList, parentID, page.NextPageToken)
	return page, ids, nil
}

func (s *Simulator) videoPublished(v simVideo) time.Time {
	return s.start.Add(-v.age).Truncate(time.Second)
}

// matches is the simulator's search: any term of q (quotes and OR
// dropped; a -term excludes) in the title or description.
func matches(v simVideo, q string) bool {
	hay := strings.ToLower(v.title + " " + v.description)
	hit := false
	for _, t := range strings.Fields(strings.ToLower(strings.ReplaceAll(q, `"`, " "))) {
		switch {
		case t == "or" || t == "|":
		case strings.HasPrefix(t, "-"):
			if len(t) > 1 && strings.Contains(hay, t[1:]) {
				return false
			}
		case strings.Contains(hay, t):
			hit = true
		}
	}
	return hit
}

func (s *Simulator) search(q url.Values, now time.Time, mode FaultKind) (any, *simError) {
	if !parts(q)["snippet"] {
		return nil, badParam("required", "part", "Required parameter: part (snippet)")
	}
	limit, e := maxResults(q, 5, 0, 50)
	if e != nil {
		return nil, e
	}
	var after time.Time
	if v := q.Get("publishedAfter"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return nil, badParam("invalidPublishedAfter", "publishedAfter", "Invalid value for publishedAfter")
		}
		after = t
	}
	var found []simVideo
	if ty := q.Get("type"); ty == "" || strings.Contains(ty, "video") {
		for _, v := range simVideos {
			pub := s.videoPublished(v)
			if !pub.Before(after) && !pub.After(now) && matches(v, q.Get("q")) {
				found = append(found, v)
			}
		}
	}
	sort.SliceStable(found, func(i, j int) bool { return s.videoPublished(found[i]).After(s.videoPublished(found[j])) })
	offset, repeat := 0, false
	if tok := q.Get("pageToken"); tok != "" {
		var ok bool
		if offset, repeat, ok = parseSimToken(tok, 's'); !ok {
			return nil, badParam("invalidPageToken", "pageToken", "The request specifies an invalid page token.")
		}
	}
	type searchID struct {
		Kind    string `json:"kind"`
		VideoID string `json:"videoId"`
	}
	type thumb struct {
		URL    string `json:"url"`
		Width  int    `json:"width"`
		Height int    `json:"height"`
	}
	type searchSnippet struct {
		PublishedAt          string           `json:"publishedAt"`
		ChannelID            string           `json:"channelId"`
		Title                string           `json:"title"`
		Description          string           `json:"description"`
		Thumbnails           map[string]thumb `json:"thumbnails"`
		ChannelTitle         string           `json:"channelTitle"`
		LiveBroadcastContent string           `json:"liveBroadcastContent"`
		PublishTime          string           `json:"publishTime"`
	}
	type searchResult struct {
		Kind    string        `json:"kind"`
		Etag    string        `json:"etag"`
		ID      searchID      `json:"id"`
		Snippet searchSnippet `json:"snippet"`
	}
	items := []searchResult{}
	end := offset
	if mode != FaultEmpty {
		end = min(offset+limit, len(found))
		for _, v := range found[min(offset, len(found)):end] {
			pub := s.videoPublished(v).UTC().Format(time.RFC3339)
			items = append(items, searchResult{
				Kind: "youtube#searchResult", Etag: simEtag(v.id), ID: searchID{Kind: "youtube#video", VideoID: v.id},
				Snippet: searchSnippet{
					PublishedAt: pub, ChannelID: simChannels[v.channel].id, Title: html.EscapeString(v.title), Description: v.description,
					Thumbnails:   map[string]thumb{"default": {URL: "https://i.ytimg.com/vi/" + v.id + "/default.jpg", Width: 120, Height: 90}},
					ChannelTitle: simChannels[v.channel].title, LiveBroadcastContent: "none", PublishTime: pub,
				},
			})
		}
	}
	page := &simList{Kind: "youtube#searchListResponse", RegionCode: "GB", PageInfo: simPageInfo{TotalResults: len(found), ResultsPerPage: limit}, Items: items}
	switch {
	case repeat || mode == FaultRepeatToken && q.Get("pageToken") != "":
		page.NextPageToken = q.Get("pageToken")
	case mode == FaultRepeatToken:
		page.NextPageToken = s.token('s', offset, true)
	case mode == FaultEmpty || end < len(found) && limit > 0:
		page.NextPageToken = s.token('s', end, false)
	}
	page.Etag = simEtag("search", q.Get("q"), page.NextPageToken)
	return page, nil
}

func (s *Simulator) videos(q url.Values, now time.Time, mode FaultKind) (any, *simError) {
	if len(parts(q)) == 0 {
		return nil, badParam("required", "part", "Required parameter: part")
	}
	if q.Get("id") == "" {
		return nil, badParam("missingRequiredParameter", "", "No filter selected. Expected one of: chart, id, myRating")
	}
	type stats struct {
		ViewCount     string `json:"viewCount"`
		LikeCount     string `json:"likeCount"`
		FavoriteCount string `json:"favoriteCount"`
		CommentCount  string `json:"commentCount,omitempty"`
	}
	type snippet struct {
		PublishedAt  string `json:"publishedAt"`
		ChannelID    string `json:"channelId"`
		Title        string `json:"title"`
		Description  string `json:"description"`
		ChannelTitle string `json:"channelTitle"`
	}
	type video struct {
		Kind       string   `json:"kind"`
		Etag       string   `json:"etag"`
		ID         string   `json:"id"`
		Snippet    *snippet `json:"snippet,omitempty"`
		Statistics *stats   `json:"statistics,omitempty"`
	}
	p := parts(q)
	items := []video{}
	if mode != FaultEmpty {
		for _, id := range strings.Split(strings.Join(q["id"], ","), ",") {
			vi := slices.IndexFunc(simVideos, func(v simVideo) bool { return v.id == id })
			if vi < 0 {
				continue // unknown or deleted: absent, not an error
			}
			v := simVideos[vi]
			out := video{Kind: "youtube#video", Etag: simEtag(v.id, "video"), ID: v.id}
			if p["snippet"] {
				out.Snippet = &snippet{PublishedAt: s.videoPublished(v).UTC().Format(time.RFC3339), ChannelID: simChannels[v.channel].id,
					Title: v.title, Description: v.description, ChannelTitle: simChannels[v.channel].title}
			}
			if p["statistics"] {
				n := 0
				for _, c := range s.byVideo[vi] {
					if s.comments[c].visible(now) {
						n += 1 + len(s.visibleReplies(s.comments[c], now))
					}
				}
				out.Statistics = &stats{ViewCount: strconv.Itoa(1000 + 37*n), LikeCount: strconv.Itoa(10 + n/3), FavoriteCount: "0"}
				if !v.disabled {
					out.Statistics.CommentCount = strconv.Itoa(n)
				}
			}
			items = append(items, out)
		}
	}
	return &simList{Kind: "youtube#videoListResponse", Etag: simEtag("videos", q.Get("id")), PageInfo: simPageInfo{TotalResults: len(items), ResultsPerPage: len(items)}, Items: items}, nil
}
