package facebook

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/govlisten/govlisten/internal/synth"
)

// Simulator is a fake Graph API for tests, benchmarks and demos. It serves
// GET /{version}/{page-id}/feed, /{page-id}/tagged, /{page-id}/posts and
// /{object-id}/comments in the API's wire format: requested fields (unknown
// field syntax is ignored), since/until, limit (at most 100), opaque
// cursors, paging.next as an absolute https://graph.facebook.com URL that
// embeds the access token, usage headers on every response, and Graph error
// bodies. Items appear at Rate per second from Start, deterministically
// from Seed: posts on each Page's feed (the Page's own and visitors'),
// posts that tag a Page, comments, replies (some by the Page itself),
// items without message, from or id, items hidden by privacy (they take a
// slot in a page but are not sent, so pages come short or empty with a
// next), edited posts and deleted items that stop appearing (a deleted
// post's comments answer error 100/33).
//
// Simulated time is real time. Safe for concurrent use.
type Simulator struct {
	cfg SimConfig

	mu          sync.Mutex
	items       []*simItem
	byID        map[string]*simItem
	feed        map[string][]*simItem // page id → its feed's posts, oldest first
	tagged      map[string][]*simItem // page id → posts that tag it
	thread      map[string][]*simItem // post id → its comments and replies
	replies     map[string][]*simItem // comment id → its replies
	recentPosts []*simItem
	recentTop   []*simItem
	served      map[string]bool
	faults      []Fault
	requests    int
	log         []SimRequest
	nonce       uint64
}

// SimConfig configures a Simulator.
type SimConfig struct {
	// Rate is new items per second; default 20.
	Rate float64
	// Seed makes the items; the same seed gives the same items.
	Seed uint64
	// Token is the only access token accepted; "" accepts any non-empty one.
	Token string
	// Start is when item 0 is created (item i at Start + i/Rate); zero is
	// time.Now() at NewSimulator. A Start in the past makes a backlog.
	Start time.Time
	// Pages are the simulated Page ids; default SimPages.
	Pages []string
	// Usage is the percentage the usage headers start from; each request
	// adds 100/UsageCalls. At 95 or more a collector stops calling for a
	// while, from 80 it paces its calls.
	Usage float64
	// UsageCalls is how many requests take usage from 0 to 100%; default
	// 100000.
	UsageCalls int
}

// SimPages are the default simulated Pages.
var SimPages = []string{"100000000000001", "100000000000002"}

var simPageNames = map[string]string{
	"100000000000001": "Department for Work and Pensions",
	"100000000000002": "HM Revenue & Customs",
	"100000000000003": "Department of Health and Social Care",
}

// FaultKind is a failure the Simulator can be told to answer with.
type FaultKind int

// Faults. Each applies to the next Count API requests (FaultRepeatToken:
// the next Count requests that carry a cursor).
const (
	// FaultRateLimit answers 400 with Graph error 80001 and an
	// X-Business-Use-Case-Usage at 100% whose
	// estimated_time_to_regain_access is Wait (in minutes, fractional when
	// Wait is not whole minutes; the real API sends whole minutes).
	FaultRateLimit FaultKind = iota + 1
	// FaultServerError answers 500 with Graph error 2 (is_transient) or,
	// every other time, 503 with a plain-text body from a proxy.
	FaultServerError
	// FaultMalformed answers 200 with the page's JSON cut in half.
	FaultMalformed
	// FaultEmpty answers 200 with no data and a next cursor at the same
	// position, as privacy filtering does.
	FaultEmpty
	// FaultTokenExpired answers 400 with Graph error 190, subcode 463.
	FaultTokenExpired
	// FaultRepeatToken answers the page normally but with the request's own
	// cursor as the after cursor, and a next.
	FaultRepeatToken
	// FaultHighUsage answers the page normally with usage headers at 96%
	// and an estimated_time_to_regain_access of Wait.
	FaultHighUsage
)

// Fault is queued with Inject. Wait is the wait the fault announces.
type Fault struct {
	Kind  FaultKind
	Count int
	Wait  time.Duration
}

// SimRequest is one API request the Simulator received.
type SimRequest struct {
	Time  time.Time
	Host  string
	Path  string
	Query url.Values // without access_token's value (kept as "present")
	// Auth is how the token came: "bearer", "param" or "" (none).
	Auth   string
	Status int
}

