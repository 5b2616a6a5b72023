package briefing

import (
	"html/template"
	"io"
	"strings"
)

// HTML writes the briefing as one self-contained, mobile-first page: inline
// CSS, no scripts, no external assets (its Content-Security-Policy allows
// none), lang="en-GB". html/template escapes every text.
func (b *Briefing) HTML(w io.Writer) error {
	type quote struct {
		Text, Byline, Link string
		Negative           bool
	}
	type group struct {
		Title  string
		Quotes []quote
	}
	var groups []group
	for _, g := range []struct {
		title string
		ss    []Sample
	}{{"Most engaged", b.Engaged}, {"Negative", b.Negative}} {
		gr := group{Title: g.title}
		for _, s := range g.ss {
			gr.Quotes = append(gr.Quotes, quote{s.quote(), s.byline(), s.link(), s.Negative})
		}
		groups = append(groups, gr)
	}
	var rows [][5]string
	for _, r := range b.Rows {
		rows = append(rows, r.cells())
	}
	var moves, spikes []string
	for _, m := range b.Movements {
		moves = append(moves, m.String())
	}
	for _, a := range b.Spikes {
		spikes = append(spikes, b.spikeLine(a))
	}
	heads := tableHeads
	heads[0] = b.RowKind
	return htmlPage.Execute(w, map[string]any{
		"Title": b.Title(), "Subtitle": b.subtitle(), "Headlines": b.headlines(),
		"Caption": b.tableCaption(), "RowKind": strings.ToLower(b.RowKind), "Heads": heads, "Rows": rows, "RowsLeft": b.rowsLeftNote(),
		"Movements": moves, "Spikes": spikes, "SpikesLeft": b.spikesLeftNote(), "Groups": groups,
	})
}

var htmlPage = template.Must(template.New("briefing").Parse(`<!DOCTYPE html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src 'none'">
<meta name="referrer" content="no-referrer">
<title>{{.Title}}</title>
<style>
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; padding: .75rem; font: 1rem/1.5 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; color: #0b0c0c; background: #ffffff; }
main { max-width: 42rem; margin: 0 auto; }
h1 { font-size: 1.5rem; line-height: 1.2; margin: 0 0 .25rem; }
h2 { font-size: 1.2rem; margin: 1.5rem 0 .5rem; border-top: 2px solid #0b0c0c; padding-top: .5rem; }
h3 { font-size: 1rem; margin: 1rem 0 .5rem; }
p.sub { margin: 0; color: #3d4043; font-size: .9rem; }
ul.head { list-style: none; padding: 0; margin: 0; }
ul.head li { padding: .5rem 0; border-bottom: 1px solid #b1b4b6; }
ul.head .value { display: block; font-size: 1.4rem; font-weight: 700; }
ul.head .cmp { display: block; color: #3d4043; font-size: .9rem; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; table-layout: fixed; font-size: .9rem; line-height: 1.3; }
caption { text-align: left; font-size: .85rem; color: #3d4043; padding-bottom: .35rem; }
th, td { padding: .3rem .3rem; vertical-align: top; }
thead th { font-size: .8rem; border-bottom: 2px solid #0b0c0c; }
tr.name th { text-align: left; font-weight: 600; padding-top: .5rem; padding-bottom: 0; }
tbody td { border-bottom: 1px solid #b1b4b6; }
.n { text-align: right; }
ol, ul { padding-left: 1.25rem; }
li { margin-bottom: .35rem; }
blockquote { margin: 0 0 .75rem; padding: .5rem .75rem; border-left: 4px solid #505a5f; background: #f3f2f1; overflow-wrap: anywhere; }
blockquote.neg { border-left-color: #942514; }
blockquote p { margin: 0 0 .25rem; }
.by { font-size: .85rem; color: #3d4043; }
a { color: #1d4f91; }
a:focus { outline: 3px solid #ffdd00; background: #ffdd00; color: #0b0c0c; }
</style>
</head>
<body>
<main>
<header>
<h1>{{.Title}}</h1>
<p class="sub">{{.Subtitle}}</p>
</header>

<section aria-labelledby="headline">
<h2 id="headline">Headline</h2>
<ul class="head">
{{- range .Headlines}}
<li><span class="label">{{.Label}}</span> <span class="value">{{.Value}}</span><span class="cmp">Day before: {{.Previous}}</span><span class="cmp">7 days: {{.Week}}</span></li>
{{- end}}
</ul>
</section>

<section aria-labelledby="table">
<h2 id="table">{{.Caption}}</h2>
{{- if .Rows}}
<div class="scroll">
<table>
<caption>Busiest first. Each {{.RowKind}}: the day's mentions, their change against the 7-day daily average, and the day's negative share and mean sentiment.</caption>
<thead><tr>{{range $i, $h := .Heads}}{{if $i}}<th scope="col" class="n">{{$h}}</th>{{end}}{{end}}</tr></thead>
{{- range .Rows}}
<tbody>
<tr class="name">{{range $i, $c := .}}{{if not $i}}<th scope="rowgroup" colspan="4">{{$c}}</th>{{end}}{{end}}</tr>
<tr>{{range $i, $c := .}}{{if $i}}<td class="n">{{$c}}</td>{{end}}{{end}}</tr>
</tbody>
{{- end}}
</table>
</div>
{{- if .RowsLeft}}
<p>{{.RowsLeft}}</p>
{{- end}}
{{- else}}
<p>No mentions tagged with a {{.RowKind}} on this day or the 7 days before.</p>
{{- end}}
</section>

<section aria-labelledby="moves">
<h2 id="moves">Biggest movements</h2>
{{- if .Movements}}
<ol>
{{- range .Movements}}
<li>{{.}}</li>
{{- end}}
</ol>
{{- else}}
<p>No movements against the 7 days before.</p>
{{- end}}
</section>

<section aria-labelledby="spikes">
<h2 id="spikes">Spikes</h2>
{{- if .Spikes}}
<ul>
{{- range .Spikes}}
<li>{{.}}</li>
{{- end}}
</ul>
{{- if .SpikesLeft}}
<p>{{.SpikesLeft}}</p>
{{- end}}
{{- else}}
<p>No spikes.</p>
{{- end}}
</section>

<section aria-labelledby="said">
<h2 id="said">What people said</h2>
{{- range .Groups}}
<h3>{{.Title}}</h3>
{{- if .Quotes}}
{{- range .Quotes}}
<blockquote{{if .Negative}} class="neg"{{end}}>
<p>{{.Text}}</p>
<p class="by">{{.Byline}}{{if .Link}} · <a href="{{.Link}}" rel="noopener noreferrer">open the post</a>{{end}}</p>
</blockquote>
{{- end}}
{{- else}}
<p>None.</p>
{{- end}}
{{- end}}
</section>
</main>
</body>
</html>
`))
