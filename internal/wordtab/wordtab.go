// Package wordtab is a static hash table from words to small integers,
// for the per-word lookups of the tag step: the taxonomy's index of rule
// words (processors/tagger), the function words of language detection
// (processors/lang) and, through its hashing, VADER's lexicon
// (processors/sentiment).
//
// Why it exists: those lookups run for every word of every mention, and a
// Go map[string]T spends them hashing with AES, chasing a pointer to
// compare the key, and missing the cache, since most words of a mention
// are in none of the tables. A Table is built once and only read, so it
// can be laid out for the cache instead:
//
//   - a Bloom-style filter of one bit per value of a hash's top bits
//     (32 KB, in the L1 cache) answers most misses without touching
//     anything else;
//   - a slot is one uint32: a tag (more bits of the hash) and the entry's
//     index plus one, so a probe reads 4 bytes, and a tag mismatch skips
//     the entry;
//   - an entry holds the first 16 bytes of its key inline, so a word of
//     up to 16 bytes is compared with two integer comparisons;
//   - the hash is two multiplications of those 16 bytes and the length
//     (KeyWords, Hash), with no loop over the word.
//
// Being static, a Table has bounded probe sequences whatever words the
// input holds: an adversary cannot grow them. Lookups take a []byte
// without converting it to a string and never allocate.
package wordtab

import (
	"encoding/binary"
	"math/bits"
	"unsafe"
)

// Table maps each of its keys to the value it was built with.
type Table struct {
	slots    []uint32
	entries  []entry
	longKeys []string // by entry, for keys longer than 16 bytes
	shift    uint     // 64 − log2(len(slots))
	idxMask  uint32   // the low bits of a slot: entry index + 1
	filter   []uint64 // a bit per value of a hash's top FilterBits bits
}

type entry struct {
	k0, k1 uint64 // the key's first 16 bytes, little-endian, zero-padded
	n      uint32 // the key's length
	val    int32
}

// FilterBits sizes a Table's filter: 2^18 bits, 32 KB.
const FilterBits = 18

// New builds the table of m at a load factor of at most 1/4.
func New(m map[string]int32) *Table {
	t := &Table{entries: make([]entry, 0, len(m)), longKeys: make([]string, 0, len(m))}
	for k, v := range m {
		k0, k1 := KeyWords(k)
		t.entries = append(t.entries, entry{k0: k0, k1: k1, n: uint32(len(k)), val: v})
		t.longKeys = append(t.longKeys, k)
	}
	t.idxMask = uint32(uint64(1)<<bits.Len(uint(len(t.entries))) - 1)
	slotBits := bits.Len(uint(4 * len(t.entries)))
	t.slots = make([]uint32, 1<<slotBits)
	t.shift = uint(64 - slotBits)
	t.filter = make([]uint64, 1<<FilterBits/64)
	for i := range t.entries {
		e := &t.entries[i]
		h := Hash(e.k0, e.k1, len(t.longKeys[i]))
		j := t.home(h)
		for t.slots[j] != 0 {
			j = (j + 1) & (len(t.slots) - 1)
		}
		t.slots[j] = t.tag(h) | uint32(i+1)
		f := h >> (64 - FilterBits)
		t.filter[f/64] |= 1 << (f % 64)
	}
	for i, k := range t.longKeys {
		if len(k) <= 16 {
			t.longKeys[i] = "" // compared inline
		}
	}
	return t
}

// Len is the number of keys.
func (t *Table) Len() int { return len(t.entries) }

// Get returns the value of w and whether w is a key.
func (t *Table) Get(w []byte) (int32, bool) {
	k0, k1 := keyWordsBytes(w)
	h := Hash(k0, k1, len(w))
	if f := h >> (64 - FilterBits); t.filter[f/64]&(1<<(f%64)) == 0 {
		return 0, false
	}
	tag, mask := t.tag(h), len(t.slots)-1
	for j := t.home(h); ; j = (j + 1) & mask {
		s := t.slots[j]
		if s == 0 {
			return 0, false
		}
		if s&^t.idxMask != tag {
			continue
		}
		i := int(s&t.idxMask) - 1
		if e := &t.entries[i]; e.k0 == k0 && e.k1 == k1 && e.n == uint32(len(w)) && (len(w) <= 16 || t.longKeys[i] == string(w)) {
			return e.val, true
		}
	}
}

// GetString is Get for a string.
func (t *Table) GetString(w string) (int32, bool) {
	return t.Get(unsafeBytes(w))
}

// home is the first slot to probe for hash h: its top bits (multiplicative
// hashing puts the entropy there).
func (t *Table) home(h uint64) int { return int(h >> t.shift) }

// tag is the part of h kept in a slot: bits below the home bits, above the
// entry index.
func (t *Table) tag(h uint64) uint32 { return uint32(h>>16) &^ t.idxMask }

// KeyWords returns the first 16 bytes of s, little-endian and zero-padded,
// reading them in (possibly overlapping) word loads.
func KeyWords(s string) (k0, k1 uint64) {
	return keyWordsBytes(unsafeBytes(s))
}

func keyWordsBytes(s []byte) (k0, k1 uint64) {
	switch n := len(s); {
	case n == 0:
	case n < 4:
		k0 = uint64(s[0]) | uint64(s[n>>1])<<(8*(n>>1)) | uint64(s[n-1])<<(8*(n-1))
	case n <= 8:
		k0 = uint64(binary.LittleEndian.Uint32(s)) | uint64(binary.LittleEndian.Uint32(s[n-4:]))<<(8*(n-4))
	case n <= 16:
		k0 = binary.LittleEndian.Uint64(s)
		k1 = binary.LittleEndian.Uint64(s[n-8:]) >> (8 * (16 - n))
	default:
		k0, k1 = binary.LittleEndian.Uint64(s), binary.LittleEndian.Uint64(s[8:])
	}
	return k0, k1
}

// Multiplicative hashing constants (murmur3's finaliser).
const (
	hashK1 = 0xff51afd7ed558ccd
	hashK2 = 0xc4ceb9fe1a85ec53
)

// Hash hashes a word of n bytes whose KeyWords are k0 and k1, with two
// multiplications that run in parallel. Bytes after the first 16 are left
// out: words that long are rare, and tables compare them in full.
func Hash(k0, k1 uint64, n int) uint64 {
	return k0*hashK1 ^ (k1^uint64(n))*hashK2
}

// unsafeBytes is s's bytes, without a copy; they must not be written.
func unsafeBytes(s string) []byte {
	return unsafe.Slice(unsafe.StringData(s), len(s))
}