// NewSimulator returns a Simulator; see SimConfig for the defaults.
func NewSimulator(c SimConfig) *Simulator {
	if c.Rate <= 0 {
		c.Rate = 20
	}
	if c.Start.IsZero() {
		c.Start = time.Now()
	}
	if len(c.Pages) == 0 {
		c.Pages = SimPages
	}
	if c.UsageCalls <= 0 {
		c.UsageCalls = 100000
	}
	return &Simulator{
		cfg:     c,
		byID:    map[string]*simItem{},
		feed:    map[string][]*simItem{},
		tagged:  map[string][]*simItem{},
		thread:  map[string][]*simItem{},
		replies: map[string][]*simItem{},
		served:  map[string]bool{},
	}
}

// Inject queues f.
func (s *Simulator) Inject(f Fault) {
	if f.Count <= 0 {
		f.Count = 1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, f)
}

// Served returns the distinct ids, as MapPosts and MapComments produce
// them, of the items sent in successful responses so far, sorted.
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

// Requests returns the API requests received so far, oldest first.
func (s *Simulator) Requests() []SimRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]SimRequest(nil), s.log...)
}

// Delete deletes the item id now: it stops appearing, and a deleted post's
// or comment's comments answer error 100/33. It reports whether id exists.
func (s *Simulator) Delete(id string) bool {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.generate(now)
	it := s.byID[id]
	if it == nil {
		return false
	}
	if it.deleteAt.IsZero() || it.deleteAt.After(now) {
		it.deleteAt = now
	}
	return true
}

// simItem is one post, comment or reply.
type simItem struct {
	idx      int
	id       string
	post     bool
	page     string // the Page whose feed or tagged edge lists it (posts), or the thread's Page
	tagged   bool
	postID   string // comments: the post
	parentID string // replies: the comment
	at       time.Time
	fromID   string
	fromName string
	noFrom   bool
	noID     bool
	hidden   bool
	text     string
	noText   bool
	edited   string
	editAt   time.Time
	deleteAt time.Time
	status   string
	likes    uint64
	shares   uint64
}

func (it *simItem) created() time.Time { return it.at.Truncate(time.Second) }

func (it *simItem) gone(now time.Time) bool { return !it.deleteAt.IsZero() && !now.Before(it.deleteAt) }

// alive reports whether the item and its post and parent are not deleted.
func (s *Simulator) alive(it *simItem, now time.Time) bool {
	if it.gone(now) {
		return false
	}
	for _, id := range []string{it.postID, it.parentID} {
		if p := s.byID[id]; id != "" && p != nil && p.gone(now) {
			return false
		}
	}
	return true
}

func (it *simItem) message(now time.Time) string {
	if it.edited != "" && !now.Before(it.editAt) {
		return it.edited
	}
	return it.text
}

func (it *simItem) updated(now time.Time) time.Time {
	if it.edited != "" && !now.Before(it.editAt) {
		return it.editAt.Truncate(time.Second)
	}
	return it.created()
}

const (
	simPostBase    = 1000000000000000000 // post and comment numbers exceed 2^53
	simCommentBase = 1100000000000000000
	simUserBase    = 10000000000000000
	simRecent      = 12
)

var (
	simFirst = []string{"Priya", "Gareth", "Siân", "Tom", "Aisha", "Callum", "Niamh", "Dafydd", "Oluwaseun", "Zofia", "Mohammed", "Eilidh", "Rhys", "Grace", "Bartosz", "Fatima", "Jack", "Ffion", "Ade", "Chloé"}
	simLast  = []string{"N", "Jones", "Evans", "O'Brien", "Khan", "MacLeod", "Byrne", "Williams", "Adeyemi", "Nowak", "Ali", "Campbell", "Price", "Taylor", "Kowalski", "Begum", "Smith", "Hughes", "Okafor", "Martin"}
	simExtra = []string{"", "", "", "", " 👩‍👩‍👧‍👦", " 🏴󠁧󠁢󠁷󠁬󠁳󠁿", " 🤦🏽‍♀️", " 🇬🇧", " 😡😡", " ❤️"}
	simWelsh = []string{
		"Mae'r gwasanaeth yma'n warthus, dim ateb ers wythnosau.",
		"Diolch yn fawr i'r tîm am eich help gyda'r cais!",
		"Pam does dim gwybodaeth yn Gymraeg ar y wefan? 🏴󠁧󠁢󠁷󠁬󠁳󠁿",
	}
	simOwnPosts = []string{
		"📢 From today you can check what cost of living support you could get on GOV.UK.",
		"Deadline reminder: you have until 31 January to file your Self Assessment return online.",
		"We are aware some people are having trouble signing in. We are working to fix this and will update here.",
		"New guidance published today: what to do if your payment is late 👇",
		"Rydym yn ymwybodol o broblem gyda'r gwasanaeth ar-lein. Diolch am eich amynedd.",
	}
	simOwnReplies = []string{
		"Hi %s, sorry to hear this. Please send us a private message with your reference number and we'll look into it. ^AB",
		"Thanks for getting in touch, %s. You can find the latest guidance on GOV.UK.",
		"Helo %s, diolch am gysylltu. Anfonwch neges breifat atom ni os gwelwch yn dda.",
		"Hi %s, we're sorry for the wait. Our lines are open 8am to 6pm, Monday to Friday.",
	}
	simStatus = []string{"mobile_status_update", "shared_story", "added_photos", "added_video", "mobile_status_update"}
)

