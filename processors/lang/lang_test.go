package lang

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

// detector is built once for all tests, in TestMain, which measures what
// building it costs: lingua loads its models into package-level maps on
// the first build in a process and never again.
var (
	detector    *Detector
	modelHeapMB float64 // live heap the loaded models hold
	buildTime   time.Duration
)

func TestMain(m *testing.M) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	detector = New()
	buildTime = time.Since(start)
	runtime.GC()
	runtime.ReadMemStats(&after)
	modelHeapMB = float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / (1 << 20)
	os.Exit(m.Run())
}

// TestModelMemory states what the loaded models cost and keeps it from
// growing unnoticed (high-accuracy mode would be some 200 MB).
func TestModelMemory(t *testing.T) {
	t.Logf("New: %.1f MB of live heap for the models, built in %v", modelHeapMB, buildTime.Round(time.Millisecond))
	if modelHeapMB > 40 {
		t.Errorf("models take %.1f MB of heap, want at most 40", modelHeapMB)
	}
}

// Accuracy floors, set from what the corpus measures (see TestCorpus's
// log): every case right but a handful of hard ones.
const (
	minAccuracy        = 0.95 // over the whole corpus
	minHeldOutAccuracy = 0.90 // over the held-out set
	minLangAccuracy    = 0.75 // for each language with at least four cases
)

// TestCorpus measures accuracy on the corpus and on the held-out set, per
// language, and asserts the floors. Cases that test a rule rather than
// the statistics must always pass: every Und case, every case with a
// platform code, and no English case may come out Welsh.
func TestCorpus(t *testing.T) {
	acc := accuracy(t, "corpus", corpus)
	if acc < minAccuracy {
		t.Errorf("corpus accuracy %.3f, want at least %.2f", acc, minAccuracy)
	}
	if acc := accuracy(t, "held-out", heldOut); acc < minHeldOutAccuracy {
		t.Errorf("held-out accuracy %.3f, want at least %.2f", acc, minHeldOutAccuracy)
	}
}

// accuracy runs the cases, logs the accuracy per language and which
// step decided, and returns the overall accuracy.
func accuracy(t *testing.T, name string, cases []struct{ want, platform, text string }) float64 {
	t.Helper()
	type tally struct{ right, total int }
	perLang := map[string]*tally{}
	var steps [numSteps]int
	right := 0
	for _, c := range cases {
		got, st := detector.detect(c.text, c.platform)
		steps[st]++
		tl := perLang[c.want]
		if tl == nil {
			tl = &tally{}
			perLang[c.want] = tl
		}
		tl.total++
		if got == c.want {
			tl.right++
			right++
			continue
		}
		msg := fmt.Sprintf("%s: Detect(%q, %q) = %q (%s), want %q", name, c.text, c.platform, got, stepNames[st], c.want)
		switch {
		case c.want == Und || c.platform != "" || c.want == "en" && got == "cy":
			t.Error(msg)
		default:
			t.Log("miss: " + msg)
		}
	}

	langs := make([]string, 0, len(perLang))
	for l := range perLang {
		langs = append(langs, l)
	}
	sort.Strings(langs)
	var b strings.Builder
	for _, l := range langs {
		tl := perLang[l]
		fmt.Fprintf(&b, " %s %d/%d", l, tl.right, tl.total)
		if acc := float64(tl.right) / float64(tl.total); tl.total >= 4 && acc < minLangAccuracy {
			t.Errorf("%s: accuracy for %s is %.2f, want at least %.2f", name, l, acc, minLangAccuracy)
		}
	}
	acc := float64(right) / float64(len(cases))
	t.Logf("%s: accuracy %.3f (%d/%d); per language:%s", name, acc, right, len(cases), b.String())
	var sb strings.Builder
	for s, n := range steps {
		fmt.Fprintf(&sb, " %s %d,", stepNames[s], n)
	}
	t.Logf("%s: decided by:%s", name, strings.TrimSuffix(sb.String(), ","))
	return acc
}

