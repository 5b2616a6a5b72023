package tagger

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/govlisten/govlisten/mention"
	"github.com/govlisten/govlisten/processors/tagger/wordrune"
)

// patternKind says what a text leaf matches.
type patternKind uint8

const (
	kindWords  patternKind = iota // a word or a phrase of consecutive words
	kindHandle                    // @handle
	kindTag                       // #hashtag
	kindPrefix                    // word*
)

// Limits of the language.
const (
	maxNear    = 100 // NEAR/n takes n in 1..maxNear
	maxDepth   = 32  // nesting of parentheses and NOT
	minStem    = 3   // letters before a trailing *
	expectWhat = "a term, phrase, @handle, #hashtag, field filter or '('"
)

// exprOp is the kind of a node of a parsed rule.
type exprOp uint8

const (
	opText   exprOp = iota // a leaf: term, phrase, wildcard, @handle, #hashtag
	opFilter               // field:value
	opAnd
	opOr
	opNot  // one kid
	opNear // two kids
)

// field is what a filter looks at.
type field uint8

const (
	fieldPlatform field = iota
	fieldLang
	fieldKind
	fieldAuthor
)

var fieldNames = [...]string{fieldPlatform: "platform", fieldLang: "lang", fieldKind: "kind", fieldAuthor: "author"}

// Values accepted by the platform: and kind: filters (from package mention).
var (
	platformValues = []string{mention.Twitter, mention.YouTube, mention.Facebook}
	kindValues     = []string{mention.KindPost, mention.KindComment, mention.KindReply}
)

// expr is a node of a parsed rule.
type expr struct {
	op       exprOp
	pos, end int // the node's text: rule[pos:end], parentheses included

	kind  patternKind // opText
	words []string    // opText: folded; one for everything but phrases
	leaf  int32       // opText: index into Tagger.leaves, set by New

	field field  // opFilter
	value string // opFilter: lower case, "@" removed from author

	kids  []*expr    // opAnd, opOr, opNot, opNear
	near  int        // opNear: the distance
	sides [2][]int32 // opNear: the leaves of each side, set by New
}

// RuleError says which rule of the taxonomy is wrong, where and why.
type RuleError struct {
	File     string // taxonomy file; "" when the taxonomy was not read from one
	Line     int    // 1-based line of the rule in File; 0 when unknown
	Category string // slug
	Index    int    // 0-based position in the category's rules
	Rule     string
	Column   int // 1-based, in runes, within Rule
	// FileColumn is the 1-based column (in runes) of the error within
	// Line, allowing for the rule's YAML quoting; 0 when unknown.
	FileColumn int
	Reason     string
}

// Error is "FILE:LINE:COL: slug rule N (rule): reason" when the line is
// known, else "rule N of slug ("rule"), column C: reason".
func (e *RuleError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d:%d: %s rule %d (%s): %s", e.File, e.Line, e.FileColumn, e.Category, e.Index+1, e.Rule, e.Reason)
	}
	return fmt.Sprintf("rule %d of %s (%q), column %d: %s", e.Index+1, e.Category, e.Rule, e.Column, e.Reason)
}

// CategoryError is a problem of a department or topic itself: no slug, or
// a slug defined twice.
type CategoryError struct {
	File   string
	Line   int // 1-based line of the category in File; 0 when unknown
	Column int
	Slug   string
	Reason string
}

func (e *CategoryError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Reason)
	}
	return e.Reason
}

// syntaxError is a rule's error before New knows which rule it is.
type syntaxError struct {
	pos    int // byte offset in the rule
	reason string
}

// parser reads one rule. It panics with a *syntaxError on the first error;
// parseRule recovers it.
type parser struct {
	rule  string
	next  int    // byte offset of the first unread byte
	tok   lexeme // the current token
	depth int
}

type lexKind uint8

const (
	lexEOF lexKind = iota
	lexLParen
	lexRParen
	lexAnd
	lexOr
	lexNot
	lexNear
	lexOperand // a leaf or filter, in lexeme.e
)

type lexeme struct {
	kind     lexKind
	pos, end int
	near     int   // lexNear
	e        *expr // lexOperand
}

// parseRule parses one rule of the language described in the package
// documentation and checks that it can match something.
func parseRule(rule string) (e *expr, err *syntaxError) {
	if strings.TrimSpace(rule) == "" {
		return nil, &syntaxError{0, "empty rule"}
	}
	defer func() {
		if r := recover(); r != nil {
			se, ok := r.(*syntaxError)
			if !ok {
				panic(r)
			}
			e, err = nil, se
		}
	}()
	p := &parser{rule: rule}
	p.advance()
	e = p.parseOr("at the start of the rule")
	if p.tok.kind != lexEOF { // only ')' can stop parseOr early
		p.fail(p.tok.pos, "unexpected ')' with no matching '('")
	}
	if bad, inOr := unbounded(e, false); bad != nil {
		p.fail(bad.pos, "%s", notPositive(bad, inOr))
	}
	return e, nil
}

