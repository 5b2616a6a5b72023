package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/term"

	"github.com/govlisten/govlisten/privacy"
	"github.com/govlisten/govlisten/processors/sink"
	"github.com/govlisten/govlisten/purge"
)

// EraseCmd is `govlisten erase`.
type EraseCmd struct {
	NATSFlag
	ClickHouseFlag
	Author          string        `help:"The author: a platform id (X user id, YouTube channel id, Facebook id), a handle (@ optional, any case), or a pseudonym (p_...)." required:"" placeholder:"ID_OR_HANDLE"`
	Platform        string        `help:"Only this platform: twitter, youtube or facebook." enum:",twitter,youtube,facebook" default:"" placeholder:"P"`
	Yes             bool          `help:"Erase without asking. Without it, erase shows what it found, changes nothing, and asks on a terminal."`
	MutationTimeout time.Duration `help:"Longest wait for each ClickHouse mutation." default:"1h" placeholder:"DURATION"`
}

// Help is the procedure.
func (c *EraseCmd) Help() string {
	return `Removes one author's mentions (a data-protection erasure request), and says what it removed, place by place:

  ClickHouse   table mentions: every row whose author_id or author_handle is the author's (ALTER TABLE ... DELETE, waited for);
               other authors' rows whose raw JSON holds the author's replies or comments (a YouTube thread, a Facebook post): those parts removed (ALTER TABLE ... UPDATE);
               alerts: the author's mentions taken off their mention lists;
               rollups mentions_daily and mentions_hourly: every month touched rebuilt from what is left.
  NATS         streams MENTIONS (not yet processed) and DLQ: the author's messages securely deleted; others' messages holding the author's parts in raw published again without them.

Asking by handle also finds the mentions that carry only the id (and the reverse): the ids and handles found with the author's mentions are all used, and listed. A handle is matched on every platform: when it belongs to different people on different platforms, give --platform. With privacy.pseudonymise on, the author is also found under their pseudonyms (the key must be set). Processors may keep running: a second pass catches what they stored meanwhile.

Not covered (see docs/data-protection.md): ClickHouse and NATS backups and snapshots, replicas not reachable from here, Grafana and browser caches, webhook posts (alerts, reports) already sent, files written by govlisten report, exports and notebooks made by analysts, and the platforms themselves. Mentions of the author by others (@handles in their text, replies to them) are the others' data and stay. A collector may collect the author's new posts again: erasure removes what is stored, it does not block collection.

Without --yes nothing is changed: erase shows what it found and, on a terminal, asks for confirmation.`
}

// Run erases.
func (c *EraseCmd) Run(ctx context.Context, g *Globals) error {
	cfg, log, err := g.loadWith(c.NATSFlag, c.ClickHouseFlag)
	if err != nil {
		return err
	}
	pseudo, err := privacy.Load(cfg.Privacy, os.Getenv)
	if err != nil {
		return fmt.Errorf("erase needs the pseudonymisation key to find pseudonymised mentions: %w", err)
	}
	conn, err := openBus(ctx, cfg, "erase", 10*time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	store, err := sink.Open(ctx, cfg, os.Getenv)
	if err != nil {
		return err
	}
	defer store.Close()
	e := &purge.Eraser{Store: store, JS: conn.JS, Pseudo: pseudo, MutationTimeout: c.MutationTimeout,
		Progress: func(format string, args ...any) { log.Info(fmt.Sprintf(format, args...)) }}
	req := purge.Request{Author: c.Author, Platform: c.Platform, DryRun: !c.Yes}
	rep, err := e.Erase(ctx, req)
	if rep != nil {
		printErasure(os.Stdout, c.Author, rep)
	}
	if err != nil || c.Yes {
		return err
	}
	if rep.Mentions+rep.RawScrubbed+rep.Alerts == 0 && !anyStream(rep) {
		fmt.Println("nothing to erase")
		return nil
	}
	if !term.IsTerminal(int(os.Stdin.Fd())) {
		return errors.New("nothing was changed: run again with --yes to erase")
	}
	fmt.Print("Erase all of this? Type yes to go on: ")
	answer, _ := bufio.NewReader(os.Stdin).ReadString('\n')
	if strings.TrimSpace(answer) != "yes" {
		return errors.New("not confirmed: nothing was changed")
	}
	req.DryRun = false
	rep, err = e.Erase(ctx, req)
	if rep != nil {
		printErasure(os.Stdout, c.Author, rep)
	}
	return err
}

func anyStream(rep *purge.Report) bool {
	for _, s := range rep.Streams {
		if s.Deleted+s.Rewritten > 0 {
			return true
		}
	}
	return false
}

// printErasure writes the report, one line per place.
func printErasure(w io.Writer, author string, rep *purge.Report) {
	verb := func(done, todo string) string {
		if rep.DryRun {
			return todo
		}
		return done
	}
	fmt.Fprintf(w, "author %s — %s; known as: %s\n", author, verb("erased", "found, nothing changed yet"), strings.Join(rep.Identities, ", "))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "clickhouse\tmentions\t%d mentions (%d stored rows): %s\n", rep.Mentions, rep.Rows, verb("deleted", "to delete"))
	fmt.Fprintf(tw, "clickhouse\tmentions.raw\t%d rows of others' mentions holding the author's replies or comments: %s\n", rep.RawScrubbed,
		verb("those parts removed", "those parts to remove"))
	fmt.Fprintf(tw, "clickhouse\talerts\t%d alerts listing the author's mentions: %s\n", rep.Alerts, verb("taken off the lists", "to take off the lists"))
	months := make([]string, len(rep.Months))
	for i, m := range rep.Months {
		months[i] = fmt.Sprint(m)
	}
	if len(months) == 0 {
		months = []string{"none"}
	}
	fmt.Fprintf(tw, "clickhouse\trollups\tmonths %s: %s\n", strings.Join(months, ", "), verb("rebuilt", "to rebuild"))
	for _, s := range rep.Streams {
		fmt.Fprintf(tw, "nats\t%s\t%d of %d messages: %s; %d of others': %s; %d already processed\n", s.Stream, s.Deleted, s.Scanned,
			verb("deleted", "to delete"), s.Rewritten, verb("rewritten without the author's parts", "to rewrite without the author's parts"), s.Gone)
	}
	_ = tw.Flush()
	if !rep.DryRun {
		fmt.Fprintf(w, "passes: %d. Not covered: backups, Grafana and browser caches, webhook posts already sent, report files, analysts' exports (docs/data-protection.md).\n", rep.Passes)
	}
}
