package sentiment

import (
	"encoding/binary"
	"math/bits"

	"github.com/govlisten/govlisten/internal/wordtab"
)

// wordTable is a static open-addressing hash table from words to their
// wordInfo: govader's Lexicon, BoosterDict, NegateList and the words the
// rules compare, merged so that one probe answers every question about a
// word. It is built once in New and only read afterwards.
//
// It is laid out for the cache, since looking words up is most of the
// work: a slot is one uint32 holding a tag (high bits of the word's hash)
// and the entry's index plus one, 0 marking an empty slot, so the slots of
// VADER's 7,600 words take 64 KB; an entry (32 bytes) holds the first 16
// bytes of its key inline, so a word is compared with two integer
// comparisons and without chasing a pointer. Being static, the table has
// bounded probe sequences whatever words the input holds.
type wordTable struct {
	slots    []uint32
	entries  []tableEntry
	longKeys []string // by entry index, for keys longer than 16 bytes
	shift    uint     // 64 − log2(len(slots))
	filter   []uint64 // a bit per value of a hash's top filterBits bits: some word has them
	idxMask  uint32   // low bits of a slot: entry index + 1
}

// tableEntry is one word. val is the word's BoosterDict value if it is a
// booster, else its Lexicon value: govader never asks for the Lexicon value
// of a booster (its valence is 0) nor for the booster value of another
// word.
type tableEntry struct {
	k0, k1 uint64 // the key's first 16 bytes, little-endian, zero-padded
	val    float64
	n      uint32 // the key's length
	flags  uint8
	kind   uint8
	id     uint16
}

// newWordTable builds the table of m at a load factor of at most 1/2.
func newWordTable(m map[string]wordInfo) *wordTable {
	t := &wordTable{
		entries:  make([]tableEntry, 0, len(m)),
		longKeys: make([]string, 0, len(m)),
	}
	for k, v := range m {
		e := tableEntry{val: v.lex, n: uint32(len(k)), flags: v.flags, kind: v.kind, id: v.id}
		if v.flags&isBooster != 0 {
			e.val = v.boost
		}
		e.k0, e.k1 = wordtab.KeyWords(k)
		t.entries = append(t.entries, e)
		t.longKeys = append(t.longKeys, k)
	}
	idxBits := bits.Len(uint(len(t.entries))) // so that len(entries) fits
	t.idxMask = uint32(uint64(1)<<idxBits - 1)
	slotBits := bits.Len(uint(4 * len(t.entries)))
	t.slots = make([]uint32, 1<<slotBits)
	t.shift = uint(64 - slotBits)
	for i := range t.entries {
		e := &t.entries[i]
		h := wordtab.Hash(e.k0, e.k1, len(t.longKeys[i]))
		j := t.home(h)
		for t.slots[j] != 0 {
			j = (j + 1) & (len(t.slots) - 1)
		}
		t.slots[j] = t.tag(h) | uint32(i+1)
	}
	t.filter = make([]uint64, 1<<filterBits/64)
	for i := range t.entries {
		e := &t.entries[i]
		f := wordtab.Hash(e.k0, e.k1, len(t.longKeys[i])) >> (64 - filterBits)
		t.filter[f/64] |= 1 << (f % 64)
	}
	for i, k := range t.longKeys {
		if len(k) <= 16 {
			t.longKeys[i] = "" // compared inline; keep only what is needed
		}
	}
	return t
}

// filterBits sizes wordTable.filter: 2^18 bits (32 KB, within the L1
// cache) for VADER's 7,600 words answer 97% of misses without touching the
// slots.
const filterBits = 18

// home is the first slot to probe for hash h: its top bits (multiplicative
// hashing puts the entropy there).
func (t *wordTable) home(h uint64) int {
	return int(h >> t.shift)
}

// tag is the part of h kept in a slot: bits below the home bits, above the
// entry index.
func (t *wordTable) tag(h uint64) uint32 {
	return uint32(h>>16) &^ t.idxMask
}

// find returns the index in entries of w, or -1.
func (t *wordTable) find(w string) int {
	k0, k1 := wordtab.KeyWords(w)
	return t.findKey(k0, k1, w)
}

// findKey returns the index in entries of w, whose wordtab.KeyWords are k0 and k1,
// or -1. The first probe, which usually decides, is inlined in the caller.
func (t *wordTable) findKey(k0, k1 uint64, w string) int {
	h := wordtab.Hash(k0, k1, len(w))
	if f := h >> (64 - filterBits); t.filter[f/64]&(1<<(f%64)) == 0 {
		return -1
	}
	j := t.home(h)
	if s := t.slots[j]; s == 0 {
		return -1
	} else if s&^t.idxMask == t.tag(h) {
		if i := int(s&t.idxMask) - 1; t.match(i, k0, k1, w) {
			return i
		}
	}
	return t.probe(j, t.tag(h), k0, k1, w)
}

// probe continues findKey's search after slot j.
func (t *wordTable) probe(j int, tag uint32, k0, k1 uint64, w string) int {
	mask := len(t.slots) - 1
	for j = (j + 1) & mask; ; j = (j + 1) & mask {
		s := t.slots[j]
		if s == 0 {
			return -1
		}
		if s&^t.idxMask != tag {
			continue
		}
		if i := int(s&t.idxMask) - 1; t.match(i, k0, k1, w) {
			return i
		}
	}
}

// match reports whether entry i is w, whose wordtab.KeyWords are k0 and k1.
func (t *wordTable) match(i int, k0, k1 uint64, w string) bool {
	e := &t.entries[i]
	return e.k0 == k0 && e.k1 == k1 && e.n == uint32(len(w)) && (len(w) <= 16 || t.longKeys[i] == w)
}

// keyWordsPadded is wordtab.KeyWords(string(b[:n])) for a b that has at least 16
// bytes: two loads and masks, no branches.
func keyWordsPadded(b []byte, n int) (k0, k1 uint64) {
	k0 = binary.LittleEndian.Uint64(b[:8])
	k1 = binary.LittleEndian.Uint64(b[8:16])
	k0 &= ^uint64(0) >> (64 - 8*min(n, 8))
	k1 &= ^uint64(0) >> (64 - 8*min(max(n-8, 0), 8))
	return k0, k1
}

func le64(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}