func (p *parser) fail(pos int, format string, args ...any) {
	panic(&syntaxError{pos, fmt.Sprintf(format, args...)})
}

// startsOperand says whether the current token can begin an operand.
func (p *parser) startsOperand() bool {
	switch p.tok.kind {
	case lexOperand, lexLParen, lexNot:
		return true
	}
	return false
}

// expectOperand fails unless the current token can begin an operand; after
// says where the operand was expected.
func (p *parser) expectOperand(after string) {
	if p.startsOperand() {
		return
	}
	switch p.tok.kind {
	case lexEOF:
		p.fail(p.tok.pos, "expected %s %s, but the rule ends", expectWhat, after)
	case lexRParen:
		if after == "after '('" {
			p.fail(p.tok.pos, "empty parentheses: expected %s inside", expectWhat)
		}
		p.fail(p.tok.pos, "expected %s %s, found ')'", expectWhat, after)
	}
	p.fail(p.tok.pos, "expected %s %s, found %s", expectWhat, after, p.rule[p.tok.pos:p.tok.end])
}

// or = and { "OR" and }
func (p *parser) parseOr(after string) *expr {
	first := p.parseAnd(after)
	if p.tok.kind != lexOr {
		return first
	}
	e := &expr{op: opOr, pos: first.pos, kids: []*expr{first}}
	for p.tok.kind == lexOr {
		p.advance()
		e.kids = append(e.kids, p.parseAnd("after OR"))
	}
	e.end = e.kids[len(e.kids)-1].end
	return e
}

// and = near { [ "AND" ] near }
func (p *parser) parseAnd(after string) *expr {
	first := p.parseNear(after)
	e := &expr{op: opAnd, pos: first.pos, kids: []*expr{first}}
	for {
		if p.tok.kind == lexAnd {
			p.advance()
			e.kids = append(e.kids, p.parseNear("after AND"))
		} else if p.startsOperand() {
			e.kids = append(e.kids, p.parseNear(""))
		} else {
			break
		}
	}
	if len(e.kids) == 1 {
		return first
	}
	e.end = e.kids[len(e.kids)-1].end
	return e
}

// near = unary [ "NEAR/" n unary ]
func (p *parser) parseNear(after string) *expr {
	left := p.parseUnary(after)
	if p.tok.kind != lexNear {
		return left
	}
	op := p.tok
	name := p.rule[op.pos:op.end]
	p.advance()
	right := p.parseUnary("after " + name)
	for _, k := range []*expr{left, right} {
		if what := proximityOperand(k); what != "" {
			p.fail(k.pos, "%s joins terms, phrases, wildcards, @handles and #hashtags, or (a OR b) groups of them; found %s", name, what)
		}
	}
	if p.tok.kind == lexNear {
		p.fail(p.tok.pos, "NEAR/n cannot be chained: write (a NEAR/3 b) AND (b NEAR/3 c)")
	}
	return &expr{op: opNear, pos: left.pos, end: right.end, near: op.near, kids: []*expr{left, right}}
}

// proximityOperand returns "" when e can be a side of NEAR, else what it is.
func proximityOperand(e *expr) string {
	switch e.op {
	case opText:
		return ""
	case opOr:
		for _, k := range e.kids {
			if what := proximityOperand(k); what != "" {
				return what
			}
		}
		return ""
	case opFilter:
		return "a field filter"
	case opNot:
		return "NOT (write NOT (a NEAR/3 b), or a NEAR/3 b AND NOT c)"
	case opAnd:
		return "AND"
	}
	return "NEAR"
}

// unary = "NOT" unary | primary
func (p *parser) parseUnary(after string) *expr {
	p.expectOperand(after)
	if p.tok.kind != lexNot {
		return p.parsePrimary()
	}
	pos := p.tok.pos
	p.enter(pos)
	p.advance()
	kid := p.parseUnary("after NOT")
	p.depth--
	return &expr{op: opNot, pos: pos, end: kid.end, kids: []*expr{kid}}
}

func (p *parser) enter(pos int) {
	p.depth++
	if p.depth > maxDepth {
		p.fail(pos, "the rule nests too deeply (more than %d levels of parentheses and NOT)", maxDepth)
	}
}

