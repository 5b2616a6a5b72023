package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/govlisten/govlisten/mention"
	"github.com/govlisten/govlisten/processors/tagger"
)

// RulesCmd is `govlisten rules`.
type RulesCmd struct {
	Lint    RulesLintCmd    `cmd:"" help:"Check taxonomy files; print every error as FILE:LINE:COL."`
	Test    RulesTestCmd    `cmd:"" help:"Tag text lines or mention JSON Lines from standard input; one JSON line out per input."`
	Explain RulesExplainCmd `cmd:"" help:"Say why each rule that could match a text fired or did not."`
}

// FieldFlags give plain text the fields that platform:, lang:, kind: and
// author: filters test (a mention record brings its own).
type FieldFlags struct {
	Platform string `help:"Platform of plain-text input: twitter, youtube or facebook." enum:",twitter,youtube,facebook" default:"" placeholder:"P"`
	Lang     string `help:"Language of plain-text input, a BCP 47 tag such as en or cy." placeholder:"L"`
	Kind     string `help:"Kind of plain-text input: post, comment or reply." enum:",post,comment,reply" default:"" placeholder:"K"`
	Author   string `help:"Author handle or id of plain-text input." placeholder:"A"`
}

// mention makes a mention of plain text with the flags' fields.
func (f FieldFlags) mention(text string) *mention.Mention {
	return &mention.Mention{Text: text, Platform: f.Platform, Lang: f.Lang, Kind: f.Kind, AuthorHandle: f.Author, AuthorID: f.Author}
}

// RulesLintCmd is `govlisten rules lint`.
type RulesLintCmd struct {
	Files []string `arg:"" help:"Taxonomy files (YAML)." placeholder:"FILE"`
}

// Help describes the output.
func (c *RulesLintCmd) Help() string {
	return `Parses every rule of each taxonomy file and prints every problem, one per line, as FILE:LINE:COL: slug rule N: message (LINE and COL point into the file, allowing for YAML quoting), or FILE:LINE:COL: message for a missing or duplicate slug. A file with no problem gets one line: FILE: N departments, M topics, R rules. Exits 1 if any file has a problem.

The rule language (see processors/tagger): terms, "quoted phrases", trailing * wildcards (3+ letters), @handle, #hashtag, AND, OR, NOT (also "a NOT b"), NEAR/n (n 1..100 words, either order), parentheses, and field filters platform:twitter|x|youtube|facebook, kind:post|comment|reply, lang:cy, author:handle. Adjacent operands are ANDed; precedence is NOT, NEAR, AND, OR. A rule must need a term, phrase, wildcard, handle or hashtag to occur.`
}

// Run lints the files.
func (c *RulesLintCmd) Run() error {
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	if lintFiles(out, c.Files) {
		return exitCode(1)
	}
	return nil
}

// lintFiles writes every problem of the taxonomy files to w, or a summary
// of each good file, and says whether any had a problem.
func lintFiles(w io.Writer, files []string) (failed bool) {
	for _, file := range files {
		tx, err := tagger.LoadTaxonomy(file)
		if err != nil {
			fmt.Fprintf(w, "%s: %v\n", file, err)
			failed = true
			continue
		}
		errs := tagger.Lint(tx)
		for _, err := range errs {
			var re *tagger.RuleError
			var ce *tagger.CategoryError
			switch {
			case errors.As(err, &re):
				fmt.Fprintf(w, "%s:%d:%d: %s rule %d: %s\n", file, re.Line, max(re.FileColumn, 1), re.Category, re.Index+1, re.Reason)
			case errors.As(err, &ce):
				fmt.Fprintf(w, "%s:%d:%d: %s\n", file, ce.Line, max(ce.Column, 1), ce.Reason)
			default:
				fmt.Fprintf(w, "%s: %v\n", file, err)
			}
		}
		if len(errs) > 0 {
			failed = true
			continue
		}
		rules := 0
		for _, cs := range [][]tagger.Category{tx.Departments, tx.Topics} {
			for _, c := range cs {
				rules += len(c.Rules)
			}
		}
		fmt.Fprintf(w, "%s: %d departments, %d topics, %d rules\n", file, len(tx.Departments), len(tx.Topics), rules)
	}
	return failed
}

// RulesTestCmd is `govlisten rules test`.
type RulesTestCmd struct {
	Taxonomy string `help:"Taxonomy file; default: the configured one, else the built-in UK government taxonomy." placeholder:"FILE" type:"existingfile"`
	FieldFlags
}

// Help describes the output.
func (c *RulesTestCmd) Help() string {
	return `Each input line is either a mention record (a JSON object) or plain text. Each output line is {"departments":[...],"topics":[...],"sentiment":{"score":S,"label":"negative|neutral|positive"},"lang":"..","matched":["slug:rule",...]}. Field filters (platform:, kind:, lang:, author:) test a mention record's own fields, and for plain text the --platform, --lang, --kind and --author flags. A line that looks like JSON but is not a valid mention gets {"error":"..."} and the command exits 1 at the end. A taxonomy rule that does not parse is reported with its file, line, slug, number and column.`
}

