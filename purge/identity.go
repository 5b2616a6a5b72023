package purge

import (
	"bytes"
	"sort"

	"github.com/govlisten/govlisten/privacy"
)

// identity is everything one author is known by: the id or handle asked
// for, the ids and handles found with it on the same mentions, and, with
// pseudonymisation on, the pseudonyms of all of them. Values are
// normalised (privacy.Normalise): lower case, no leading '@'.
type identity struct {
	pseudo *privacy.Pseudonymiser
	all    map[string]bool // values as the platforms give them, and pseudonyms
}

func newIdentity(author string, pseudo *privacy.Pseudonymiser) *identity {
	id := &identity{pseudo: pseudo, all: map[string]bool{}}
	id.add(author)
	return id
}

// add records an id or handle; it reports whether it was new.
func (id *identity) add(v string) bool {
	n := privacy.Normalise(v)
	if n == "" || id.all[n] {
		return false
	}
	id.all[n] = true
	if id.pseudo != nil && !privacy.IsPseudonym(n) {
		id.all[id.pseudo.Author(n)] = true
	}
	return true
}

// is says whether v (an author id or handle as stored) is this author.
func (id *identity) is(v string) bool {
	n := privacy.Normalise(v)
	return n != "" && id.all[n]
}

// values lists every value, sorted.
func (id *identity) values() []string {
	out := make([]string, 0, len(id.all))
	for v := range id.all {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}

// handles lists every value as a stored handle may spell it: with and
// without '@' (X stores handles bare, YouTube with '@').
func (id *identity) handles() []string {
	var out []string
	for _, v := range id.values() {
		out = append(out, v)
		if !privacy.IsPseudonym(v) {
			out = append(out, "@"+v)
		}
	}
	return out
}

// mentionedIn says, cheaply, whether data could hold this author: some
// value occurs in it, ignoring ASCII case.
func (id *identity) mentionedIn(data []byte) bool {
	lower := bytes.ToLower(data)
	for v := range id.all {
		if bytes.Contains(lower, []byte(v)) {
			return true
		}
	}
	return false
}

// tokenIn says whether one of the values occurs in data as a whole
// token (not inside a longer run of letters, digits and '_'), ignoring
// ASCII case: how an undecodable message is matched.
func (id *identity) tokenIn(data []byte) bool {
	lower := bytes.ToLower(data)
	for v := range id.all {
		tok := []byte(v)
		for i := 0; ; {
			j := bytes.Index(lower[i:], tok)
			if j < 0 {
				break
			}
			start, end := i+j, i+j+len(tok)
			if (start == 0 || !word(lower[start-1])) && (end == len(lower) || !word(lower[end])) {
				return true
			}
			i = start + 1
		}
	}
	return false
}

func word(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c >= 0x80
}
