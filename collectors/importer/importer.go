// Package importer reads files of mentions for `govlisten import`: JSON
// Lines of mention.Mention records, and archives of the platforms' own API
// responses (what twarc2 and the X API write, YouTube commentThreads pages,
// Graph API feed pages), mapped by the collectors' own mapping functions —
// one mapping, not two.
//
// A bad line never stops an import: it is reported with its file, line
// number and reason, and the lines around it go through.
package importer

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/govlisten/govlisten/collectors/facebook"
	"github.com/govlisten/govlisten/collectors/twitter"
	"github.com/govlisten/govlisten/collectors/youtube"
	"github.com/govlisten/govlisten/config"
	"github.com/govlisten/govlisten/mention"
)

// Format decodes one line of a file into mentions (a line of another tool's
// output may hold several, or none).
type Format func(line []byte) ([]*mention.Mention, error)

// Formats are the names --format accepts.
var Formats = map[string]Format{
	// mention: one mention.Mention record per line.
	"mention": decodeMention,
	// twitter-v2: one X API v2 response page per line ({"data", "includes",
	// "meta"}), as twarc2 and the API write them.
	"twitter-v2": func(line []byte) ([]*mention.Mention, error) {
		p, err := twitter.MapResponse(line, importSource("twitter-v2"), time.Now().UTC())
		if err != nil {
			return nil, err
		}
		return p.Mentions, nil
	},
	// youtube-commentthreads: one commentThreads.list response per line.
	"youtube-commentthreads": func(line []byte) ([]*mention.Mention, error) {
		ms, _, err := youtube.MapCommentThreads(line, importSource("youtube-commentthreads"), time.Now().UTC())
		return ms, err
	},
	// facebook-posts: one Graph API /{page-id}/feed or /posts response per line.
	"facebook-posts": func(line []byte) ([]*mention.Mention, error) {
		ms, _, _, err := facebook.MapPosts(line, importSource("facebook-posts"), time.Now().UTC())
		return ms, err
	},
}

// importSource names where imported mentions came from.
func importSource(format string) config.Source { return config.Source{Name: "import-" + format} }

func decodeMention(line []byte) ([]*mention.Mention, error) {
	m, err := mention.Decode(line)
	if err != nil {
		return nil, err
	}
	m.Normalize()
	return []*mention.Mention{m}, nil
}

// LineError is a bad line.
type LineError struct {
	File string
	Line int
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err) }

// RejectedError is what emit returns for one mention it will not publish
// (one too large for the bus, say) while the import can go on: Read reports
// the line as bad with Err and reads on. Any other error from emit stops Read.
type RejectedError struct{ Err error }

func (e *RejectedError) Error() string { return e.Err.Error() }
func (e *RejectedError) Unwrap() error { return e.Err }

// MaxLine is the longest line read; a longer one is reported and skipped.
const MaxLine = 32 << 20

// Read decodes r (named name in errors) line by line with f, calling emit for
// each mention and bad for each bad line (and for each mention emit rejects
// with a *RejectedError). Blank lines are skipped. It stops at the first
// other error from emit, or from reading.
func Read(ctx context.Context, name string, r io.Reader, f Format, emit func(*mention.Mention) error, bad func(*LineError)) error {
	br := bufio.NewReaderSize(r, 1<<20)
	n := 0
	for {
		line, tooLong, err := readLine(br)
		if err == nil || len(line) > 0 || tooLong {
			n++
			switch {
			case tooLong:
				bad(&LineError{File: name, Line: n, Err: fmt.Errorf("line longer than %d bytes", MaxLine)})
			case len(bytes.TrimSpace(line)) > 0:
				ms, derr := f(line)
				if derr != nil {
					bad(&LineError{File: name, Line: n, Err: derr})
				}
				for _, m := range ms {
					if err := emit(m); err != nil {
						var re *RejectedError
						if !errors.As(err, &re) {
							return err
						}
						bad(&LineError{File: name, Line: n, Err: re.Err})
					}
				}
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("reading %s: %w", name, err)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

// readLine returns the next line without its newline. A line longer than
// MaxLine is consumed and reported as tooLong.
func readLine(br *bufio.Reader) (line []byte, tooLong bool, err error) {
	var buf []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if len(buf)+len(chunk) > MaxLine {
			tooLong = true
			buf = buf[:0]
		} else if !tooLong {
			buf = append(buf, chunk...)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		buf = bytes.TrimSuffix(buf, []byte("\n"))
		buf = bytes.TrimSuffix(buf, []byte("\r"))
		if tooLong {
			return nil, true, err
		}
		if len(buf) == 0 && err == nil {
			return []byte{}, false, nil
		}
		return buf, false, err
	}
}