// primary = leaf | filter | "(" or ")"; the current token starts an operand.
func (p *parser) parsePrimary() *expr {
	if p.tok.kind == lexOperand {
		e := p.tok.e
		p.advance()
		return e
	}
	open := p.tok.pos
	p.enter(open)
	p.advance()
	e := p.parseOr("after '('")
	if p.tok.kind != lexRParen {
		p.fail(open, "unclosed '(': expected ')' before the end of the rule")
	}
	e.pos, e.end = open, p.tok.end
	p.advance()
	p.depth--
	return e
}

// isQuote says whether r opens or closes a phrase: the straight double
// quote and the curly ones people paste from documents.
func isQuote(r rune) bool {
	return r == '"' || r == '“' || r == '”' || r == '„' || r == '‟'
}

// advance reads the next token into p.tok.
func (p *parser) advance() {
	s := p.rule
	i := p.next
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		if !unicode.IsSpace(r) {
			break
		}
		i += n
	}
	if i == len(s) {
		p.tok = lexeme{kind: lexEOF, pos: i, end: i}
		p.next = i
		return
	}
	r, n := utf8.DecodeRuneInString(s[i:])
	switch {
	case r == '(':
		p.tok, p.next = lexeme{kind: lexLParen, pos: i, end: i + 1}, i+1
		return
	case r == ')':
		p.tok, p.next = lexeme{kind: lexRParen, pos: i, end: i + 1}, i+1
		return
	case isQuote(r):
		p.tok = lexeme{kind: lexOperand, pos: i, e: p.phrase(i, i+n)}
		p.tok.end = p.tok.e.end
		p.next = p.tok.end
		return
	}
	j := i
	for j < len(s) {
		r, n := utf8.DecodeRuneInString(s[j:])
		if unicode.IsSpace(r) || r == '(' || r == ')' || isQuote(r) {
			break
		}
		j += n
	}
	p.next = j
	p.tok = lexeme{pos: i, end: j}
	switch word := s[i:j]; {
	case word == "AND":
		p.tok.kind = lexAnd
	case word == "OR":
		p.tok.kind = lexOr
	case word == "NOT":
		p.tok.kind = lexNot
	case word == "NEAR":
		p.fail(i, "NEAR needs a distance: write NEAR/n with n a number 1..%d", maxNear)
	case strings.HasPrefix(word, "NEAR/"):
		n, err := strconv.Atoi(word[len("NEAR/"):])
		if err != nil || n < 1 || n > maxNear {
			p.fail(i, "NEAR/n needs a number 1..%d, not %q", maxNear, word[len("NEAR/"):])
		}
		p.tok.kind, p.tok.near = lexNear, n
	default:
		p.tok.kind = lexOperand
		p.tok.e = p.bare(i, j)
	}
}

// phrase reads a quoted phrase whose opening quote is rule[pos:start].
func (p *parser) phrase(pos, start int) *expr {
	s := p.rule
	end := -1
	for i, r := range s[start:] {
		if isQuote(r) {
			end = start + i
			break
		}
	}
	if end < 0 {
		p.fail(len(s), `expected a closing '"' for the phrase opened at column %d`, column(s, pos))
	}
	inner := s[start:end]
	if i := strings.IndexByte(inner, '*'); i >= 0 {
		p.fail(start+i, "unexpected '*' inside a phrase: a wildcard may only end a word outside quotes")
	}
	words := foldWords(inner)
	if len(words) == 0 {
		p.fail(start, "expected a word inside the quotes")
	}
	_, n := utf8.DecodeRuneInString(s[end:])
	return &expr{op: opText, kind: kindWords, words: words, pos: pos, end: end + n}
}

// bare reads an operand that is not a phrase: rule[pos:end] holds no space,
// parenthesis or quote.
func (p *parser) bare(pos, end int) *expr {
	w := p.rule[pos:end]
	e := &expr{op: opText, pos: pos, end: end}
	switch w[0] {
	case '@', '#':
		name := w[1:]
		words := foldWords(name)
		if len(words) != 1 || !isSingleWord(name) {
			p.fail(pos+1, "expected a name of letters, digits or _ after %q", w[0])
		}
		e.kind, e.words = kindHandle, words
		if w[0] == '#' {
			e.kind = kindTag
		}
		return e
	case '-':
		if len(w) > 1 {
			p.fail(pos, "'-' is not an operator here: write NOT to exclude a term, or quote it")
		}
	}
	if i := strings.IndexByte(w, ':'); i > 0 && isASCIILetters(w[:i]) {
		return p.filter(pos, end, i)
	}
	if i := strings.IndexByte(w, '*'); i >= 0 {
		if i != len(w)-1 {
			p.fail(pos+i, "a wildcard may only end a word")
		}
		stem := w[:i]
		words := foldWords(stem)
		if len(words) != 1 || !isSingleWord(stem) {
			p.fail(pos+i, "a wildcard must end a single word")
		}
		if utf8.RuneCountInString(words[0]) < minStem {
			p.fail(pos, "a wildcard stem needs at least %d letters", minStem)
		}
		e.kind, e.words = kindPrefix, words
		return e
	}
	words := foldWords(w)
	if len(words) == 0 {
		p.fail(pos, "expected %s, found %q, which has no letters or digits (emoji and punctuation are not matched)", expectWhat, w)
	}
	e.kind, e.words = kindWords, words // A&E, GOV.UK: a phrase of its words
	return e
}

