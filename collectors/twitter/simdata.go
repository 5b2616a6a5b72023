package twitter

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/govlisten/govlisten/internal/synth"
)

// SimAccount is an account the Simulator knows: the department accounts its
// posts mention and that reply to the public. Their ids serve as the user
// id of a mentions source against the Simulator.
type SimAccount struct {
	ID       string
	Username string
	Name     string
}

var simDepartments = []SimAccount{
	{"1400000001", "DWP", "Department for Work and Pensions"},
	{"1400000002", "HMRCgovuk", "HM Revenue & Customs"},
	{"1400000003", "ukhomeoffice", "Home Office"},
	{"1400000004", "NHSEngland", "NHS England"},
	{"1400000005", "transportgov", "Department for Transport"},
	{"1400000006", "EnvAgency", "Environment Agency"},
	{"1400000007", "educationgovuk", "Department for Education"},
	{"1400000008", "DHSCgovuk", "Department of Health and Social Care"},
	{"1400000009", "FCDOGovUK", "Foreign, Commonwealth & Development Office"},
	{"1400000010", "hmtreasury", "HM Treasury"},
	{"1400000011", "LlywodraethCym", "Llywodraeth Cymru"},
}

// SimAccounts returns the department accounts of the Simulator.
func SimAccounts() []SimAccount { return append([]SimAccount(nil), simDepartments...) }

var (
	simFirst = []string{"Sam", "Priya", "Gareth", "Aisha", "Tom", "Siân", "Mohammed", "Chloe", "Dylan", "Fatima",
		"Rhys", "Emily", "Kwame", "Niamh", "Oliver", "Zainab", "Ewan", "Megan", "Tariq", "Ffion"}
	simLast = []string{"Jones", "Patel", "Smith", "Williams", "Khan", "Evans", "Brown", "Ahmed", "Davies", "Taylor",
		"O'Neill", "Hughes", "Begum", "Roberts", "Okafor", "Lewis", "Wilson", "Murray", "Thomas", "Clarke"}
	simWelsh = []string{
		"Mae'r ciwiau yn y swyddfa basbort yn ofnadwy heddiw",
		"Pryd fydd y trenau'n rhedeg ar amser eto?",
		"Diolch yn fawr i staff y GIG yn Ysbyty Gwynedd",
		"Dim ateb gan y llinell gymorth ers tair wythnos",
		"Newyddion da am y cynllun ynni cartref, o'r diwedd",
		"Pam fod y wefan ar gael yn Saesneg yn unig?",
	}
	simZWJ = []string{"👩‍⚕️", "🏳️‍🌈", "👨‍👩‍👧", "🧑‍🍳", "👩🏽‍💻", "❤️‍🔥"}
	simAmp = []string{" Q&A tonight?", " Tax & benefits <3", " fees > £100 & rising", " <sigh> & again"}
	// simDeptReplies are what departments answer, with a staff sign-off.
	simDeptReplies = []string{
		"Hi, sorry to hear this. Please send us a DM with your reference number and we'll look into it. ^JM",
		"Thanks for getting in touch. You can check the latest guidance on GOV.UK. ^RK",
		"We're sorry for the wait. Our phone lines are busiest on Mondays; you can also use webchat. ^AP",
		"Thank you for your kind words, we'll pass them on to the team 🙏 ^SB",
		"Please don't share personal details publicly. DM us and we'll help. ^LT",
	}
	simDeptRepliesCy = []string{
		"Diolch am gysylltu. Anfonwch neges uniongyrchol atom ac fe wnawn ni edrych i mewn i hyn. ^GD",
	}
	simEdits = []string{" (edit: typo)", " EDIT: sorted now, thanks", " *their, not there", " [edited to add: still waiting]"}
)

// simUser is an author.
type simUser struct {
	ID, Username, Name string
}

// simMention and simTag are entities, with code-point offsets.
type simMention struct {
	Start, End   int
	Username, ID string
}

type simTag struct {
	Start, End int
	Tag        string
}

// simPost is one generated post: everything the wire needs, before field
// selection. It is a pure function of the seed and its index.
type simPost struct {
	idx     int64
	id      uint64
	created time.Time
	author  simUser
	dept    bool // author is a department account
	// authorGone: the author is suspended; includes.users lacks it and
	// errors[] says so.
	authorGone bool
	text       string // as the author wrote it (not HTML-escaped)
	lang       string
	replyTo    uint64
	replyUser  string
	conv       uint64
	retweetOf  uint64
	editOf     uint64 // the first id of the edit chain; 0 when not an edit
	mentions   []simMention
	tags       []simTag
	likes      int
	replies    int
	retweets   int
	quotes     int
	bookmarks  int
	views      int
	deletedAt  time.Time // zero: never deleted
}

// mappedID is the Mention ID MapResponse gives the post.
func (p *simPost) mappedID() string {
	if p.editOf != 0 {
		return strconv.FormatUint(p.editOf, 10)
	}
	return strconv.FormatUint(p.id, 10)
}

func (p *simPost) mentionsUser(id string) bool {
	for _, m := range p.mentions {
		if m.ID == id {
			return true
		}
	}
	return false
}

