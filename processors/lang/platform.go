package lang

import "strings"

// iso6391 lists the ISO 639-1 codes. A platform's code is passed through
// only if its base language is one of them.
const iso6391 = `aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu
cv cy da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht
hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb
lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv ny oc oj om or
os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr ss st su sv sw ta te
tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu`

// platformCodes maps a lower-case base language code, as platforms send
// it, to its ISO 639-1 code: the codes themselves, the withdrawn ones X
// still sends ("in" Indonesian, "iw" Hebrew), and the ISO 639-3 codes
// some platforms use for languages ISO 639-1 folds together.
var platformCodes = func() map[string]string {
	m := map[string]string{}
	for _, c := range strings.Fields(iso6391) {
		m[c] = c
	}
	for alias, c := range map[string]string{
		"in": "id", "iw": "he", "ji": "yi", "jw": "jv", "mo": "ro",
		"ckb": "ku", "kmr": "ku", "fil": "tl", "cmn": "zh", "yue": "zh",
	} {
		m[alias] = c
	}
	return m
}()

// Normalize turns a platform's language code into an ISO 639-1 code, or
// "" when it names no language. It takes BCP 47-style tags in any case
// ("en", "EN-gb", "pt_BR", "zh-cn" → "en", "en", "pt", "zh") and maps
// the old codes X still uses ("in" → "id", "iw" → "he"). X's codes for
// tweets without language — "und", "zxx", "art", and "qme" (media only),
// "qht" (hashtags only), "qam" (mentions only), "qct" (cashtags only),
// "qst" (very short) — and anything unknown give "". It does not allocate.
func Normalize(platformLang string) string {
	s := strings.TrimSpace(platformLang)
	if i := strings.IndexAny(s, "-_"); i >= 0 {
		s = s[:i]
	}
	if len(s) < 2 || len(s) > 3 {
		return ""
	}
	var buf [3]byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	return platformCodes[string(buf[:len(s)])]
}