func TestNormalize(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"en", "en"}, {"EN", "en"}, {" cy ", "cy"}, {"en-GB", "en"}, {"pt_BR", "pt"}, {"zh-cn", "zh"},
		{"zh-TW", "zh"}, {"in", "id"}, {"iw", "he"}, {"ckb", "ku"}, {"fil", "tl"},
		{"", ""}, {"und", ""}, {"qme", ""}, {"qht", ""}, {"qam", ""}, {"qct", ""}, {"qst", ""},
		{"zxx", ""}, {"art", ""}, {"mul", ""}, {"x", ""}, {"xx", ""}, {"english", ""}, {"-", ""},
		{"e\xffn", ""},
	} {
		if got := Normalize(c.in); got != c.want {
			t.Errorf("Normalize(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { Normalize("pt-BR") }); n != 0 {
		t.Errorf("Normalize allocates %v times, want 0", n)
	}
}

// TestLanguages checks that the exported list is sorted, unique, in
// ISO 639-1, and covers every code the steps can produce.
func TestLanguages(t *testing.T) {
	ls := Languages()
	if !slices.IsSorted(ls) || len(slices.Compact(slices.Clone(ls))) != len(ls) {
		t.Errorf("Languages() = %v, want sorted and unique", ls)
	}
	produced := []string{"ar", "fa", "ur", "ps", "ku", "ru", "uk", "bg", "ja", "zh"}
	produced = append(produced, latinCodes[:]...)
	for _, c := range scriptCodes {
		if c != "" {
			produced = append(produced, c)
		}
	}
	for _, c := range produced {
		if !slices.Contains(ls, c) {
			t.Errorf("Detect can return %q, which Languages() lacks", c)
		}
	}
	for _, c := range ls {
		if Normalize(c) != c {
			t.Errorf("%q in Languages() is not an ISO 639-1 code", c)
		}
	}
	ls[0] = "xx"
	if Languages()[0] == "xx" {
		t.Error("Languages() returns its own slice, want a copy")
	}
}

// TestWelshAgainstEnglish pins the rules between the two languages most
// posts are in: names and one phrase do not make English Welsh; a whole
// Welsh sentence makes a bilingual post Welsh.
func TestWelshAgainstEnglish(t *testing.T) {
	for _, c := range []struct{ want, platform, text string }{
		{"en", "", "Visited Ysbyty Ystrad Fawr and Ysbyty Cwm Rhondda today with the Health Minister"},
		{"en", "", "Road closed between Llanfair Caereinion and Llanfyllin until Monday"},
		{"en", "en", "Well done Dafydd and Rhys!"},
		{"en", "en", "Dydd Gŵyl Dewi Hapus!"},
		{"en", "", "Diolch yn fawr to all the volunteers who helped at the food bank in Pwllheli this week"},
		{"cy", "en", "Diolch yn fawr i chi gyd"},
		{"cy", "", "Mae'r ffordd ar gau heddiw. The road is closed today."},
		{"cy", "", "The road is closed today.\nMae'r ffordd ar gau heddiw."},
		{"cy", "en", "Mae'r ffordd ar gau heddiw"},
		// Welsh institutions named in English posts.
		{"en", "", "Congrats to the Urdd Eisteddfod winners from Ysgol Gymraeg Bro Morgannwg"},
		{"en", "", "Croeso Cymru launches new campaign"},
		{"en", "", "Great to see Cyngor Gwynedd and Llywodraeth Cymru working together on this"},
		{"!cy", "", "Ysbyty Glan Clwyd A&E waiting times 12hrs+"},
		{"!cy", "", "NHS Wales / GIG Cymru"},
		{"!cy", "", "Cymru am byth! Come on Wales"},
		{"!cy", "", "Plaid Cymru leader calls for inquiry"},
	} {
		got := detector.Detect(c.text, c.platform)
		if c.want == "!cy" && got != "cy" {
			continue
		}
		if got != c.want {
			t.Errorf("Detect(%q, %q) = %q, want %q", c.text, c.platform, got, c.want)
		}
	}
}

// TestOutOfScope: a language the detector does not know comes out Und,
// not as the nearest language it knows — for the ones checked here.
// Kurmanji Kurdish and Albanian still come out French (their ê, û, ë),
// and Scottish Gaelic English: see the package comment.
func TestOutOfScope(t *testing.T) {
	for _, text := range []string{
		"Mera Universal Credit abhi tak nahi aaya, kya karun? Bohat pareshan hoon", // Roman Urdu
		"Tá mé ag fanacht ar an bpas le trí mhí anois",                             // Irish
		"Salamat po sa tulong ninyo, napakabait ng mga nurse sa ospital",           // Tagalog
		"Saya sudah menunggu visa saya selama tiga bulan",                          // Indonesian
		"Děkuji za pomoc, všechno je vyřízeno",                                     // Czech
		"Paldies par palīdzību, viss ir nokārtots",                                 // Latvian
	} {
		if got := detector.Detect(text, ""); got != Und {
			t.Errorf("Detect(%q) = %q, want %q", text, got, Und)
		}
	}
}

// TestHostileInput: no panic and a valid code for inputs a social API
// can deliver: invalid UTF-8, NUL bytes, combining marks alone, a
// megabyte of text or emoji, words longer than the lookup buffer.
func TestHostileInput(t *testing.T) {
	long := strings.Repeat("The council has not answered my emails about the council tax refund. ", 20000)
	for _, text := range []string{
		"\xff", "\x00\x00", "\u0301\u0301\u0301", "a\u0301b\u0301c\u0301 d\u0301e\u0301",
		strings.Repeat("😂", 300000), long, strings.Repeat("ż", 100) + " " + strings.Repeat("a", 1000),
		"Nie \xffmogę\xfe się dodzwonić do urzędu w sprawie", "@", "#", "http://", "www.", "RT",
		strings.Repeat("ਧੰ", 3000), "ـــــ", "\u200d\u200d", string([]byte{0xe2, 0x80}),
	} {
		for _, p := range []string{"", "en", "\xff"} {
			got := detector.Detect(text, p)
			if got != Und && !slices.Contains(languages, got) && got != Normalize(p) {
				t.Errorf("Detect(%.40q, %q) = %q, not a code it may return", text, p, got)
			}
		}
	}
	if got := detector.Detect(long, ""); got != "en" {
		t.Errorf("Detect(long English) = %q, want en", got)
	}
}

// TestNoAllocations: the common case (decided without the model) does
// not allocate.
func TestNoAllocations(t *testing.T) {
	for _, text := range []string{
		"Waited 3 hours on the phone to the council about my council tax bill and still no answer",
		"Mae'r ysgol ar gau heddiw oherwydd y tywydd garw. Cadwch yn ddiogel.",
		"کیا کوئی جانتا ہے کہ برطانیہ میں ورک ویزا کتنے عرصے میں ملتا ہے؟",
		"😂😂😂 @someone https://t.co/x",
	} {
		if n := testing.AllocsPerRun(100, func() { detector.Detect(text, "") }); n != 0 {
			t.Errorf("Detect(%.30q) allocates %v times, want 0", text, n)
		}
	}
}

// TestConcurrent runs Detect from several goroutines; with -race it
// checks that a Detector is safe to share.
func TestConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 50 {
				c := corpus[(g*50+i)%len(corpus)]
				if got := detector.Detect(c.text, c.platform); got != Und && !utf8.ValidString(got) {
					t.Errorf("bad code %q", got)
				}
			}
		})
	}
	wg.Wait()
}

func ExampleDetector_Detect() {
	d := New() // once per process; share it
	fmt.Println(d.Detect("Mae'r ysgol ar gau heddiw oherwydd y tywydd.", "en"))
	fmt.Println(d.Detect("@DWPgovuk still waiting for my Universal Credit payment", ""))
	fmt.Println(d.Detect("Dziękuję bardzo za pomoc, wszystko załatwione!", ""))
	fmt.Println(d.Detect("شکریہ", ""))
	fmt.Println(d.Detect("😂😂 https://t.co/x", "qme"))
	// Output:
	// cy
	// en
	// pl
	// ur
	// und
}
