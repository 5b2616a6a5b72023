package tagger

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/govlisten/govlisten/deploy"
)

// Taxonomy is a taxonomy file: departments and topics, each with the rules
// that tag a mention with its slug.
type Taxonomy struct {
	Version     int        `yaml:"version"`
	Departments []Category `yaml:"departments"`
	Topics      []Category `yaml:"topics"`
	// File names the file the taxonomy was read from, for errors; "" for a
	// taxonomy built in code.
	File string `yaml:"-"`
}

// Category is one department or topic.
type Category struct {
	Slug  string   `yaml:"slug"`
	Name  string   `yaml:"name"`
	Rules []string `yaml:"rules"`
	// Line and Column locate the category in Taxonomy.File, and RulePos
	// each of its rules (by index); zero for a taxonomy built in code.
	Line, Column int   `yaml:"-"`
	RulePos      []Pos `yaml:"-"`
}

// Pos is where a rule is written in its taxonomy file.
type Pos struct {
	Line, Column int // 1-based, in runes; Column is that of the opening quote of a quoted rule
	src          string
	style        yaml.Style
}

// LoadTaxonomy reads a taxonomy file; an empty path reads the built-in UK
// government taxonomy. The taxonomy remembers the line of every rule, so
// errors of New and Lint can name it.
func LoadTaxonomy(path string) (*Taxonomy, error) {
	var (
		data []byte
		err  error
		name = path
	)
	if path == "" {
		name = "deploy/" + deploy.DefaultTaxonomy // its path in the repository
		data, err = deploy.Taxonomy.ReadFile(deploy.DefaultTaxonomy)
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("reading taxonomy: %w", err)
	}
	return ParseTaxonomy(name, data)
}

// ParseTaxonomy decodes the contents of a taxonomy file; name is for errors.
// It checks the YAML's shape and version, not the rules (New and Lint do).
func ParseTaxonomy(name string, data []byte) (*Taxonomy, error) {
	var tx Taxonomy
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&tx); err != nil {
		return nil, fmt.Errorf("taxonomy %s: %w", name, err)
	}
	if tx.Version != 1 {
		return nil, fmt.Errorf("taxonomy %s: version %d is not supported (want 1)", name, tx.Version)
	}
	tx.File = name
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err == nil && len(doc.Content) == 1 {
		locate(&tx, doc.Content[0], strings.Split(string(data), "\n"))
	}
	return &tx, nil
}

// locate fills the positions of categories and rules from the document's
// nodes, which decode into tx in the same order.
func locate(tx *Taxonomy, root *yaml.Node, lines []string) {
	for i := 0; i+1 < len(root.Content); i += 2 {
		var cats []Category
		switch root.Content[i].Value {
		case "departments":
			cats = tx.Departments
		case "topics":
			cats = tx.Topics
		default:
			continue
		}
		seq := root.Content[i+1]
		for ci, item := range seq.Content {
			if ci >= len(cats) {
				break
			}
			c := &cats[ci]
			c.Line, c.Column = item.Line, item.Column
			for j := 0; j+1 < len(item.Content); j += 2 {
				if item.Content[j].Value != "rules" {
					continue
				}
				rules := item.Content[j+1].Content
				c.RulePos = make([]Pos, len(rules))
				for ri, n := range rules {
					p := Pos{Line: n.Line, Column: n.Column, style: n.Style}
					if n.Line >= 1 && n.Line <= len(lines) {
						p.src = skipRunes(lines[n.Line-1], n.Column-1)
					}
					c.RulePos[ri] = p
				}
			}
		}
	}
}

func skipRunes(s string, n int) string {
	for ; n > 0 && s != ""; n-- {
		_, size := utf8.DecodeRuneInString(s)
		s = s[size:]
	}
	return s
}

// fileColumn maps byte offset pos of rule, written at p, to a column of
// the file line, undoing YAML's quoting. It falls back to p.Column when
// the rule does not sit on one line as written.
func (p Pos) fileColumn(rule string, pos int) int {
	if p.Line == 0 {
		return 0
	}
	want := utf8.RuneCountInString(rule[:min(pos, len(rule))]) // runes of the rule before pos
	src, col := p.src, p.Column
	switch p.style {
	case 0: // plain
		if !strings.HasPrefix(src, rule) {
			return p.Column
		}
		return col + want
	case yaml.SingleQuotedStyle, yaml.DoubleQuotedStyle:
		quote := byte('\'')
		if p.style == yaml.DoubleQuotedStyle {
			quote = '"'
		}
		if src == "" || src[0] != quote {
			return p.Column
		}
		src, col = src[1:], col+1
		for ; want > 0; want-- {
			if src == "" {
				return p.Column
			}
			n := 1 // source runes for one rune of the rule
			switch {
			case quote == '\'' && strings.HasPrefix(src, "''"):
				n = 2
			case quote == '"' && src[0] == '\\' && len(src) > 1:
				switch src[1] {
				case 'x':
					n = 4
				case 'u':
					n = 6
				case 'U':
					n = 10
				default:
					n = 2
				}
			}
			for ; n > 0 && src != ""; n-- {
				_, size := utf8.DecodeRuneInString(src)
				src = src[size:]
				col++
			}
		}
		return col
	}
	return p.Column
}