func (s *Simulator) pageName(id string) string {
	if n, ok := simPageNames[id]; ok {
		return n
	}
	return "UK Government Page " + id
}

// generate creates the items whose time has come by now.
func (s *Simulator) generate(now time.Time) {
	if now.Before(s.cfg.Start) {
		return
	}
	n := int(now.Sub(s.cfg.Start).Seconds()*s.cfg.Rate) + 1
	for len(s.items) < n {
		s.add(len(s.items))
	}
}

func (s *Simulator) add(i int) {
	r := rand.New(rand.NewPCG(s.cfg.Seed, uint64(i)*0x9e3779b97f4a7c15+1))
	at := s.cfg.Start.Add(time.Duration(float64(i) / s.cfg.Rate * float64(time.Second)))
	it := &simItem{idx: i, at: at}
	user := r.IntN(5000)
	it.fromID = strconv.Itoa(simUserBase + user*7919)
	it.fromName = simFirst[user%len(simFirst)] + " " + simLast[(user/len(simFirst))%len(simLast)]
	it.text = s.citizenText(r, i)
	it.likes = uint64(r.IntN(60))
	u := r.Float64()
	switch {
	case len(s.recentPosts) == 0 || u < 0.3:
		s.addPost(r, it)
	case len(s.recentTop) == 0 || u < 0.8:
		post := s.recentPosts[r.IntN(len(s.recentPosts))]
		it.postID, it.page = post.id, post.page
		it.id = postNumber(post.id) + "_" + strconv.Itoa(simCommentBase+i)
		s.commentFlags(r, it)
		s.recentTop = pushRecent(s.recentTop, it)
	default:
		parent := s.recentTop[r.IntN(len(s.recentTop))]
		it.postID, it.parentID, it.page = parent.postID, parent.id, parent.page
		it.id = postNumber(parent.postID) + "_" + strconv.Itoa(simCommentBase+i)
		s.commentFlags(r, it)
		if r.Float64() < 0.35 { // the Page answers
			it.fromID, it.fromName, it.noFrom = it.page, s.pageName(it.page), false
			it.text = fmt.Sprintf(simOwnReplies[r.IntN(len(simOwnReplies))], strings.Fields(parent.fromName + " there")[0])
		}
		s.replies[parent.id] = append(s.replies[parent.id], it)
	}
	if !it.post {
		s.thread[it.postID] = append(s.thread[it.postID], it)
	}
	s.items = append(s.items, it)
	s.byID[it.id] = it
}

func (s *Simulator) addPost(r *rand.Rand, it *simItem) {
	it.post = true
	it.page = s.cfg.Pages[r.IntN(len(s.cfg.Pages))]
	it.status = simStatus[r.IntN(len(simStatus))]
	it.shares = uint64(max(0, r.IntN(40)-20))
	it.likes = uint64(r.IntN(400))
	num := strconv.Itoa(simPostBase + it.idx)
	switch v := r.Float64(); {
	case v < 0.2: // a public post elsewhere that tags the Page
		it.tagged = true
		it.id = it.fromID + "_" + num
		s.tagged[it.page] = append(s.tagged[it.page], it)
	case v < 0.4: // the Page's own post
		it.id = it.page + "_" + num
		it.fromID, it.fromName = it.page, s.pageName(it.page)
		it.text = simOwnPosts[r.IntN(len(simOwnPosts))]
		s.feed[it.page] = append(s.feed[it.page], it)
	default: // a visitor's post on the Page
		it.id = it.page + "_" + num
		s.feed[it.page] = append(s.feed[it.page], it)
	}
	if it.fromID != it.page && r.Float64() < 0.08 {
		it.noFrom = true
	}
	if r.Float64() < 0.06 {
		it.noText, it.status = true, "added_photos"
	}
	it.hidden = r.Float64() < 0.03
	if r.Float64() < 0.1 && !it.noText {
		it.edited = it.text + " EDIT: " + []string{"got a reply in the end, thanks.", "still waiting.", "typo fixed", "diolch!"}[r.IntN(4)]
		it.editAt = it.at.Add(time.Duration(2+r.IntN(20)) * time.Second)
	}
	if r.Float64() < 0.05 {
		it.deleteAt = it.at.Add(time.Duration(3+r.IntN(40)) * time.Second)
	}
	s.recentPosts = pushRecent(s.recentPosts, it)
}