// filter reads field:value, the colon at rule[pos+colon].
func (p *parser) filter(pos, end, colon int) *expr {
	name := strings.ToLower(p.rule[pos : pos+colon])
	value := p.rule[pos+colon+1 : end]
	vpos := pos + colon + 1
	e := &expr{op: opFilter, pos: pos, end: end, value: strings.ToLower(value)}
	switch name {
	case "platform":
		e.field = fieldPlatform
		if e.value == "x" {
			e.value = mention.Twitter
		}
		if !contains(platformValues, e.value) {
			p.fail(vpos, "unknown platform %q; platforms are %s (or x)", value, strings.Join(platformValues, ", "))
		}
	case "kind":
		e.field = fieldKind
		if !contains(kindValues, e.value) {
			p.fail(vpos, "unknown kind %q; kinds are %s", value, strings.Join(kindValues, ", "))
		}
	case "lang":
		e.field = fieldLang
		if !isLangTag(value) {
			p.fail(vpos, "lang:%s is not a language code such as en, cy, gd or en-GB", value)
		}
	case "author":
		e.field = fieldAuthor
		e.value = strings.TrimPrefix(value, "@")
		if e.value == "" || !isAuthor(e.value) {
			p.fail(vpos, "author: needs a handle or author id of letters, digits, _, . or -")
		}
	default:
		p.fail(pos, "unknown field %q; fields are %s", p.rule[pos:pos+colon], strings.Join(fieldNames[:], ", "))
	}
	return e
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func isASCIILetters(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i] | 0x20; c < 'a' || c > 'z' {
			return false
		}
	}
	return s != ""
}

// isLangTag accepts the shape of a BCP 47 tag: 2 or 3 letters, then
// subtags of 1 to 8 letters or digits.
func isLangTag(s string) bool {
	for i, sub := range strings.Split(s, "-") {
		if i == 0 && (len(sub) < 2 || len(sub) > 3 || !isASCIILetters(sub)) {
			return false
		}
		if len(sub) < 1 || len(sub) > 8 {
			return false
		}
		for j := 0; j < len(sub); j++ {
			if c := sub[j] | 0x20; !('a' <= c && c <= 'z' || '0' <= sub[j] && sub[j] <= '9') {
				return false
			}
		}
	}
	return true
}

func isAuthor(s string) bool {
	for _, r := range s {
		if !wordrune.Is(r) && r != '.' && r != '-' {
			return false
		}
	}
	return true
}

// unbounded finds the part of e that lets it be true when no text leaf
// occurs: a NOT or a filter standing where a term must. It returns nil when
// every way e can be true needs a text leaf to occur; inOr says whether the
// culprit is an alternative of an OR.
func unbounded(e *expr, inOr bool) (*expr, bool) {
	switch e.op {
	case opText, opNear:
		return nil, false
	case opAnd:
		var first *expr
		firstOr := false
		for _, k := range e.kids {
			bad, o := unbounded(k, inOr)
			if bad == nil {
				return nil, false
			}
			if first == nil {
				first, firstOr = bad, o
			}
		}
		return first, firstOr
	case opOr:
		for _, k := range e.kids {
			if bad, _ := unbounded(k, true); bad != nil {
				return bad, true
			}
		}
		return nil, false
	}
	return e, inOr // opNot, opFilter
}

func notPositive(bad *expr, inOr bool) string {
	what := "NOT only excludes; write a AND NOT b"
	if bad.op == opFilter {
		what = "a field filter only narrows a rule; write a term with it, as in DWP AND platform:youtube"
	}
	if inOr {
		return "a rule must match something positive, and so must each alternative of OR: " + what
	}
	return "a rule must match something positive: " + what
}

// column is the 1-based rune column of byte offset pos in s.
func column(s string, pos int) int {
	if pos > len(s) {
		pos = len(s)
	}
	return utf8.RuneCountInString(s[:pos]) + 1
}
