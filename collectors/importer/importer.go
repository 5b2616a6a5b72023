// Package importer reads files of mentions for `govlisten import`: JSON
// Lines of mention.Mention records today; the formats of other tools (twarc
// output and the like) plug in as further Formats.
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

	"github.com/govlisten/govlisten/mention"
)

// Format decodes one line of a file into mentions (a line of another tool's
// output may hold several, or none).
type Format func(line []byte) ([]*mention.Mention, error)

// Formats are the names --format accepts.
var Formats = map[string]Format{
	"mention": decodeMention,
}

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

// MaxLine is the longest line read; a longer one is reported and skipped.
const MaxLine = 32 << 20

// Read decodes r (named name in errors) line by line with f, calling emit for
// each mention and bad for each bad line. Blank lines are skipped. It stops
// at the first error from emit or from reading.
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
						return err
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
