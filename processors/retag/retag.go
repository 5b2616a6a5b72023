// Package retag tags stored mentions again with the current taxonomy:
// after rules change, the months already in ClickHouse get the new
// departments, topics and sentiment without collecting anything again.
//
// It reads each day of the range one platform at a time, in the table's
// sorting-key order (day, platform, id), from mentions FINAL, tags every
// mention with the taxonomy in use and inserts it again; the new row has a
// later processed_at, so ReplacingMergeTree keeps it and drops the old one.
// Rows the current taxonomy already tagged are skipped, so a second run
// costs only the reading. After each stored page the position is written
// to a state file (atomically: a temporary file renamed over it), so a run
// killed at any point resumes from the last page it stored; a page stored
// twice is harmless because it replaces itself. When every day is done,
// the tables fed at insert time (the daily and hourly rollups and
// questions) of each month touched are rebuilt from mentions FINAL, since
// their materialized views would otherwise count re-tagged mentions under
// their old tags as well.
package retag

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/govlisten/govlisten/mention"
	"github.com/govlisten/govlisten/processors"
	"github.com/govlisten/govlisten/processors/sink"
)

// Store is what a re-tag needs of ClickHouse.
type Store interface {
	ScanDay(ctx context.Context, day time.Time, platform, after string, limit int) ([]sink.Stored, error)
	Insert(ctx context.Context, rows []sink.Row) error
	RebuildRollups(ctx context.Context, month int) error
}

// Options says what to re-tag.
type Options struct {
	// Since and Until are the first and last day (both included), UTC.
	Since, Until time.Time
	// PageSize is how many mentions are read, tagged and stored at a time.
	PageSize int
	// StateFile records progress; empty keeps none (no resume).
	StateFile string
	// Restart ignores a state file left by an earlier run.
	Restart bool
	// Progress, when set, is called after every page with the mentions
	// read so far.
	Progress func(read int64)
}

// State is the progress of a run, as the state file holds it.
type State struct {
	Since    string `json:"since"`
	Until    string `json:"until"`
	Taxonomy string `json:"taxonomy"`
	// Day, Platform and After are where reading resumes: the mentions of
	// Day on Platform with ids after After. Platform is an index into
	// platforms.
	Day      string `json:"day"`
	Platform int    `json:"platform"`
	After    string `json:"after"`
	// Months touched so far (YYYYMM), whose rollups are rebuilt at the end.
	Months []int `json:"months"`
	// Read, Retagged and Changed count mentions: read, stored again, and
	// stored with different tags than before.
	Read     int64 `json:"read"`
	Retagged int64 `json:"retagged"`
	Changed  int64 `json:"changed"`
	// Resumed says the run continued one left by a crash.
	Resumed bool `json:"-"`
}

// Run re-tags the mentions of the range with tax's current taxonomy and
// returns the final counts.
func Run(ctx context.Context, st Store, tax *processors.Taxonomy, opts Options) (*State, error) {
	if opts.Until.Before(opts.Since) {
		return nil, fmt.Errorf("--until %s is before --since %s", day(opts.Until), day(opts.Since))
	}
	if opts.PageSize <= 0 {
		opts.PageSize = 10000
	}
	tg := tax.Current() // one taxonomy for the whole run, even if the file changes meanwhile
	s := &State{Since: day(opts.Since), Until: day(opts.Until), Taxonomy: tg.Version, Day: day(opts.Since)}
	if !opts.Restart && opts.StateFile != "" {
		prev, err := load(opts.StateFile)
		if err != nil {
			return nil, err
		}
		if prev != nil && prev.Since == s.Since && prev.Until == s.Until && prev.Taxonomy == s.Taxonomy {
			s = prev
			s.Resumed = true
		}
	}
	d, err := time.Parse(time.DateOnly, s.Day)
	if err != nil {
		return nil, fmt.Errorf("state file %s: day %q: %w", opts.StateFile, s.Day, err)
	}
	for ; !d.After(opts.Until); d = d.AddDate(0, 0, 1) {
		for ; s.Platform < len(platforms); s.Platform, s.After = s.Platform+1, "" {
			for {
				page, err := st.ScanDay(ctx, d, platforms[s.Platform], s.After, opts.PageSize)
				if err != nil {
					return s, err
				}
				if len(page) == 0 {
					break
				}
				rows := make([]sink.Row, 0, len(page))
				for _, old := range page {
					if old.Taxonomy == tg.Version {
						continue
					}
					tags := tg.Tag(old.M)
					if !slices.Equal(old.Tags.Departments, tags.Departments) || !slices.Equal(old.Tags.Topics, tags.Topics) || old.Tags.Sentiment.Label != tags.Sentiment.Label {
						s.Changed++
					}
					rows = append(rows, sink.Row{M: old.M, Tags: tags, Taxonomy: tg.Version})
				}
				if err := st.Insert(ctx, rows); err != nil {
					return s, err
				}
				s.Read += int64(len(page))
				s.Retagged += int64(len(rows))
				if len(rows) > 0 {
					s.touch(d)
				}
				s.After = page[len(page)-1].M.ID
				if err := s.save(opts.StateFile); err != nil {
					return s, err
				}
				if opts.Progress != nil {
					opts.Progress(s.Read)
				}
				if len(page) < opts.PageSize {
					break
				}
			}
		}
		s.Platform, s.After = 0, ""
		s.Day = day(d.AddDate(0, 0, 1))
		if err := s.save(opts.StateFile); err != nil {
			return s, err
		}
	}
	for len(s.Months) > 0 {
		if err := st.RebuildRollups(ctx, s.Months[0]); err != nil {
			return s, err
		}
		s.Months = s.Months[1:]
		if err := s.save(opts.StateFile); err != nil {
			return s, err
		}
	}
	if opts.StateFile != "" {
		if err := os.Remove(opts.StateFile); err != nil && !errors.Is(err, os.ErrNotExist) {
			return s, err
		}
	}
	return s, nil
}

// platforms in the order of the table's platform Enum, which is the order
// of the sorting key.
var platforms = []string{mention.Twitter, mention.YouTube, mention.Facebook}

func day(t time.Time) string { return t.UTC().Format(time.DateOnly) }

// touch records the month of d among those whose rollup needs a rebuild.
func (s *State) touch(d time.Time) {
	if m := d.Year()*100 + int(d.Month()); !slices.Contains(s.Months, m) {
		s.Months = append(s.Months, m)
	}
}

func load(path string) (*State, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("retag state: %w", err)
	}
	var s State
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("retag state %s: %w (delete it, or pass --restart)", path, err)
	}
	return &s, nil
}

// save writes the state atomically: a crash leaves the old file or the
// new one, never half of one.
func (s *State) save(path string) error {
	if path == "" {
		return nil
	}
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".retag-*")
	if err != nil {
		return fmt.Errorf("retag state: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("retag state: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("retag state: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("retag state: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("retag state: %w", err)
	}
	return nil
}
