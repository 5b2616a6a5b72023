// Package docqueries reads the example queries of docs/queries.md: every
// ```sql block of a Markdown file, with the heading and the one line of
// explanation that must precede it. The test that runs every example
// against a loaded database (deploy/queries_test.go) and `govlisten bench
// queries`, which times them, read the page with the same rules.
package docqueries

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
)

// Query is one example: its heading, its one line of explanation and its
// SQL.
type Query struct {
	Title, Explanation, SQL string
}

// Read extracts the examples of the Markdown file at path. A sql block
// that does not follow a heading and exactly one line of explanation is an
// error naming its line, and so is a file without any.
func Read(path string) ([]Query, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parse(f, path)
}

func parse(r io.Reader, path string) ([]Query, error) {
	var (
		out     []Query
		cur     *Query
		between []string // non-empty lines between the heading and the block
		inSQL   bool
		sql     strings.Builder
	)
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case inSQL && strings.TrimSpace(line) == "```":
			inSQL = false
			if cur == nil || len(between) != 1 {
				return nil, fmt.Errorf("%s:%d: a sql block must follow a heading and exactly one line of explanation (got %q)", path, n, between)
			}
			cur.Explanation, cur.SQL = between[0], sql.String()
			out = append(out, *cur)
			cur, between = nil, nil
		case inSQL:
			sql.WriteString(line)
			sql.WriteByte('\n')
		case strings.TrimSpace(line) == "```sql":
			inSQL = true
			sql.Reset()
		case strings.HasPrefix(line, "#"):
			cur, between = &Query{Title: strings.TrimSpace(strings.TrimLeft(line, "#"))}, nil
		case strings.TrimSpace(line) != "" && cur != nil:
			between = append(between, line)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no sql blocks", path)
	}
	return out, nil
}