func (s *Simulator) commentFlags(r *rand.Rand, it *simItem) {
	it.noID = r.Float64() < 0.03
	it.noFrom = r.Float64() < 0.08
	it.noText = r.Float64() < 0.02
	it.hidden = r.Float64() < 0.02
	if r.Float64() < 0.03 {
		it.deleteAt = it.at.Add(time.Duration(2+r.IntN(30)) * time.Second)
	}
}

func (s *Simulator) citizenText(r *rand.Rand, i int) string {
	if r.Float64() < 0.08 {
		return simWelsh[r.IntN(len(simWelsh))]
	}
	text := synth.New(s.cfg.Seed ^ uint64(i)*0x2545f4914f6cdd1d).Next().Text
	return text + simExtra[r.IntN(len(simExtra))]
}

func pushRecent(list []*simItem, it *simItem) []*simItem {
	list = append(list, it)
	if len(list) > simRecent {
		list = list[1:]
	}
	return list
}

// postNumber is the object part of a post id ({page-id}_{post-number}).
func postNumber(postID string) string {
	if _, n, ok := strings.Cut(postID, "_"); ok {
		return n
	}
	return postID
}

var versionRE = regexp.MustCompile(`^v[0-9]+\.[0-9]+$`)

// ServeHTTP implements http.Handler.
func (s *Simulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/_sim/served" {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string][]string{"ids": s.Served()})
		return
	}
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.generate(now)
	s.requests++
	q := r.URL.Query()
	token, auth := "", ""
	if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") || strings.HasPrefix(h, "OAuth ") {
		token, auth = strings.TrimSpace(h[strings.IndexByte(h, ' ')+1:]), "bearer"
	} else if t := q.Get("access_token"); t != "" {
		token, auth = t, "param"
	}
	logged := url.Values{}
	for k, v := range q {
		if k == "access_token" {
			v = []string{"present"}
		}
		logged[k] = v
	}
	rec := SimRequest{Time: now, Host: r.Host, Path: r.URL.Path, Query: logged, Auth: auth}
	resp := s.answer(r, q, token, now)
	rec.Status = resp.status
	s.log = append(s.log, rec)
	s.writeUsage(w, resp)
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=UTF-8")
	h.Set("Facebook-API-Version", s.version(r.URL.Path))
	h.Set("X-FB-Trace-ID", s.traceID())
	for k, v := range resp.header {
		h[k] = v
	}
	w.WriteHeader(resp.status)
	_, _ = w.Write(resp.body)
}

// simResponse is an answer before it is written.
type simResponse struct {
	status int
	body   []byte
	header http.Header
	// usage overrides the usage headers' percentage; regain is announced.
	usage  float64
	regain time.Duration
	page   string
}

func (s *Simulator) version(path string) string {
	v, _, _ := strings.Cut(strings.TrimPrefix(path, "/"), "/")
	if versionRE.MatchString(v) {
		return v
	}
	return "v23.0"
}

func (s *Simulator) traceID() string {
	s.nonce++
	return fmt.Sprintf("AsimTrace%08x", s.nonce*2654435761%(1<<32))
}

