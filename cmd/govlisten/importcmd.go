package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/govlisten/govlisten/bus"
	"github.com/govlisten/govlisten/collectors"
	"github.com/govlisten/govlisten/collectors/importer"
	"github.com/govlisten/govlisten/mention"
)

// ImportCmd is `govlisten import`.
type ImportCmd struct {
	NATSFlag
	Format      string   `help:"Input format (see below)." default:"mention" placeholder:"NAME"`
	MaxInFlight int      `help:"Most publishes awaiting their ack at once." default:"4096" placeholder:"N"`
	Progress    string   `help:"Progress bar: auto (on a terminal), always, never." enum:"auto,always,never" default:"auto"`
	Files       []string `arg:"" help:"JSON Lines files of mention records; - reads standard input." placeholder:"FILE"`
}

// Help lists the formats.
func (c *ImportCmd) Help() string {
	names := make([]string, 0, len(importer.Formats))
	for n := range importer.Formats {
		names = append(names, n)
	}
	sort.Strings(names)
	return "Formats: " + strings.Join(names, ", ") + ". Each record is published on govlisten.mentions.<platform>.<kind> with Nats-Msg-Id <platform>:<id>:<content hash>, so importing a file twice stores nothing twice. A bad line is reported as FILE:LINE: reason and skipped; the command then exits 1 after publishing the good lines."
}

// Run imports.
func (c *ImportCmd) Run(ctx context.Context, g *Globals) error {
	cfg, log, err := g.loadWith(c.NATSFlag)
	if err != nil {
		return err
	}
	format, ok := importer.Formats[c.Format]
	if !ok {
		return fmt.Errorf("--format %q: unknown format (try --help)", c.Format)
	}
	conn, err := openBus(ctx, cfg, "import", 10*time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	pub := collectors.NewPublisher(conn.JS, c.MaxInFlight, time.Minute)
	badLines := 0
	bad := func(e *importer.LineError) {
		badLines++
		fmt.Fprintln(os.Stderr, e.Error())
	}
	limit, err := recordLimit(ctx, conn)
	if err != nil {
		return err
	}
	emit := func(m *mention.Mention) error {
		msg, err := collectors.Encode(m)
		if err != nil {
			return &importer.RejectedError{Err: err}
		}
		// A record the bus would refuse is a bad line, not a failed
		// import: publishing it would only be retried until it gives up.
		if n := int64(len(msg.Data)); n > limit {
			return &importer.RejectedError{Err: fmt.Errorf("%s:%s is %d bytes as a message on the bus, more than the %d it takes (NATS max_payload or stream %s's max message size, less %d for headers)",
				m.Platform, m.ID, n, limit, bus.StreamMentions, headerRoom)}
		}
		return pub.PublishMsg(ctx, msg)
	}
	showBar := c.Progress == "always" || c.Progress == "auto" && term.IsTerminal(int(os.Stderr.Fd()))
	for _, name := range c.Files {
		if err := c.importFile(ctx, name, format, emit, bad, showBar); err != nil {
			return err
		}
	}
	if err := pub.Wait(ctx); err != nil {
		return err
	}
	log.Info("import done", "published", pub.Published.Load(), "duplicates", pub.Duplicates.Load(), "bad_lines", badLines)
	if badLines > 0 {
		return exitCode(1)
	}
	return nil
}

func (c *ImportCmd) importFile(ctx context.Context, name string, format importer.Format, emit func(*mention.Mention) error, bad func(*importer.LineError), showBar bool) error {
	var r io.Reader = os.Stdin
	size := int64(-1)
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		if st, err := f.Stat(); err == nil {
			size = st.Size()
		}
		r = f
	} else {
		name = "(stdin)"
	}
	if showBar {
		bar := progressbar.DefaultBytes(size, name)
		defer bar.Finish()
		pr := progressbar.NewReader(r, bar)
		r = &pr
	}
	return importer.Read(ctx, name, r, format, emit, bad)
}

// headerRoom is kept free below the bus's limits for headers: a message's
// own (Nats-Msg-Id) and those the processors add when they dead-letter it
// (reason, original subject, sequence), so that a record that could be
// published can also be dead-lettered.
const headerRoom = 4 << 10

// recordLimit is the largest message body import publishes: the smaller of
// the NATS server's max_payload and stream MENTIONS's max message size,
// less headerRoom.
func recordLimit(ctx context.Context, conn *bus.Conn) (int64, error) {
	limit := conn.NC.MaxPayload()
	stream, err := conn.JS.Stream(ctx, bus.StreamMentions)
	if err != nil {
		return 0, fmt.Errorf("stream %s: %w", bus.StreamMentions, err)
	}
	if m := int64(stream.CachedInfo().Config.MaxMsgSize); m > 0 && m < limit {
		limit = m
	}
	return limit - headerRoom, nil
}
