package dashboard

import (
	"fmt"
	"log/slog"

	"github.com/govlisten/govlisten/processors/tagger"
)

// names are the human-readable names of slugs, from the taxonomy.
type names struct {
	departments, topics map[string]string
	// deptOrder and topicOrder are the slugs sorted as the form lists them.
	deptOrder, topicOrder []string
	// known is false when the taxonomy could not be read: then any
	// well-formed slug is accepted and shown as it is.
	known bool
}

// loadNames reads the taxonomy at path ("" for the built-in one).
func loadNames(path string, log *slog.Logger) *names {
	n := &names{departments: map[string]string{}, topics: map[string]string{}}
	tx, err := tagger.LoadTaxonomy(path)
	if err != nil {
		log.Warn("dashboard: no taxonomy, showing slugs instead of names", "err", err)
		return n
	}
	n.known = true
	for _, c := range tx.Departments {
		n.departments[c.Slug] = c.Name
		n.deptOrder = append(n.deptOrder, c.Slug)
	}
	for _, c := range tx.Topics {
		n.topics[c.Slug] = c.Name
		n.topicOrder = append(n.topicOrder, c.Slug)
	}
	return n
}

// department is the name of a department slug; the slug itself when the
// taxonomy does not know it.
func (n *names) department(slug string) string { return nameOr(n.departments, slug) }

func (n *names) topic(slug string) string { return nameOr(n.topics, slug) }

// of names a slug of either scope (department or topic).
func (n *names) of(scope, slug string) string {
	if scope == "topic" {
		return n.topic(slug)
	}
	return n.department(slug)
}

func nameOr(m map[string]string, slug string) string {
	if name, ok := m[slug]; ok && name != "" {
		return name
	}
	return slug
}

// check says whether slug is one of the taxonomy's (empty is fine).
func (n *names) check(param, slug string, known map[string]string) error {
	if slug == "" || !n.known {
		return nil
	}
	if _, ok := known[slug]; !ok {
		return &paramError{param, fmt.Sprintf("unknown %s %q (see the form's list)", param, slug)}
	}
	return nil
}