// genCache memoises posts within one request: replies, edits and retweets
// read the posts they refer to.
type genCache map[int64]*simPost

// post generates post i.
func (s *Simulator) post(i int64, cache genCache) *simPost {
	if p, ok := cache[i]; ok {
		return p
	}
	r := rand.New(rand.NewPCG(s.cfg.Seed, uint64(i)*0x9e3779b97f4a7c15+0x632be59bd9b4e019))
	p := &simPost{idx: i, id: s.id(i), created: s.created(i), lang: "en"}
	p.conv = p.id
	roll := r.Float64()
	back := func(n int) int64 { return i - 1 - int64(r.IntN(n)) }
	switch {
	case roll < 0.04:
		if j := back(30); j >= 0 {
			if q := s.post(j, cache); q.retweetOf == 0 {
				s.retweet(p, q, r)
				break
			}
		}
		s.public(p, r)
	case roll < 0.07:
		if j := back(8); j >= 0 {
			if q := s.post(j, cache); q.retweetOf == 0 && q.editOf == 0 && q.deletedAt.IsZero() {
				s.edit(p, q, r)
				break
			}
		}
		s.public(p, r)
	case roll < 0.12:
		if j := back(40); j >= 0 {
			if q := s.post(j, cache); !q.dept && q.retweetOf == 0 {
				s.deptReply(p, q, r)
				break
			}
		}
		s.public(p, r)
	case roll < 0.25:
		if j := back(60); j >= 0 {
			if q := s.post(j, cache); q.retweetOf == 0 {
				s.public(p, r)
				p.replyTo, p.replyUser, p.conv = q.id, q.author.ID, q.conv
				p.text = "@" + q.author.Username + " " + p.text
				break
			}
		}
		s.public(p, r)
	case roll < 0.37:
		s.public(p, r)
		d := simDepartments[r.IntN(len(simDepartments))]
		p.replyTo, p.replyUser = s.announcement(d, r.IntN(3)), d.ID
		p.conv = p.replyTo
		if !strings.HasPrefix(p.text, "@"+d.Username) {
			p.text = "@" + d.Username + " " + p.text
		}
	default:
		s.public(p, r)
	}
	if p.editOf == 0 {
		p.mentions, p.tags = s.entities(p.text)
	}
	cache[i] = p
	return p
}

// public fills a post by a member of the public.
func (s *Simulator) public(p *simPost, r *rand.Rand) {
	p.author = simPublicUser(r.IntN(200000))
	syn := synth.New(s.cfg.Seed ^ (uint64(p.idx)+1)*0xbf58476d1ce4e5b9).Next()
	text := syn.Text
	switch {
	case strings.HasPrefix(text, "Diolch"):
		p.lang = "cy"
	case strings.HasPrefix(text, "Pourquoi"):
		p.lang = "fr"
	}
	x := r.Float64()
	switch {
	case x < 0.08:
		text, p.lang = simWelsh[r.IntN(len(simWelsh))], "cy"
	case x < 0.10:
		text, p.lang = "👏👏👏", "und"
	}
	if !strings.Contains(text, "@") && r.Float64() < 0.6 {
		d := simDepartments[r.IntN(len(simDepartments))]
		if p.lang == "cy" {
			d = simDepartments[len(simDepartments)-1]
		}
		text = "@" + d.Username + " " + text
	}
	if r.Float64() < 0.06 {
		text += " " + simZWJ[r.IntN(len(simZWJ))]
	}
	if r.Float64() < 0.04 {
		text += simAmp[r.IntN(len(simAmp))]
	}
	if r.Float64() < 0.04 && p.lang == "en" { // a long post: X truncates text, note_tweet has it all
		for utf8.RuneCountInString(text) <= 300 {
			text += " " + synth.New(uint64(len(text))^s.cfg.Seed^uint64(p.idx)).Next().Text
		}
	}
	p.text = text
	s.metrics(p, r)
	if r.Float64() < 0.03 {
		// Milliseconds: a page token keeps its snapshot time in them.
		p.deletedAt = p.created.Add(5*time.Second + time.Duration(r.Int64N(int64(10*time.Minute)))).Truncate(time.Millisecond)
	}
	p.authorGone = r.Float64() < 0.003
}

func (s *Simulator) metrics(p *simPost, r *rand.Rand) {
	p.likes = int(math.Pow(r.Float64(), 3) * 1500)
	p.replies = p.likes/8 + r.IntN(3)
	p.retweets = p.likes / 5
	p.quotes = p.likes / 20
	p.bookmarks = p.likes / 10
	p.views = p.likes*35 + 20 + r.IntN(400)
}

func (s *Simulator) retweet(p, q *simPost, r *rand.Rand) {
	p.author = simPublicUser(r.IntN(200000))
	p.retweetOf = q.id
	body := []rune(q.text)
	text := "RT @" + q.author.Username + ": " + string(body)
	if utf8.RuneCountInString(text) > 140 {
		text = string([]rune(text)[:139]) + "…"
	}
	p.text, p.lang = text, q.lang
	p.retweets = q.retweets
}

