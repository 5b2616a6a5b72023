package lang

import (
	"slices"
	"testing"
)

// FuzzDetect checks that Detect never panics and always returns Und, a
// code from Languages(), or the platform's own code, normalised.
func FuzzDetect(f *testing.F) {
	for _, c := range corpus[:20] {
		f.Add(c.text, c.platform)
	}
	f.Fuzz(func(t *testing.T, text, platform string) {
		got := detector.Detect(text, platform)
		if got == Und || slices.Contains(languages, got) {
			return
		}
		if p := Normalize(platform); p == "" || got != p {
			t.Fatalf("Detect(%q, %q) = %q: not Und, not in Languages(), not the platform's code %q", text, platform, got, p)
		}
	})
}
