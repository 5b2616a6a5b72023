package wordtab

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// A Table answers exactly what the map it was built from answers, for its
// keys, for words that share their first 16 bytes or their length with a
// key, and for random words.
func TestTableIsTheMap(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	m := map[string]int32{"": 7, "a": 1, "tax": 2, "universal": 3, "ŵyr": 4}
	word := func() string {
		var b strings.Builder
		for range 1 + r.IntN(24) {
			b.WriteByte(byte('a' + r.IntN(26)))
		}
		return b.String()
	}
	for i := range 5000 {
		m[word()] = int32(i)
	}
	long := "abcdefghijklmnopqrstuvwxyz"
	m[long] = -1
	tab := New(m)
	if tab.Len() != len(m) {
		t.Fatalf("Len %d, want %d", tab.Len(), len(m))
	}
	check := func(w string) {
		t.Helper()
		want, wok := m[w]
		got, ok := tab.GetString(w)
		if ok != wok || got != want {
			t.Fatalf("%q: got %d %v, want %d %v", w, got, ok, want, wok)
		}
		if got2, ok2 := tab.Get([]byte(w)); got2 != got || ok2 != ok {
			t.Fatalf("%q: Get and GetString differ", w)
		}
	}
	for w := range m {
		check(w)
		check(w + "s")
		if len(w) > 1 {
			check(w[:len(w)-1])
		}
	}
	for _, w := range []string{long[:16], long[:17], long + "x", "abcdefghijklmnopqrstuvwxyZ", "ta", "taxes", "\x00", "a\x00"} {
		check(w)
	}
	for range 100000 {
		check(word())
	}
}

// Keys that differ only after their 16th byte, or only in length with
// zero bytes, are told apart.
func TestTableLongAndZeroKeys(t *testing.T) {
	m := map[string]int32{}
	for i := range 50 {
		m[fmt.Sprintf("department-for-%03d", i)] = int32(i)
	}
	m["x"], m["x\x00"], m["x\x00\x00"] = 100, 101, 102
	tab := New(m)
	for w, v := range m {
		if got, ok := tab.GetString(w); !ok || got != v {
			t.Fatalf("%q: got %d %v, want %d", w, got, ok, v)
		}
	}
	if _, ok := tab.GetString("department-for-050"); ok {
		t.Fatal("found a key that is not there")
	}
}

func BenchmarkGet(b *testing.B) {
	m := map[string]int32{}
	for i := range 5000 {
		m[fmt.Sprintf("w%dx", i)] = int32(i)
	}
	tab := New(m)
	words := [][]byte{[]byte("the"), []byte("w42x"), []byte("universal"), []byte("credit"), []byte("w4999x"), []byte("and")}
	b.Run("table", func(b *testing.B) {
		for i := range b.N {
			tab.Get(words[i%len(words)])
		}
	})
	b.Run("map", func(b *testing.B) {
		for i := range b.N {
			_ = m[string(words[i%len(words)])]
		}
	})
}
