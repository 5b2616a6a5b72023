package tagger

import (
	"bytes"
	"fmt"
	"os"

	"gopkg.in/yaml.v3"

	"github.com/govlisten/govlisten/deploy"
)

// Taxonomy is a taxonomy file: departments and topics, each with the rules
// that tag a mention with its slug.
type Taxonomy struct {
	Version     int        `yaml:"version"`
	Departments []Category `yaml:"departments"`
	Topics      []Category `yaml:"topics"`
}

// Category is one department or topic.
type Category struct {
	Slug  string   `yaml:"slug"`
	Name  string   `yaml:"name"`
	Rules []string `yaml:"rules"`
}

// LoadTaxonomy reads a taxonomy file; an empty path reads the built-in UK
// government taxonomy.
func LoadTaxonomy(path string) (*Taxonomy, error) {
	var (
		data []byte
		err  error
		name = path
	)
	if path == "" {
		name = "built-in " + deploy.DefaultTaxonomy
		data, err = deploy.Taxonomy.ReadFile(deploy.DefaultTaxonomy)
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("reading taxonomy: %w", err)
	}
	var tx Taxonomy
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&tx); err != nil {
		return nil, fmt.Errorf("taxonomy %s: %w", name, err)
	}
	if tx.Version != 1 {
		return nil, fmt.Errorf("taxonomy %s: version %d is not supported (want 1)", name, tx.Version)
	}
	return &tx, nil
}
