// Package deploy holds govlisten's deployment files: the ClickHouse schema,
// the default taxonomy, and (beside them, not embedded) compose, systemd and
// Kubernetes files. The schema and taxonomy are embedded in the binary so
// that `govlisten migrate` and the processors work from one file on any host.
package deploy

import "embed"

// Schema holds the ClickHouse schema files, applied in name order by
// migrate, and under clickhouse/rebuild/ the statements that rebuild a
// rollup (not applied by migrate).
//
//go:embed clickhouse/*.sql clickhouse/rebuild/*.sql
var Schema embed.FS

// Taxonomy holds the default taxonomy files.
//
//go:embed taxonomy/*.yaml
var Taxonomy embed.FS

// DefaultTaxonomy is the path inside Taxonomy of the default UK government taxonomy.
const DefaultTaxonomy = "taxonomy/uk-government.yaml"
