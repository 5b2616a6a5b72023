package lang

// script is a writing system, as far as the detector cares: every script
// but Latin, Arabic, Cyrillic and Han/Kana names its language by itself.
type script uint8

const (
	scOther script = iota // letters of scripts not named here (Ethiopic, Syriac…)
	scLatin
	scArabic
	scCyrillic
	scGreek
	scHebrew
	scArmenian
	scGeorgian
	scDevanagari
	scBengali
	scGurmukhi
	scGujarati
	scTamil
	scTelugu
	scKannada
	scMalayalam
	scSinhala
	scThai
	scHangul
	scKana // Hiragana and Katakana
	scHan
	numScripts
)

// cased says whether a script has upper and lower case.
func (sc script) cased() bool {
	switch sc {
	case scLatin, scGreek, scCyrillic, scArmenian, scGeorgian:
		return true
	}
	return false
}

// scriptCodes is the language a script alone decides; "" where the
// letters must be looked at (Arabic, Cyrillic, Han with Kana) or where
// the script does not say (Latin, other scripts).
var scriptCodes = [numScripts]string{
	scGreek:      "el",
	scHebrew:     "he",
	scArmenian:   "hy",
	scGeorgian:   "ka",
	scDevanagari: "hi", // also Marathi and Nepali, which are not told apart
	scBengali:    "bn", // also Assamese; Sylheti is usually written in it
	scGurmukhi:   "pa",
	scGujarati:   "gu",
	scTamil:      "ta",
	scTelugu:     "te",
	scKannada:    "kn",
	scMalayalam:  "ml",
	scSinhala:    "si",
	scThai:       "th",
	scHangul:     "ko",
	scKana:       "ja",
	scHan:        "zh",
}

// scriptOf returns the script of a letter or combining mark at or above
// U+0080 (ASCII letters are Latin and never reach it).
func scriptOf(r rune) script {
	switch {
	case r < 0x0250:
		return scLatin // Latin-1 Supplement, Latin Extended-A and -B
	case r < 0x0370:
		return scOther // IPA, spacing modifiers, combining diacritics
	case r < 0x0400:
		return scGreek
	case r < 0x0530:
		return scCyrillic
	case r < 0x0590:
		return scArmenian
	case r < 0x0600:
		return scHebrew
	case r < 0x0700, 0x0750 <= r && r < 0x0780, 0x08A0 <= r && r < 0x0900:
		return scArabic
	case r < 0x0900:
		return scOther // Syriac, Thaana, N'Ko…
	case r < 0x0980:
		return scDevanagari
	case r < 0x0A00:
		return scBengali
	case r < 0x0A80:
		return scGurmukhi
	case r < 0x0B00:
		return scGujarati
	case r < 0x0B80:
		return scOther // Oriya
	case r < 0x0C00:
		return scTamil
	case r < 0x0C80:
		return scTelugu
	case r < 0x0D00:
		return scKannada
	case r < 0x0D80:
		return scMalayalam
	case r < 0x0E00:
		return scSinhala
	case r < 0x0E80:
		return scThai
	case 0x10A0 <= r && r < 0x1100, 0x1C90 <= r && r < 0x1CC0:
		return scGeorgian
	case 0x1100 <= r && r < 0x1200, 0x3130 <= r && r < 0x3190, 0xAC00 <= r && r < 0xD7B0:
		return scHangul
	case 0x1E00 <= r && r < 0x1F00, 0x2C60 <= r && r < 0x2C80, 0xA720 <= r && r < 0xA800,
		0xFF21 <= r && r < 0xFF5B:
		return scLatin // Latin Extended Additional (ẁ ỳ), -C, -D, fullwidth
	case 0x1F00 <= r && r < 0x2000:
		return scGreek
	case 0x3040 <= r && r < 0x3100, 0x31F0 <= r && r < 0x3200, 0xFF66 <= r && r < 0xFFA0:
		return scKana
	case 0x3400 <= r && r < 0x4DC0, 0x4E00 <= r && r < 0xA000, 0xF900 <= r && r < 0xFB00,
		0x20000 <= r && r < 0x40000:
		return scHan
	case 0xFB50 <= r && r < 0xFE00, 0xFE70 <= r && r < 0xFF00:
		return scArabic // presentation forms
	}
	return scOther
}

