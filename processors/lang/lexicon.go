package lang

import (
	"math/bits"
	"strings"

	"github.com/govlisten/govlisten/internal/wordtab"
)

// latinLang indexes the Latin-script languages the detector tells apart.
// The statistical fallback (lingua) is restricted to exactly these.
type latinLang uint8

const (
	en latinLang = iota
	cy
	pl
	ro
	pt
	es
	fr
	it
	lt
	de
	nl
	tr
	so
	hu
	numLatin
)

// latinCodes are the ISO 639-1 codes of the latinLang values, in order.
var latinCodes = [numLatin]string{"en", "cy", "pl", "ro", "pt", "es", "fr", "it", "lt", "de", "nl", "tr", "so", "hu"}

// langMask is a set of latinLang.
type langMask uint16

func (m langMask) size() int { return bits.OnesCount16(uint16(m)) }

// first returns the lowest language in a non-empty set.
func (m langMask) first() latinLang { return latinLang(bits.TrailingZeros16(uint16(m))) }

// functionWords lists, per language, words that occur in almost every
// sentence of it: articles, pronouns, prepositions, auxiliaries,
// conjunctions, and a few very common words of what people write to and
// about government ("diolch", "thanks", "mulțumesc"). Counting them is the
// oldest accurate way to tell languages apart once a text has a handful
// of words, and it is what lets the common case skip the statistical
// model. A word listed under several languages counts, less, for each.
// Words are lower case, with their diacritics; Romanian, Lithuanian,
// Polish and Turkish also get the forms people type without diacritics
// where those forms are unambiguous.
//
// Welsh gets the longest list, mutated forms included ("gymru",
// "nghymru", "lywodraeth"), because telling it from English is the
// detector's most important job. Names are never listed: "Llandudno" or
// "Ysbyty Gwynedd" in an English sentence must not make it Welsh, and
// neither may "Cymru", which English uses as a name ("Plaid Cymru", "Pride
// Cymru"); its mutated forms ("yng Nghymru", "i Gymru") are listed. Nor
// are words that are also common first names in English posts (Welsh
// "beth" and "pam", Turkish "ben" and "kim", Polish "sam"), and English
// words that other languages spell the same ("bin", "care", "bus", "war",
// "door", "once", "hi") are listed under English too, so that in an
// English post they are shared, not another language's alone.
//
// Weak words are common nouns that English posts use inside names of
// Welsh institutions ("Ysgol Gymraeg Bro Morgannwg", "Cyngor Gwynedd",
// "Iechyd Cyhoeddus Cymru", "Ysbyty Ystrad Fawr", "Croeso Cymru"): they
// score, but as a word shared with another language would, never as a
// word of Welsh alone.
var functionWords = [...]struct {
	lang  latinLang
	words string
}{
	{en, `the and of to in on is are was were be been being have has had having you your yours yourself
		for with this that these those they them their theirs our ours we what about from can
		could would should will shall just my i how why when where who whom which there here
		all get got getting not no don doesn didn isn aren wasn weren won wouldn couldn shouldn
		haven hasn t re ve he she his her him it its if or by at as an than then any more out
		up do does did very because into over after before still only also really again want
		wants need needs help people us am thank thanks please today tomorrow yesterday now
		know think like time day year good great going never ever every some many much other
		well such even back while through make made way said say told let anyone someone
		everyone nobody something nothing anything everything off own same too most since
		until without against between under around each both few whether though although
		however yet u ur im ive dont cant wont youre thats whats
		new last first next see go come take give look find keep tell ask feel try leave put mean
		seem show hear play run move believe bring happen write sit stand lose meet include continue
		learn understand watch follow stop create speak read spend grow open walk win teach offer
		remember consider appear buy send build stay fall reach raise pass sell decide return explain
		hope carry break receive agree thing things man woman child children world life hand case
		problem fact money family old big small large early young important bad better best sure
		real little able wrong hard late enough already almost always often sometimes soon
		gonna wanna lol omg d m ll
		war bin bins door care face ten hi plant ah once bet bus`},
	{cy, `y yr yn ac mae ar am gyda gan ein eich ni chi hwn hon hyn sydd sy bod fod wedi ddim dim
		fydd bydd byddwn byddant byddwch rhaid diolch ddiolch heddiw ydy ydi ydw ydych
		ydyn ydym yw oes roedd oedd hefyd iawn mwy mwyaf gyfer drwy trwy rhai yma eto nawr rŵan
		wrth dros cael gael gwneud wneud gallu allu angen fy dy ei eu o i r n hi fe mi na neu
		ond os nid nac pob pawb bawb gyd gilydd nhw yng ym rydyn rydym rydw rydych dw dwi rwy
		rwyf ti chwi fi un sut pryd lle ble gallwch gallwn allwch dylai dylid ohonoch
		ohonom iddo iddi iddyn arnom arnoch gennym gennych ganddo ganddi tuag oherwydd ynghylch
		ynglŷn rhwng arall eraill er mwyn erbyn fel felly yno hynny honno hwnnw dyma dyna
		gymru nghymru chymru
		gwybodaeth wybodaeth pobl da blwyddyn flwyddyn ymlaen ffordd
		gweld weld byw gwaith waith newid cau agor ddoe heno yfory bore nos dydd ddydd wythnos
		ymgynghoriad gwefan llongyfarchiadau hwyl lwc cyfle`},
	{pl, `nie się sie że ze jest są sa to w z na do i jak czy ale tak już juz jestem mam mnie mi
		ktoś ktos który która które ktore co po od przez dla bardzo tylko jeszcze też tez może
		moze można mozna muszę musze nic nikt wszystko będzie bedzie było bylo był byl była
		byla sobie tego tym ten ta moja mój moj moje mojej dziękuję dziekuje dzięki dzieki
		proszę prosze ile jaki jaka jakie gdzie kiedy dlaczego o oraz lub ich jego jej nas
		was wam im także bo bez przy pod nad między mamy macie mają maja jesteś jesteśmy są
		aby albo ani aż być będą dlatego dobrze dużo dziś dzisiaj gdy gdyby ja ją jako jednak jeśli
		jeżeli każdy kto lecz mimo mogą musi my nam nasz nasza nawet nigdy niż on ona oni ponieważ
		prawie przed również swoje tam teraz trzeba tu tutaj ty tych więc więcej wszyscy wtedy
		za zawsze żeby został
		no ma`},
	{ro, `și si în este e sunt nu pe la cu de care din pentru mai să sa ce o am fost acest
		această aceasta acești foarte mulțumesc multumesc cineva ei ai al ale lui unei unui
		sau dar doar încă inca nimeni niciun nicio cum când cand trebuie poate pot acum azi
		după dupa aici asta acesta avem aveți aveti fi fie meu mea mele noastre vă va se
		știe stie cât cat iar deja niște niste nu-mi mi-a mi-au ne-a ați ati sunteți
		dacă daca toate toți tot totul prin despre până pana între fără fara ca că eu tu el ea noi
		voi ele lor tău său nostru acolo acel aceea cel cea cei cele unde cine ceva nimic mult multe
		mulți alt alte altă avea putem vreau vrea face făcut spus
		un te`},
	{pt, `não nao os as do da dos das em um uma para com é está esta mas muito muita você vocês
		voce voces eu isso isto ao à pelo pela pelos pelas meu minha meus minhas foi tem ser
		já ja quando porque onde também tambem obrigado obrigada alguém alguem preciso nossa
		nosso estou há sobre depois ainda hoje ou seu sua ela ele eles elas mesmo até ate pode
		fazer tenho o e no na nos nas num numa qual quem assim
		só nem lhe deles dela essa esse aquele aquela estão são tinha têm temos somos fui foram eram
		nós tu teu tua dele sem entre muitos
		de que se como este todo`},
	{es, `el los las del y por para con una es está esta pero muy más mas qué que cuando porque
		también tambien hay ya lo le les mi tengo nos su sus sin todo todos este eso esto ahora
		gracias alguien donde dónde cómo como hace mucho muchas muchos puedo han hasta desde
		entre sobre otra otro vez fue ser nadie al mis tan se en de un me te he hemos estoy
		ni yo él ella ellos nada algo poco estos estas esa esos esas nuestro nuestra están son tiene
		tienen soy eres estar hacer quien durante antes otros
		no la su ha si va`},
	{fr, `le la les des du et est une pour dans pas qui que sur avec je vous nous au aux ce cette
		il ne mais très tres été ete sont ont elle ils on son ses leur leurs tout tous faire
		fait peut comme merci quelqu bien aussi encore rien toujours déjà deja ça moi mon ma
		mes notre nos votre vos y à où en de un qu c n j l d me te se ai avons avez suis
		ces eux lui même par sa ta toi ton tu avons avez suis êtes sommes cela ceci donc alors
		parce chez sans sous après avant depuis pendant
		ou va`},
	{it, `il di che della delle dei degli del per non sono è un una gli le nel nella anche ma
		come questo questa perché perche ho hai ha mio mia mi siamo sei dal dalla alla allo ai
		da grazie qualcuno ancora sempre tutto tutti molto più piu cosa fare essere stato
		stata dopo senza ci si lo la in all dell sull nell quando qualche e
		io lui lei noi voi loro tra con sul sulla nei quale quello quella questi queste hanno
		abbiamo siete chi cui dove ne suo sua nostro nostra tuo
		no i se su va`},
	{lt, `ir yra kad su į iš is ar bet kaip kas jau dar tik labai ačiū aciu mano mūsų musu jūsų
		jusu nuo iki apie prie per po buvo bus gali reikia turi nėra nera man tai jis ji jie
		mes jūs jus kur kodėl kodel kiek dėl del šis ši tas ta savo nors ką kad jog arba
		aš tu jų jo jos kuris kuri kurie kai jeigu jei taip vis dabar čia ten visi viskas niekas
		kažkas būti esu esame turiu turime galima labas prašau šiandien vakar rytoj daug gerai
		tarp pagal prieš kol nes todėl tačiau
		ne`},
	{de, `der die das und ist nicht ich du er sie es wir ihr mit für fur auf an dem den des ein
		eine einen einem einer zu von bei aus nach über uber wie was wer wo warum auch noch nur
		schon sehr hier jetzt dass daß kann können konnen muss muß haben hat habe sind war wird
		werden bitte danke vielen weiß weiss jemand mein meine meiner unser oder aber doch seit
		im in vom zum zur am man sich
		als alle bin bis dann damit diese dieser dieses dort durch etwas gegen hatte ihn ihm ihnen
		kein keine mich mir nichts nun ob ohne sein seine soll sollte uns unter viel vor weil wenn
		wieder würde zwischen immer gibt geht gut heute`},
	{nl, `de het een en van is dat niet ik je we zijn hebben heeft voor met op aan om bij naar uit
		ook nog maar wel al wat hoe waarom wie waar mijn onze jullie bedankt dank iemand kunnen
		moet worden wordt hij zij er te door in
		dit ze tot mij daar heb deze zal nu geen omdat iets toch veel meer doen toen zonder hun
		dus alles onder altijd ons zelf tegen niets uw andere wij jij gaat gaan graag `},
	{tr, `bir ve bu da de ile için icin çok cok ama ne mi mı mu mü var yok olarak gibi daha kadar
		sonra önce once şimdi simdi sen biz siz onlar bana beni bizim sizin teşekkür
		tesekkur teşekkürler tesekkurler lütfen lutfen nasıl nasil neden ki değil degil oldu
		olan olduğu ya en her çünkü cunku hiç hic için şey
		acaba aslında bazı belki biri birkaç diye eğer hem hep hepsi ise nerede sanki şu tüm
		veya yani artık bile bunu bunun buna olur lazım gerek zaten yine hala hâlâ bugün yarın dün
		iyi kötü büyük küçük yeni eski benim senin onun onların sana ona bize size onlara`},
	{so, `waxaan waa iyo ka ku u oo ee ah in aan ayaa la soo uu waxay wax laga lagu ma kale badan
		mahadsanid fadlan sida si dhammaan qof jiraa hadda maxaa sababtoo wuxuu ayuu ayay kuwa
		iska mar waxa haddii sidee yihiin tahay ahay baa
		dadka markii kadib inta halkan halkaas wuu way yahay jira jirin ahayn kuma kama waan
		goorma halkee yaa nabad walaal walaalo dowladda dawladda lacag lacagta shaqo shaqada
		magaalada dalka`},
	{hu, `az és hogy nem is egy van volt meg már csak még de ez azt mint kell lesz nagyon
		köszönöm köszi szépen valaki mi ki miért hol után alatt miatt vagy vagyok nincs minden
		mert én te ő ti ők nekem neked neki nekünk engem minket ezt ezek azok itt ott majd akkor
		amikor ahol aki ami amit amely lehet kellene szerint előtt között nélkül óta igen sem mindig
		soha sok jó rossz új kérem szia`},
}