// answer routes one API request and applies the queued faults.
func (s *Simulator) answer(r *http.Request, q url.Values, token string, now time.Time) simResponse {
	if r.Method != http.MethodGet {
		return s.graphError(http.StatusBadRequest, 100, 0, "(#100) The simulator only reads (GET)", false)
	}
	switch {
	case token == "":
		return s.graphError(http.StatusBadRequest, 104, 0, "An access token is required to request this resource.", false)
	case s.cfg.Token != "" && token != s.cfg.Token:
		return s.authError(190, 0, "Invalid OAuth access token - Cannot parse access token")
	}
	f := s.takeFault(q.Get("after") != "")
	switch f.Kind {
	case FaultRateLimit:
		resp := s.graphError(http.StatusBadRequest, 80001, 0, "(#80001) There have been too many calls to this Page account. Wait a bit and try again. For more info, please refer to https://developers.facebook.com/docs/graph-api/overview/rate-limiting.", true)
		resp.usage, resp.regain = 100, f.Wait
		return resp
	case FaultServerError:
		if s.requests%2 == 0 {
			return simResponse{status: http.StatusServiceUnavailable, body: []byte("Service Unavailable"), header: http.Header{"Content-Type": {"text/plain"}}}
		}
		return s.graphError(http.StatusInternalServerError, 2, 0, "An unexpected error has occurred. Please retry your request later.", true)
	case FaultTokenExpired:
		return s.authError(190, 463, "Error validating access token: Session has expired on "+now.Add(-time.Hour).UTC().Format("Monday, 02-Jan-06 15:04:05 MST")+". The current time is "+now.UTC().Format("Monday, 02-Jan-06 15:04:05 MST")+".")
	}
	resp := s.route(r.URL.Path, q, token, now, f)
	if f.Kind == FaultHighUsage && resp.status == http.StatusOK {
		resp.usage, resp.regain = 96, f.Wait
	}
	if f.Kind == FaultMalformed && resp.status == http.StatusOK {
		resp.body = resp.body[:len(resp.body)/2]
	}
	return resp
}

// takeFault pops one fault for a request (withCursor: it carries after).
func (s *Simulator) takeFault(withCursor bool) Fault {
	if len(s.faults) == 0 {
		return Fault{}
	}
	f := s.faults[0]
	if f.Kind == FaultRepeatToken && !withCursor {
		return Fault{}
	}
	s.faults[0].Count--
	if s.faults[0].Count <= 0 {
		s.faults = s.faults[1:]
	}
	return f
}

func (s *Simulator) route(path string, q url.Values, token string, now time.Time, f Fault) simResponse {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	if len(parts) != 3 || !versionRE.MatchString(parts[0]) {
		return s.graphError(http.StatusBadRequest, 2500, 0, "Unknown path components: "+path, false)
	}
	id, edge := parts[1], parts[2]
	opt, errResp := s.listOptions(q)
	if errResp != nil {
		return *errResp
	}
	opt.fault, opt.token, opt.path = f, token, path
	var list []*simItem
	var render func(*simItem) any
	var page string
	switch edge {
	case "feed", "tagged", "posts":
		if !s.isPage(id) {
			return s.notFound(id)
		}
		page = id
		switch edge {
		case "tagged":
			list = s.tagged[id]
		case "posts":
			for _, it := range s.feed[id] {
				if it.fromID == id {
					list = append(list, it)
				}
			}
		default:
			list = s.feed[id]
		}
		opt.desc = true
		fields := parseFields(q.Get("fields"), "id", "message", "created_time")
		render = func(it *simItem) any { return s.renderPost(it, fields, now) }
	case "comments":
		obj := s.byID[id]
		if obj == nil || !s.alive(obj, now) || obj.hidden {
			return s.notFound(id)
		}
		page = obj.page
		if obj.post {
			list = s.thread[id]
			if q.Get("filter") != "stream" {
				list = topLevel(list)
			}
		} else {
			list = s.replies[id]
		}
		opt.desc = q.Get("order") == "reverse_chronological"
		fields := parseFields(q.Get("fields"), "id", "message", "created_time", "from")
		render = func(it *simItem) any { return s.renderComment(it, fields, now) }
	default:
		return s.graphError(http.StatusBadRequest, 2500, 0, fmt.Sprintf("Tried accessing nonexisting field (%s) on node type (Page)", edge), false)
	}
	resp := s.list(list, opt, render, now)
	resp.page = page
	return resp
}

func (s *Simulator) isPage(id string) bool {
	for _, p := range s.cfg.Pages {
		if p == id {
			return true
		}
	}
	return false
}

func topLevel(list []*simItem) []*simItem {
	var out []*simItem
	for _, it := range list {
		if it.parentID == "" {
			out = append(out, it)
		}
	}
	return out
}

// listOptions are the parameters of an edge request.
type listOptions struct {
	since, until int64
	limit        int
	after        string
	desc         bool
	fault        Fault
	token, path  string
	query        url.Values
}

