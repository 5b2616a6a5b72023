// Package collectors gets mentions onto the bus: the Publisher every
// collector and `govlisten import` share, and (in sub-packages) one
// collector per platform and the importers of files.
//
// Collectors collect; processors decide. Nothing here filters or tags: a
// collector maps each platform item to a mention.Mention faithfully and
// publishes it.
package collectors

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/govlisten/govlisten/mention"
)

// Publisher publishes mentions asynchronously with a bound on
// unacknowledged publishes, retrying a publish that fails (stream full,
// server restarting) with backoff. Each message carries Nats-Msg-Id (see
// mention.MsgID), so a retry, or a whole page collected again, is dropped by
// the stream's duplicate window instead of stored twice.
//
// Publish and Wait are called by one goroutine; the counters are safe to
// read from any.
type Publisher struct {
	js          jetstream.JetStream
	maxInFlight int
	retryFor    time.Duration
	pending     []pending
	// retried is when a retry last succeeded: after a failover, every
	// publish in flight fails at once, and once one retry has gone through
	// the rest need no backoff.
	retried time.Time

	Published  atomic.Int64 // acknowledged as new
	Duplicates atomic.Int64 // acknowledged as already in the stream
}

type pending struct {
	msg *nats.Msg
	fut jetstream.PubAckFuture
}

// NewPublisher returns a Publisher with at most maxInFlight publishes
// awaiting their ack. A publish still failing after retryFor is an error.
func NewPublisher(js jetstream.JetStream, maxInFlight int, retryFor time.Duration) *Publisher {
	if maxInFlight < 1 {
		maxInFlight = 1
	}
	return &Publisher{js: js, maxInFlight: maxInFlight, retryFor: retryFor}
}

// Encode builds the NATS message for m: its subject, its JSON and its
// Nats-Msg-Id header.
func Encode(m *mention.Mention) (*nats.Msg, error) {
	data, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encoding %s:%s: %w", m.Platform, m.ID, err)
	}
	msg := nats.NewMsg(m.Subject())
	msg.Data = data
	msg.Header.Set(jetstream.MsgIDHeader, m.MsgID())
	return msg, nil
}

// Publish sends m without waiting for its ack, unless maxInFlight acks are
// outstanding, in which case it first waits for the oldest.
func (p *Publisher) Publish(ctx context.Context, m *mention.Mention) error {
	msg, err := Encode(m)
	if err != nil {
		return err
	}
	return p.PublishMsg(ctx, msg)
}

// PublishMsg is Publish for a message already encoded.
func (p *Publisher) PublishMsg(ctx context.Context, msg *nats.Msg) error {
	for len(p.pending) >= p.maxInFlight {
		if err := p.settle(ctx, p.pending[0]); err != nil {
			return err
		}
		p.pending = p.pending[1:]
	}
	fut, err := p.js.PublishMsgAsync(msg)
	if err != nil {
		if err := p.retry(ctx, msg, err); err != nil {
			return err
		}
		return nil
	}
	p.pending = append(p.pending, pending{msg: msg, fut: fut})
	return nil
}

// Wait blocks until every publish so far is acknowledged. After an error,
// some of them may not be in the stream: the caller must not advance any
// checkpoint past them.
func (p *Publisher) Wait(ctx context.Context) error {
	var first error
	for _, pd := range p.pending {
		if err := p.settle(ctx, pd); err != nil && first == nil {
			first = err
		}
	}
	p.pending = p.pending[:0]
	return first
}

func (p *Publisher) settle(ctx context.Context, pd pending) error {
	select {
	case ack := <-pd.fut.Ok():
		p.count(ack)
		return nil
	case err := <-pd.fut.Err():
		return p.retry(ctx, pd.msg, err)
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (p *Publisher) count(ack *jetstream.PubAck) {
	if ack.Duplicate {
		p.Duplicates.Add(1)
	} else {
		p.Published.Add(1)
	}
}

// retry publishes msg synchronously until it is acknowledged or retryFor
// has passed since the first failure.
func (p *Publisher) retry(ctx context.Context, msg *nats.Msg, cause error) error {
	deadline := time.Now().Add(p.retryFor)
	delay := 100 * time.Millisecond
	if time.Since(p.retried) < time.Second {
		delay = 0 // the server is back: no reason to wait
	}
	for {
		if time.Now().After(deadline) {
			return fmt.Errorf("publishing to %s (Nats-Msg-Id %s): %w", msg.Subject, msg.Header.Get(jetstream.MsgIDHeader), cause)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		delay = min(max(2*delay, 100*time.Millisecond), 5*time.Second)
		actx, cancel := context.WithTimeout(ctx, 10*time.Second)
		ack, err := p.js.PublishMsg(actx, msg)
		cancel()
		if err == nil {
			p.count(ack)
			p.retried = time.Now()
			return nil
		}
		if errors.Is(err, context.Canceled) {
			return err
		}
		cause = err
	}
}