// Letters of the Arabic script that tell its languages apart.
const (
	arSorani  = iota // ڕ ڵ ۆ ێ ە: Sorani Kurdish
	arPashto         // ټ ډ ړ ږ ښ ځ څ ګ ې ۍ ڼ
	arUrdu           // ٹ ڈ ڑ ں ے ۓ ہ ۂ ھ (also Punjabi in Shahmukhi)
	arPersian        // پ چ ژ گ ک ی: Persian, and Urdu, Pashto, Kurdish
	arArabic         // ي ك ة ى: the Arabic forms the others replace
	numArabicClasses
)

func arabicClass(r rune) int {
	switch r {
	case 'ڕ', 'ڵ', 'ۆ', 'ێ', 'ە':
		return arSorani
	case 'ټ', 'ډ', 'ړ', 'ږ', 'ښ', 'ځ', 'څ', 'ګ', 'ې', 'ۍ', 'ڼ':
		return arPashto
	case 'ٹ', 'ڈ', 'ڑ', 'ں', 'ے', 'ۓ', 'ہ', 'ۂ', 'ھ':
		return arUrdu
	case 'پ', 'چ', 'ژ', 'گ', 'ک', 'ی':
		return arPersian
	case 'ي', 'ك', 'ة', 'ى':
		return arArabic
	}
	return -1
}

// arabicCode names the language of a text in the Arabic script from its
// letters: Kurdish (Sorani) and Pashto have letters of their own, Urdu
// has ٹ ڈ ڑ ں ے ہ ھ which neither Arabic nor Persian use, and Persian
// writes ی ک پ گ where Arabic writes ي ك and lacks پ چ ژ گ.
func arabicCode(c *[numArabicClasses]int32) string {
	switch {
	case c[arSorani] > 0 && c[arSorani] >= c[arPashto] && c[arSorani] >= c[arUrdu]:
		return "ku"
	case c[arPashto] > 0 && c[arPashto] >= c[arUrdu]:
		return "ps"
	case c[arUrdu] > 0:
		return "ur"
	case c[arPersian] > c[arArabic]:
		return "fa"
	}
	return "ar"
}

// Letters of the Cyrillic script that tell its languages apart.
const (
	cyrUkrainian = iota // і ї є ґ
	cyrRussian          // ы э ё
	cyrBulgarian        // ъ (Russian has it too, rarely, and then also ы)
	cyrOther            // ј љ њ џ ђ ћ ѓ ќ ѕ ў ә ғ қ ң ө ұ ү һ: Serbian, Macedonian, Belarusian, Kazakh…
	numCyrillicClasses
)

func cyrillicClass(r rune) int {
	switch r {
	case 'і', 'ї', 'є', 'ґ':
		return cyrUkrainian
	case 'ы', 'э', 'ё':
		return cyrRussian
	case 'ъ':
		return cyrBulgarian
	case 'ј', 'љ', 'њ', 'џ', 'ђ', 'ћ', 'ѓ', 'ќ', 'ѕ', 'ў', 'ә', 'ғ', 'қ', 'ң', 'ө', 'ұ', 'ү', 'һ':
		return cyrOther
	}
	return -1
}

// cyrillicCode names the language of a Cyrillic text from its letters,
// Und for a Cyrillic language the detector does not name, or "" when the
// letters do not tell Russian, Ukrainian and Bulgarian apart.
func cyrillicCode(c *[numCyrillicClasses]int32) string {
	switch {
	case c[cyrOther] > c[cyrUkrainian] && c[cyrOther] > c[cyrRussian]:
		return Und
	case c[cyrUkrainian] > 0 && c[cyrUkrainian] >= c[cyrRussian]:
		return "uk"
	case c[cyrRussian] > 0:
		return "ru"
	case c[cyrBulgarian] > 0:
		return "bg"
	}
	return ""
}