func (s *Simulator) listOptions(q url.Values) (listOptions, *simResponse) {
	o := listOptions{since: -1 << 62, until: 1 << 62, limit: 25, after: q.Get("after"), query: q}
	for name, dst := range map[string]*int64{"since": &o.since, "until": &o.until} {
		v := q.Get(name)
		if v == "" {
			continue
		}
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			*dst = n
		} else if t, err := time.Parse(time.RFC3339, v); err == nil {
			*dst = t.Unix()
		} else {
			resp := s.graphError(http.StatusBadRequest, 100, 0, fmt.Sprintf("(#100) The parameter %s is not a valid timestamp", name), false)
			return o, &resp
		}
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			resp := s.graphError(http.StatusBadRequest, 100, 0, "(#100) The parameter limit must be a positive integer", false)
			return o, &resp
		}
		if n > 100 {
			resp := s.graphError(http.StatusBadRequest, 100, 0, "(#100) The limit parameter should not exceed 100", false)
			return o, &resp
		}
		o.limit = n
	}
	return o, nil
}

// list serves one page of an edge: candidates in order after the cursor,
// limit of them taken, the hidden ones dropped.
func (s *Simulator) list(all []*simItem, o listOptions, render func(*simItem) any, now time.Time) simResponse {
	pos := -1
	if o.after != "" {
		p, ok := decodeCursor(o.after)
		if !ok {
			return s.graphError(http.StatusBadRequest, 100, 0, "(#100) The after cursor is not valid", false)
		}
		pos = p
	}
	var cands []*simItem
	for k := range all {
		it := all[k]
		if o.desc {
			it = all[len(all)-1-k]
		}
		c := it.created().Unix()
		if c < o.since || c > o.until || !s.alive(it, now) {
			continue
		}
		if pos >= 0 && (o.desc && it.idx >= pos || !o.desc && it.idx <= pos) {
			continue
		}
		cands = append(cands, it)
	}
	if o.fault.Kind == FaultEmpty {
		return s.page(nil, nil, pos, true, o)
	}
	window := cands[:min(o.limit, len(cands))]
	more := len(cands) > len(window)
	var data []any
	var ids []string
	for _, it := range window {
		if it.hidden {
			continue
		}
		data = append(data, render(it))
		if !it.noID {
			ids = append(ids, it.id)
		}
	}
	resp := s.page(data, window, pos, more, o)
	if resp.status == http.StatusOK && o.fault.Kind != FaultMalformed {
		for _, id := range ids {
			s.served[id] = true
		}
	}
	return resp
}

// page renders a list response. window is what the page covered (hidden
// items included); pos is the request's cursor position.
func (s *Simulator) page(data []any, window []*simItem, pos int, more bool, o listOptions) simResponse {
	type cursors struct {
		Before string `json:"before"`
		After  string `json:"after"`
	}
	type paging struct {
		Cursors cursors `json:"cursors"`
		Next    string  `json:"next,omitempty"`
	}
	out := struct {
		Data   []any   `json:"data"`
		Paging *paging `json:"paging,omitempty"`
	}{Data: data}
	if out.Data == nil {
		out.Data = []any{}
	}
	switch {
	case o.fault.Kind == FaultEmpty:
		out.Paging = &paging{Cursors: cursors{Before: s.cursor(pos), After: s.cursor(pos)}, Next: "x"}
	case len(window) > 0:
		out.Paging = &paging{Cursors: cursors{Before: s.cursor(window[0].idx), After: s.cursor(window[len(window)-1].idx)}}
		if more {
			out.Paging.Next = "x"
		}
	}
	if o.fault.Kind == FaultRepeatToken && out.Paging != nil {
		out.Paging.Cursors.After, out.Paging.Next = o.after, "x"
	}
	if out.Paging != nil && out.Paging.Next != "" {
		out.Paging.Next = s.nextURL(o, out.Paging.Cursors.After)
	}
	return simResponse{status: http.StatusOK, body: fbJSON(out)}
}

// nextURL is paging.next as Graph writes it: absolute, on the real host,
// with the caller's token in it.
func (s *Simulator) nextURL(o listOptions, after string) string {
	q := url.Values{}
	for k, v := range o.query {
		if k != "after" && k != "before" && k != "access_token" {
			q[k] = v
		}
	}
	q.Set("access_token", o.token)
	q.Set("after", after)
	return "https://graph.facebook.com" + o.path + "?" + q.Encode()
}

// cursor encodes a position; every cursor is a new string, even for the
// same position, as Graph's are.
func (s *Simulator) cursor(pos int) string {
	s.nonce++
	return base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "sim:%d:%d", pos, s.nonce))
}