// Run tags standard input.
func (c *RulesTestCmd) Run(ctx context.Context, g *Globals) error {
	tg, err := c.tagger(g)
	if err != nil {
		return err
	}
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 32<<20)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	failed := false
	for sc.Scan() {
		line := sc.Bytes()
		var tags tagger.Tags
		if t := bytes.TrimSpace(line); len(t) > 0 && t[0] == '{' {
			m, err := mention.Decode(t)
			if err != nil {
				failed = true
				_ = enc.Encode(map[string]string{"error": err.Error()})
				continue
			}
			tags = tg.Tag(m)
		} else {
			tags = tg.Tag(c.mention(string(line)))
		}
		if tags.Departments == nil {
			tags.Departments = []string{}
		}
		if tags.Topics == nil {
			tags.Topics = []string{}
		}
		if tags.Matched == nil {
			tags.Matched = []string{}
		}
		if err := enc.Encode(tags); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading standard input: %w", err)
	}
	if failed {
		return exitCode(1)
	}
	return nil
}

func (c *RulesTestCmd) tagger(g *Globals) (*tagger.Tagger, error) {
	return rulesTagger(g, c.Taxonomy)
}

// rulesTagger compiles the taxonomy file, else the configured one, else
// the built-in one.
func rulesTagger(g *Globals, file string) (*tagger.Tagger, error) {
	cfg, _, err := g.load()
	if err != nil {
		return nil, err
	}
	if file != "" {
		cfg.Taxonomy = file
	}
	return loadTagger(cfg)
}

// RulesExplainCmd is `govlisten rules explain`.
type RulesExplainCmd struct {
	Taxonomy string `help:"Taxonomy file; default: the configured one, else the built-in UK government taxonomy." placeholder:"FILE" type:"existingfile"`
	FieldFlags
	Text []string `arg:"" optional:"" help:"The text to explain (the words are joined with spaces); none: explain each line of standard input." placeholder:"TEXT"`
}

// Help describes the output.
func (c *RulesExplainCmd) Help() string {
	return `For the text given as arguments, or for each line of standard input (plain text or a mention record as JSON), prints the departments and topics it gets, then every rule that fired or that has any term, phrase, wildcard, @handle or #hashtag occurring in the text: what occurs where (word numbers count from 1), and why the rule fired or what stopped it (a term that does not occur, a NOT that excluded it, a NEAR whose closest pair is too far apart, a field filter that does not hold). Rules none of whose words occur are not listed.

Example: govlisten rules explain --platform youtube 'Universal Credit sanctions again'`
}

// Run explains the texts.
func (c *RulesExplainCmd) Run(ctx context.Context, g *Globals) error {
	tg, err := rulesTagger(g, c.Taxonomy)
	if err != nil {
		return err
	}
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	if len(c.Text) > 0 {
		m := c.mention(strings.Join(c.Text, " "))
		explain(out, tg, m.Text, tagger.MentionFields(m, m.Lang))
		return nil
	}
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 32<<20)
	failed := false
	for n := 0; sc.Scan(); n++ {
		if n > 0 {
			fmt.Fprintln(out)
		}
		line := sc.Text()
		m := c.mention(line)
		if t := strings.TrimSpace(line); strings.HasPrefix(t, "{") {
			if m, err = mention.Decode([]byte(t)); err != nil {
				failed = true
				fmt.Fprintf(out, "line %d: %v\n", n+1, err)
				continue
			}
		}
		explain(out, tg, m.Text, tagger.MentionFields(m, m.Lang))
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading standard input: %w", err)
	}
	if failed {
		return exitCode(1)
	}
	return nil
}

// explain writes what the taxonomy makes of one text, for people.
func explain(w io.Writer, tg *tagger.Tagger, text string, f tagger.Fields) {
	fmt.Fprintf(w, "text: %q\n", text)
	var fields []string
	for _, kv := range [][2]string{{"platform", f.Platform}, {"kind", f.Kind}, {"lang", f.Lang}, {"author", f.AuthorHandle}} {
		if kv[1] != "" {
			fields = append(fields, kv[0]+"="+kv[1])
		}
	}
	if len(fields) == 0 {
		fields = append(fields, "none (platform:, kind:, lang: and author: filters do not hold)")
	}
	fmt.Fprintf(w, "fields: %s\n", strings.Join(fields, " "))
	d, t, _ := tg.MatchFields(text, f)
	fmt.Fprintf(w, "departments: %s\ntopics: %s\n", listOrNone(d), listOrNone(t))
	xs := tg.Explain(text, f)
	fired := 0
	for _, x := range xs {
		if x.Fired {
			fired++
		}
	}
	fmt.Fprintf(w, "%d rules fired, %d more had words occur\n", fired, len(xs)-fired)
	for _, want := range []bool{true, false} {
		for _, x := range xs {
			if x.Fired != want {
				continue
			}
			verdict := "not fired"
			if x.Fired {
				verdict = "fired"
			}
			fmt.Fprintf(w, "\n%s rule %d: %s\n  %s: %s\n", x.Slug, x.Index+1, x.Rule, verdict, x.Reason)
			var found []string
			for _, l := range x.Leaves {
				var at []string
				for _, o := range l.At {
					at = append(at, o.String())
				}
				found = append(found, l.Leaf+" at "+strings.Join(at, ", "))
			}
			fmt.Fprintf(w, "  occurs: %s\n", strings.Join(found, "; "))
		}
	}
}

func listOrNone(l []string) string {
	if len(l) == 0 {
		return "none"
	}
	return strings.Join(l, " ")
}