// edit makes p the edited version of q: a new id, the chain [q, p], the
// newest text.
func (s *Simulator) edit(p, q *simPost, r *rand.Rand) {
	*p = simPost{idx: p.idx, id: p.id, created: p.created}
	p.author, p.dept, p.authorGone, p.lang = q.author, q.dept, q.authorGone, q.lang
	p.replyTo, p.replyUser, p.conv = q.replyTo, q.replyUser, q.conv
	p.editOf = q.id
	p.text = q.text + simEdits[r.IntN(len(simEdits))]
	p.mentions, p.tags = q.mentions, q.tags
	s.metrics(p, r)
}

func (s *Simulator) deptReply(p, q *simPost, r *rand.Rand) {
	d := simDepartments[r.IntN(len(simDepartments))]
	for _, m := range q.mentions {
		if dd, ok := simDepartmentByID(m.ID); ok {
			d = dd
			break
		}
	}
	p.author, p.dept = simUser(d), true
	reply := simDeptReplies[r.IntN(len(simDeptReplies))]
	if d.ID == simDepartments[len(simDepartments)-1].ID {
		reply, p.lang = simDeptRepliesCy[r.IntN(len(simDeptRepliesCy))], "cy"
	}
	p.text = "@" + q.author.Username + " " + reply
	p.replyTo, p.replyUser, p.conv = q.id, q.author.ID, q.conv
	s.metrics(p, r)
}

// announcement is the id of a department's post from before the
// simulation started, which public replies answer.
func (s *Simulator) announcement(d SimAccount, k int) uint64 {
	n, _ := strconv.Atoi(d.ID[len(d.ID)-2:])
	return snowflake(s.start.Add(-time.Duration(n*3+k+1)*37*time.Minute), 0)
}

// entities finds @mentions (of known accounts) and #hashtags in text, with
// code-point offsets.
func (s *Simulator) entities(text string) ([]simMention, []simTag) {
	var ms []simMention
	var ts []simTag
	runes := []rune(text)
	for k := 0; k < len(runes); k++ {
		c := runes[k]
		if c != '@' && c != '#' || k > 0 && isWordRune(runes[k-1]) {
			continue
		}
		e := k + 1
		for e < len(runes) && isWordRune(runes[e]) {
			e++
		}
		if e == k+1 {
			continue
		}
		word := string(runes[k+1 : e])
		if c == '#' {
			ts = append(ts, simTag{Start: k, End: e, Tag: word})
		} else if id := s.accountID(word); id != "" {
			ms = append(ms, simMention{Start: k, End: e, Username: word, ID: id})
		}
		k = e - 1
	}
	return ms, ts
}

func isWordRune(c rune) bool { return c == '_' || unicode.IsLetter(c) || unicode.IsDigit(c) }

// accountID resolves a handle: a department or a member of the public.
func (s *Simulator) accountID(handle string) string {
	for _, d := range simDepartments {
		if strings.EqualFold(d.Username, handle) {
			return d.ID
		}
	}
	if u, ok := simPublicUserByHandle(handle); ok {
		return u.ID
	}
	return ""
}

func simDepartmentByID(id string) (SimAccount, bool) {
	for _, d := range simDepartments {
		if d.ID == id {
			return d, true
		}
	}
	return SimAccount{}, false
}

// simPublicUser is member of the public number k: the same k is always the
// same account. Half have old short ids, half snowflake ids.
func simPublicUser(k int) simUser {
	var id uint64
	if k%2 == 0 {
		id = 100000000 + uint64(k)*7919
	} else {
		id = 1600000000000000000 + uint64(k)*104729
	}
	first, last := simFirst[k%len(simFirst)], simLast[(k/len(simFirst))%len(simLast)]
	handle := fmt.Sprintf("%s_%s%d", asciiHandle(first), asciiHandle(last)[:3], k)
	return simUser{ID: strconv.FormatUint(id, 10), Username: handle, Name: first + " " + last}
}

// simPublicUserByHandle inverts simPublicUser through the number that ends
// the handle.
func simPublicUserByHandle(handle string) (simUser, bool) {
	e := len(handle)
	for e > 0 && handle[e-1] >= '0' && handle[e-1] <= '9' {
		e--
	}
	k, err := strconv.Atoi(handle[e:])
	if err != nil || k < 0 || k >= 200000 {
		return simUser{}, false
	}
	u := simPublicUser(k)
	return u, strings.EqualFold(u.Username, handle)
}

func asciiHandle(s string) string {
	var b strings.Builder
	for _, c := range strings.ToLower(s) {
		switch {
		case c >= 'a' && c <= 'z':
			b.WriteRune(c)
		case c == 'â':
			b.WriteRune('a')
		}
	}
	for b.Len() < 3 {
		b.WriteByte('x')
	}
	return b.String()
}

// snowflake is an X-style id for time t: milliseconds since X's epoch in
// the high bits, frac (below 2^22) in the low ones.
func snowflake(t time.Time, frac uint64) uint64 {
	return uint64(t.UnixMilli()-twitterEpochMs)<<22 + frac
}