func decodeCursor(c string) (int, bool) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, false
	}
	parts := strings.Split(string(b), ":")
	if len(parts) != 3 || parts[0] != "sim" {
		return 0, false
	}
	n, err := strconv.Atoi(parts[1])
	return n, err == nil
}

// parseFields reads a fields parameter's top-level names (from{id,name}
// is "from", comments.summary(true).limit(0) is "comments"); def when empty.
func parseFields(s string, def ...string) map[string]bool {
	set := map[string]bool{}
	if strings.TrimSpace(s) == "" {
		for _, f := range def {
			set[f] = true
		}
		return set
	}
	depth, start := 0, 0
	t := s + ","
	for i := 0; i < len(t); i++ {
		switch t[i] {
		case '{', '(':
			depth++
		case '}', ')':
			depth--
		case ',':
			if depth <= 0 {
				name := t[start:i]
				if j := strings.IndexAny(name, ".{("); j >= 0 {
					name = name[:j]
				}
				if name = strings.TrimSpace(name); name != "" {
					set[name] = true
				}
				start, depth = i+1, 0
			}
		}
	}
	set["id"] = true // Graph always returns the id
	return set
}

type wireUser struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type wireSummary struct {
	Data    []any `json:"data"`
	Summary struct {
		Order          string `json:"order,omitempty"`
		TotalCount     int    `json:"total_count"`
		CanComment     *bool  `json:"can_comment,omitempty"`
		ViewerReaction string `json:"viewer_reaction,omitempty"`
	} `json:"summary"`
}

type wirePost struct {
	ID           string       `json:"id,omitempty"`
	Message      *string      `json:"message,omitempty"`
	CreatedTime  string       `json:"created_time,omitempty"`
	UpdatedTime  string       `json:"updated_time,omitempty"`
	PermalinkURL string       `json:"permalink_url,omitempty"`
	From         *wireUser    `json:"from,omitempty"`
	StatusType   string       `json:"status_type,omitempty"`
	Shares       *wireCount   `json:"shares,omitempty"`
	Comments     *wireSummary `json:"comments,omitempty"`
	Reactions    *wireSummary `json:"reactions,omitempty"`
}

type wireCount struct {
	Count uint64 `json:"count"`
}

type wireComment struct {
	ID           string    `json:"id,omitempty"`
	Message      *string   `json:"message,omitempty"`
	CreatedTime  string    `json:"created_time,omitempty"`
	From         *wireUser `json:"from,omitempty"`
	LikeCount    *uint64   `json:"like_count,omitempty"`
	CommentCount *uint64   `json:"comment_count,omitempty"`
	Parent       *struct {
		ID string `json:"id"`
	} `json:"parent,omitempty"`
	PermalinkURL string `json:"permalink_url,omitempty"`
}

func (s *Simulator) permalink(it *simItem) string {
	if it.post {
		owner, num, _ := strings.Cut(it.id, "_")
		return "https://www.facebook.com/" + owner + "/posts/" + num
	}
	post := s.byID[it.postID]
	u := s.permalink(post) + "?comment_id=" + postNumber(it.id)
	if it.parentID != "" {
		u = s.permalink(post) + "?comment_id=" + postNumber(it.parentID) + "&reply_comment_id=" + postNumber(it.id)
	}
	return u
}

func (s *Simulator) liveCount(list []*simItem, now time.Time) int {
	n := 0
	for _, it := range list {
		if s.alive(it, now) {
			n++
		}
	}
	return n
}

func (s *Simulator) renderPost(it *simItem, f map[string]bool, now time.Time) any {
	p := wirePost{}
	if f["id"] {
		p.ID = it.id
	}
	if f["message"] && !it.noText {
		m := it.message(now)
		p.Message = &m
	}
	if f["created_time"] {
		p.CreatedTime = it.created().UTC().Format(TimeLayout)
	}
	if f["updated_time"] {
		p.UpdatedTime = it.updated(now).UTC().Format(TimeLayout)
	}
	if f["permalink_url"] {
		p.PermalinkURL = s.permalink(it)
	}
	if f["from"] && !it.noFrom {
		p.From = &wireUser{ID: it.fromID, Name: it.fromName}
	}
	if f["status_type"] {
		p.StatusType = it.status
	}
	if f["shares"] && it.shares > 0 {
		p.Shares = &wireCount{Count: it.shares}
	}
	if f["comments"] {
		yes := true
		p.Comments = &wireSummary{Data: []any{}}
		p.Comments.Summary.Order, p.Comments.Summary.CanComment = "ranked", &yes
		p.Comments.Summary.TotalCount = s.liveCount(s.thread[it.id], now)
	}
	if f["reactions"] {
		p.Reactions = &wireSummary{Data: []any{}}
		p.Reactions.Summary.TotalCount, p.Reactions.Summary.ViewerReaction = int(it.likes), "NONE"
	}
	return p
}

