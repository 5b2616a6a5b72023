package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/govlisten/govlisten/bus"
)

// DLQCmd is `govlisten dlq`.
type DLQCmd struct {
	List   DLQListCmd   `cmd:"" help:"List dead-lettered messages as JSON Lines: sequence, subject, reason, original subject, data."`
	Replay DLQReplayCmd `cmd:"" help:"Publish dead-lettered messages back onto their original subject and remove them from the DLQ (after a fix)."`
}

// DLQListCmd is `govlisten dlq list`.
type DLQListCmd struct {
	NATSFlag
	Reason string `help:"Only this reason (the subject's last token: undecodable, invalid)." placeholder:"REASON"`
	Limit  int    `help:"Most messages to list; 0 lists all." default:"0"`
}

// DLQReplayCmd is `govlisten dlq replay`.
type DLQReplayCmd struct {
	NATSFlag
	Reason string `help:"Only this reason." placeholder:"REASON"`
}

type dlqEntry struct {
	Seq             uint64    `json:"seq"`
	Subject         string    `json:"subject"`
	Reason          string    `json:"reason"`
	OriginalSubject string    `json:"original_subject"`
	Time            time.Time `json:"time"`
	Data            string    `json:"data,omitempty"`
	// DataBase64 replaces Data when the message is not valid UTF-8, so
	// the bytes are shown exactly.
	DataBase64 []byte `json:"data_base64,omitempty"`
}

func newDLQEntry(m *jetstream.RawStreamMsg) dlqEntry {
	d := dlqEntry{Seq: m.Sequence, Subject: m.Subject, Reason: m.Header.Get(bus.HeaderReason),
		OriginalSubject: m.Header.Get(bus.HeaderOriginalSubject), Time: m.Time}
	if utf8.Valid(m.Data) {
		d.Data = string(m.Data)
	} else {
		d.DataBase64 = m.Data
	}
	return d
}

// eachDLQ calls fn for every message of stream DLQ (matching reason).
func eachDLQ(ctx context.Context, conn *bus.Conn, reason string, fn func(*jetstream.RawStreamMsg) error) error {
	stream, err := conn.JS.Stream(ctx, bus.StreamDLQ)
	if err != nil {
		return fmt.Errorf("stream %s: %w", bus.StreamDLQ, err)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		return err
	}
	filter := bus.SubjectDLQ
	if reason != "" {
		filter = bus.DLQPrefix + reason
	}
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		m, err := stream.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		if filter != bus.SubjectDLQ && m.Subject != filter {
			continue
		}
		if err := fn(m); err != nil {
			return err
		}
	}
	return nil
}

func dlqConnect(ctx context.Context, g *Globals, f NATSFlag) (*bus.Conn, error) {
	cfg, _, err := g.loadWith(f)
	if err != nil {
		return nil, err
	}
	return openBus(ctx, cfg, "dlq", 10*time.Second)
}

// Run lists.
func (c *DLQListCmd) Run(ctx context.Context, g *Globals) error {
	conn, err := dlqConnect(ctx, g, c.NATSFlag)
	if err != nil {
		return err
	}
	defer conn.Close()
	enc := json.NewEncoder(os.Stdout)
	n := 0
	errStop := errors.New("limit")
	err = eachDLQ(ctx, conn, c.Reason, func(m *jetstream.RawStreamMsg) error {
		if c.Limit > 0 && n >= c.Limit {
			return errStop
		}
		n++
		return enc.Encode(newDLQEntry(m))
	})
	if errors.Is(err, errStop) {
		return nil
	}
	return err
}

// Run replays.
func (c *DLQReplayCmd) Run(ctx context.Context, g *Globals) error {
	conn, err := dlqConnect(ctx, g, c.NATSFlag)
	if err != nil {
		return err
	}
	defer conn.Close()
	stream, err := conn.JS.Stream(ctx, bus.StreamDLQ)
	if err != nil {
		return err
	}
	n := 0
	err = eachDLQ(ctx, conn, c.Reason, func(m *jetstream.RawStreamMsg) error {
		orig := m.Header.Get(bus.HeaderOriginalSubject)
		if orig == "" {
			return fmt.Errorf("DLQ message %d has no %s header", m.Sequence, bus.HeaderOriginalSubject)
		}
		out := nats.NewMsg(orig)
		out.Data = m.Data
		out.Header.Set(jetstream.MsgIDHeader, "replay:"+strconv.FormatUint(m.Sequence, 10))
		if _, err := conn.JS.PublishMsg(ctx, out); err != nil {
			return fmt.Errorf("replaying DLQ message %d: %w", m.Sequence, err)
		}
		n++
		return stream.DeleteMsg(ctx, m.Sequence)
	})
	fmt.Fprintf(os.Stderr, "replayed %d messages\n", n)
	return err
}