// weakWords lists, per language, its weak words (see functionWords).
var weakWords = [...]struct {
	lang  latinLang
	words string
}{
	{cy, `ysgol ysgolion llywodraeth lywodraeth iechyd gwasanaeth wasanaeth ngwasanaeth gwasanaethau wasanaethau cyngor gyngor
		nghyngor cymraeg gymraeg cyhoeddus newyddion plant cymorth croeso fawr mawr`},
}

// lexEntry is what the lexicon knows of a word: the languages it is a
// function word of, and those it is a weak word of.
type lexEntry struct {
	langs, weak langMask
}

// lexicon maps a lower-case word to its entry in lexEntries. Built once
// from functionWords and weakWords. Every Latin-script word of a text is
// looked up in it, most of them in vain, so it is a static table
// (internal/wordtab) whose filter turns those away from the L1 cache.
var lexEntries, lexicon = func() ([]lexEntry, *wordtab.Table) {
	m := make(map[string]lexEntry, 2048)
	for _, fw := range functionWords {
		for _, w := range strings.Fields(fw.words) {
			e := m[w]
			e.langs |= 1 << fw.lang
			m[w] = e
		}
	}
	for _, ww := range weakWords {
		for _, w := range strings.Fields(ww.words) {
			e := m[w]
			e.weak |= 1 << ww.lang
			m[w] = e
		}
	}
	entries := make([]lexEntry, 0, len(m))
	index := make(map[string]int32, len(m))
	for w, e := range m {
		index[w] = int32(len(entries))
		entries = append(entries, e)
	}
	return entries, wordtab.New(index)
}()