func (s *Simulator) renderComment(it *simItem, f map[string]bool, now time.Time) any {
	c := wireComment{}
	if f["id"] && !it.noID {
		c.ID = it.id
	}
	if f["message"] && !it.noText {
		m := it.message(now)
		c.Message = &m
	}
	if f["created_time"] {
		c.CreatedTime = it.created().UTC().Format(TimeLayout)
	}
	if f["from"] && !it.noFrom {
		c.From = &wireUser{ID: it.fromID, Name: it.fromName}
	}
	if f["like_count"] {
		c.LikeCount = &it.likes
	}
	if f["comment_count"] {
		n := uint64(s.liveCount(s.replies[it.id], now))
		c.CommentCount = &n
	}
	if f["parent"] && it.parentID != "" {
		c.Parent = &struct {
			ID string `json:"id"`
		}{it.parentID}
	}
	if f["permalink_url"] {
		c.PermalinkURL = s.permalink(it)
	}
	return c
}

func (s *Simulator) notFound(id string) simResponse {
	return s.graphError(http.StatusBadRequest, 100, 33, fmt.Sprintf("Unsupported get request. Object with ID '%s' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api", id), false)
}

func (s *Simulator) authError(code, subcode int, msg string) simResponse {
	resp := s.graphError(http.StatusBadRequest, code, subcode, msg, false)
	resp.header = http.Header{"Www-Authenticate": {`OAuth "Facebook Platform" "invalid_token" "` + msg + `"`}}
	return resp
}

func (s *Simulator) graphError(status, code, subcode int, msg string, transient bool) simResponse {
	type body struct {
		Message     string `json:"message"`
		Type        string `json:"type"`
		Code        int    `json:"code"`
		Subcode     int    `json:"error_subcode,omitempty"`
		IsTransient bool   `json:"is_transient"`
		FBTraceID   string `json:"fbtrace_id"`
	}
	typ := "OAuthException"
	if code == 2 || code == 1 {
		typ = "FacebookApiException"
	}
	return simResponse{status: status, body: fbJSON(map[string]body{"error": {msg, typ, code, subcode, transient, s.traceID()}})}
}

// writeUsage sets the usage headers of a response.
func (s *Simulator) writeUsage(w http.ResponseWriter, resp simResponse) {
	level := min(100, s.cfg.Usage+float64(s.requests)*100/float64(s.cfg.UsageCalls))
	if resp.usage > 0 {
		level = resp.usage
	}
	pct := func(f float64) int { return int(f + 0.5) }
	app, _ := json.Marshal(map[string]int{"call_count": pct(level), "total_cputime": pct(level * 0.6), "total_time": pct(level * 0.4)})
	w.Header().Set(headerApp, string(app))
	page := resp.page
	if page == "" {
		page = s.cfg.Pages[0]
	}
	type buc struct {
		Type         string  `json:"type"`
		CallCount    int     `json:"call_count"`
		TotalCPUTime int     `json:"total_cputime"`
		TotalTime    int     `json:"total_time"`
		Regain       float64 `json:"estimated_time_to_regain_access"`
	}
	b, _ := json.Marshal(map[string][]buc{page: {{"pages", pct(level), pct(level * 0.5), pct(level * 0.5), resp.regain.Minutes()}}})
	w.Header().Set(headerBUC, string(b))
}

// fbJSON marshals v as Graph writes JSON: "/" escaped as "\/" and every
// non-ASCII character as a \u escape (surrogate pairs beyond the BMP).
func fbJSON(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(err) // the simulator's own types always marshal
	}
	b := bytes.TrimRight(buf.Bytes(), "\n")
	out := make([]byte, 0, len(b)+len(b)/4)
	for i := 0; i < len(b); {
		c := b[i]
		switch {
		case c == '/':
			out = append(out, '\\', '/')
			i++
		case c < utf8.RuneSelf:
			out = append(out, c)
			i++
		default:
			r, size := utf8.DecodeRune(b[i:])
			if r1, r2 := utf16.EncodeRune(r); r1 != utf8.RuneError {
				out = fmt.Appendf(out, `\u%04x\u%04x`, r1, r2)
			} else {
				out = fmt.Appendf(out, `\u%04x`, r)
			}
			i += size
		}
	}
	return out
}
