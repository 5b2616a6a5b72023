package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/govlisten/govlisten/mention"
	"github.com/govlisten/govlisten/processors/tagger"
)

// RulesCmd is `govlisten rules`.
type RulesCmd struct {
	Test RulesTestCmd `cmd:"" help:"Tag text lines or mention JSON Lines from standard input; one JSON line out per input."`
}

// RulesTestCmd is `govlisten rules test`.
type RulesTestCmd struct {
	Taxonomy string `help:"Taxonomy file; default: the configured one, else the built-in UK government taxonomy." placeholder:"FILE" type:"existingfile"`
}

// Help describes the output.
func (c *RulesTestCmd) Help() string {
	return `Each input line is either a mention record (a JSON object) or plain text. Each output line is {"departments":[...],"topics":[...],"sentiment":{"score":S,"label":"negative|neutral|positive"},"lang":"..","matched":["slug:rule",...]}. A line that looks like JSON but is not a valid mention gets {"error":"..."} and the command exits 1 at the end. A taxonomy rule that does not parse is reported with its slug, number and column.`
}

// Run tags standard input.
func (c *RulesTestCmd) Run(ctx context.Context, g *Globals) error {
	cfg, _, err := g.load()
	if err != nil {
		return err
	}
	if c.Taxonomy != "" {
		cfg.Taxonomy = c.Taxonomy
	}
	tg, err := loadTagger(cfg)
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
			tags = tg.Tag(&mention.Mention{Text: string(line)})
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
