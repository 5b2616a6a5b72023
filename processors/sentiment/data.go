package sentiment

import (
	"bytes"
	_ "embed"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// publicSector is the built-in domain layer, the data NewModel uses. Its
// format is described in the file itself and in the package documentation.
//
//go:embed publicsector.tsv
var publicSector []byte

// maxPhraseWords is the longest phrase an entry may have.
const maxPhraseWords = 6

// modelData is a parsed data file.
type modelData struct {
	entries    []dataEntry
	emoji      map[rune]float64 // emoji lines, and sarcasm lines of one emoji
	ignore     []rune
	sarcasm    float64 // the factor on positive valences in a sarcastic mention
	thresholds Thresholds
}

// dataEntry is one word, phrase or sarcasm line: lower-case words as VADER
// tokenizes them.
type dataEntry struct {
	words   []string
	val     float64
	sarcasm bool
	line    int
}

// DataError is the error LoadModel returns for a line of the data that it
// cannot read.
type DataError struct {
	Line   int    // 1-based
	Text   string // the line
	Reason string
}

func (e *DataError) Error() string {
	return fmt.Sprintf("sentiment data line %d: %s: %q", e.Line, e.Reason, e.Text)
}

// parseModelData reads the format of publicsector.tsv.
func parseModelData(data []byte) (*modelData, error) {
	md := &modelData{
		emoji:      map[rune]float64{},
		sarcasm:    1,
		thresholds: VADERThresholds,
	}
	haveNeg, havePos := false, false
	seen := map[string]int{}
	for n, raw := range bytes.Split(data, []byte("\n")) {
		line := strings.TrimRight(string(raw), "\r")
		lineNo := n + 1
		if strings.TrimSpace(line) == "" || strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		fail := func(format string, args ...any) error {
			return &DataError{Line: lineNo, Text: line, Reason: fmt.Sprintf(format, args...)}
		}
		if !utf8.ValidString(line) {
			return nil, fail("invalid UTF-8")
		}
		var f []string
		for _, x := range strings.Split(line, "\t") {
			if x = strings.TrimSpace(x); x != "" {
				f = append(f, x)
			}
		}
		kind := f[0]
		want := map[string]int{"word": 3, "phrase": 3, "sarcasm": 3, "emoji": 3, "ignore": 2, "param": 3, "threshold": 3}[kind]
		if want == 0 {
			return nil, fail("unknown kind %q", kind)
		}
		if len(f) != want {
			return nil, fail("%s takes %d tab-separated fields, not %d", kind, want, len(f))
		}
		var val float64
		if kind != "ignore" {
			v, err := strconv.ParseFloat(f[want-1], 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fail("%q is not a number", f[want-1])
			}
			val = v
		}
		switch kind {
		case "word", "phrase", "sarcasm":
			if val < -4 || val > 4 {
				return nil, fail("valence %v is outside VADER's −4…4", val)
			}
			if kind == "sarcasm" && val > 0 {
				return nil, fail("a sarcasm marker's valence must not be positive")
			}
			words := strings.Fields(strings.ToLower(f[1]))
			switch {
			case kind == "word" && len(words) != 1:
				return nil, fail("word takes one word; use phrase")
			case kind == "phrase" && len(words) < 2:
				return nil, fail("phrase takes two words or more; use word")
			case len(words) > maxPhraseWords:
				return nil, fail("more than %d words", maxPhraseWords)
			}
			key := strings.Join(words, " ")
			if prev, ok := seen[key]; ok {
				return nil, fail("%q is already defined on line %d", key, prev)
			}
			seen[key] = lineNo
			if kind == "sarcasm" && len(words) == 1 {
				if r, size := utf8.DecodeRuneInString(words[0]); size == len(words[0]) && r >= utf8.RuneSelf {
					md.emoji[r] = val
				}
			}
			md.entries = append(md.entries, dataEntry{words: words, val: val, sarcasm: kind == "sarcasm", line: lineNo})
		case "emoji":
			r, size := utf8.DecodeRuneInString(f[1])
			if size != len(f[1]) || r < utf8.RuneSelf {
				return nil, fail("an emoji is one non-ASCII rune")
			}
			if val < -4 || val > 4 {
				return nil, fail("valence %v is outside VADER's −4…4", val)
			}
			if _, ok := seen[f[1]]; ok {
				return nil, fail("%q is already defined", f[1])
			}
			seen[f[1]] = lineNo
			md.emoji[r] = val
			md.entries = append(md.entries, dataEntry{words: []string{f[1]}, val: val, line: lineNo})
		case "ignore":
			hex, ok := strings.CutPrefix(f[1], "U+")
			r, err := strconv.ParseUint(hex, 16, 32)
			if !ok || err != nil || r < utf8.RuneSelf || !utf8.ValidRune(rune(r)) {
				return nil, fail("ignore takes a non-ASCII rune as U+XXXX")
			}
			md.ignore = append(md.ignore, rune(r))
		case "param":
			switch f[1] {
			case "sarcasm":
				if val < -1 || val > 1 {
					return nil, fail("sarcasm must be in [-1, 1]")
				}
				md.sarcasm = val
			default:
				return nil, fail("unknown parameter %q", f[1])
			}
		case "threshold":
			switch f[1] {
			case Negative:
				md.thresholds.Negative, haveNeg = val, true
			case Positive:
				md.thresholds.Positive, havePos = val, true
			default:
				return nil, fail("threshold is negative or positive, not %q", f[1])
			}
		}
	}
	if haveNeg != havePos {
		return nil, fmt.Errorf("sentiment data: give both thresholds or neither")
	}
	if err := md.thresholds.Validate(); err != nil {
		return nil, fmt.Errorf("sentiment data: %w", err)
	}
	for _, r := range md.ignore {
		if _, ok := md.emoji[r]; ok {
			return nil, fmt.Errorf("sentiment data: %U is both an emoji and ignored", r)
		}
	}
	return md, nil
}

// stripPunctuation is what tokenize does to a word: leading and trailing
// ASCII punctuation (govader's set) is stripped unless fewer than three
// bytes would remain.
func (a *Analyzer) stripPunctuation(w string) string {
	i, j := 0, len(w)
	for i < j && a.class[w[i]]&clsPunct != 0 {
		i++
	}
	for j > i && a.class[w[j-1]]&clsPunct != 0 {
		j--
	}
	if j-i < 3 {
		return w
	}
	return w[i:j]
}
