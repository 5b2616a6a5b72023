package alerts

import (
	"math"
	"sort"
	"strings"
	"unicode"
)

// Term scoring, used to say what a spike is about.
const (
	// maxTerms is how many words an alert names.
	maxTerms = 5
	// minTermDocs is the least number of the period's mentions a word must
	// appear in: one loud post is not a trend.
	minTermDocs = 2
)

// tokens returns the distinct words of text worth counting: lower-cased
// runs of letters and digits, without URLs, @handles, stopwords, words
// shorter than three letters and numbers. A #hashtag counts as its word.
func tokens(text string) []string {
	seen := map[string]bool{}
	var out []string
	for _, field := range strings.Fields(text) {
		low := strings.ToLower(field)
		if strings.HasPrefix(low, "@") || strings.Contains(low, "://") || strings.HasPrefix(low, "www.") {
			continue
		}
		for _, w := range strings.FieldsFunc(low, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
			if len([]rune(w)) < 3 || stopwords[w] || isNumber(w) || seen[w] {
				continue
			}
			seen[w] = true
			out = append(out, w)
		}
	}
	return out
}

func isNumber(w string) bool {
	for _, r := range w {
		if !unicode.IsDigit(r) {
			return false
		}
	}
	return true
}

// docFreq counts, for each word, the texts it appears in.
func docFreq(texts []string) map[string]int {
	df := map[string]int{}
	for _, t := range texts {
		for _, w := range tokens(t) {
			df[w]++
		}
	}
	return df
}

// topTerms ranks the words of the period's texts by how much more often
// they appear there than in the baseline's: the smoothed log-ratio
//
//	ln((df_p + 0.5) / (N_p + 1)) − ln((df_b + 0.5) / (N_b + 1))
//
// of the share of period texts containing the word (df_p of N_p) to the
// share of baseline texts containing it (df_b of N_b). The 0.5 keeps a
// word absent from the baseline finite and ranks it by how common it is in
// the period. Words in fewer than minTermDocs period texts, and words no
// more common than in the baseline, are left out. Ties go to the more
// frequent word, then alphabetical order, so the result is deterministic.
func topTerms(period, baseline []string, n int) []string {
	dp, db := docFreq(period), docFreq(baseline)
	np, nb := float64(len(period)), float64(len(baseline))
	type scored struct {
		w     string
		score float64
		df    int
	}
	var all []scored
	for w, c := range dp {
		if c < minTermDocs {
			continue
		}
		s := math.Log((float64(c)+0.5)/(np+1)) - math.Log((float64(db[w])+0.5)/(nb+1))
		if s <= 0 {
			continue
		}
		all = append(all, scored{w, s, c})
	}
	sort.Slice(all, func(i, j int) bool {
		a, b := all[i], all[j]
		if a.score != b.score {
			return a.score > b.score
		}
		if a.df != b.df {
			return a.df > b.df
		}
		return a.w < b.w
	})
	out := []string{}
	for _, s := range all[:min(n, len(all))] {
		out = append(out, s.w)
	}
	return out
}

// stopwords are English function words, social-media noise and a few
// Welsh function words: words that say nothing about what a spike is about.
var stopwords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`
a about above after again against all also am an and any are aren aren't as at be because been before being below
between both but by can can't cannot could couldn did didn do does doesn doing don down during each even ever every
few for from further get gets getting got had hadn has hasn have haven having he her here hers herself him himself his
how i if in into is isn it it's its itself just let like made make many may me might more most much must mustn my
myself need needs no nor not now of off on once one only or other ought our ours ourselves out over own really said
same say says shan she should shouldn since so some still such than that the their theirs them themselves then there
these they thing things this those though through thus to too under until up upon us very via was wasn way we well
were weren what when where whether which while who whom whose why will with within without won would wouldn yes yet
you your yours yourself yourselves
amp rt http https www com co uk gov html
ac am ar at na nad mae ond oes roedd sydd yn yr ein eich eu fy hefyd gan gyda hwn hon hyn neu pan pam pob sut wedi
`) {
		m[w] = true
	}
	return m
}()