// letterLangs lists, per language, the lower-case letters beyond ASCII
// that its spelling uses. A letter shared by at most three of the
// languages is evidence for them (ł, ŵ, ș, ã, ñ, ğ, ő, ė…); common
// accented vowels (é, á, ü…) belong to so many that they tell little.
var letterLangs = [...]struct {
	lang    latinLang
	letters string
}{
	{cy, "ŵŷâêîôûïëáàéẁẃẅỳýÿ"},
	{pl, "ąćęłńóśźż"},
	{ro, "ăâîșțşţ"},
	{pt, "ãõáâêôçàéíóú"},
	{es, "ñáéíóúü"},
	{fr, "àâçèéêëîïôùûÿœæ"},
	{it, "àèéìíòóùú"},
	{lt, "ąčęėįšųūž"},
	{de, "äöüß"},
	{nl, "ëïéèöü"},
	{tr, "çğıöşüâî"},
	{hu, "áéíóöőúüű"},
}

// Letters beyond ASCII in the Latin-1 Supplement and Latin Extended-A
// and -B blocks are looked up in letterTable; the few in Latin Extended
// Additional (Welsh ẁ ẃ ẅ ỳ) in letterExtra.
const (
	letterLo = 0x00C0
	letterHi = 0x0250
)

var letterTable, letterExtra = func() (t [letterHi - letterLo]langMask, extra map[rune]langMask) {
	all := map[rune]langMask{}
	for _, ll := range letterLangs {
		for _, r := range ll.letters {
			all[r] |= 1 << ll.lang
		}
	}
	extra = map[rune]langMask{}
	for r, mask := range all {
		switch {
		case mask.size() > 3:
		case letterLo <= r && r < letterHi:
			t[r-letterLo] = mask
		default:
			extra[r] = mask
		}
	}
	return t, extra
}()

// lettersOf returns the languages whose spelling uses the lower-case
// letter r, if at most three of them do; else none.
func lettersOf(r rune) langMask {
	if letterLo <= r && r < letterHi {
		return letterTable[r-letterLo]
	}
	return letterExtra[r]
}
