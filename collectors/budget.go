package collectors

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Budget is a quota shared by the sources of a platform: YouTube's daily
// units, or a budget an operator sets below the platform's. A collector
// calls Spend before each call that costs quota; Spend returns a
// *QuotaError, without spending, when the units are not there, so a
// collector stops before the platform refuses it.
type Budget interface {
	Spend(ctx context.Context, units int) error
	// Left is what remains in the current period.
	Left(ctx context.Context) (int, error)
}

// DailyBudget is a Budget of Units per day, the day starting at midnight
// in Location (YouTube resets at midnight Pacific Time). It is kept in
// memory: one process's view. Safe for concurrent use.
type DailyBudget struct {
	Units    int
	Location *time.Location
	Now      func() time.Time // time.Now when nil

	mu    sync.Mutex
	day   string
	spent int
}

// Pacific is YouTube's quota day.
var Pacific = func() *time.Location {
	if l, err := time.LoadLocation("America/Los_Angeles"); err == nil {
		return l
	}
	return time.FixedZone("PT", -8*3600)
}()

func (b *DailyBudget) now() time.Time {
	if b.Now != nil {
		return b.Now()
	}
	return time.Now()
}

// period returns the current day's key and the start of the next day.
func (b *DailyBudget) period() (string, time.Time) {
	loc := b.Location
	if loc == nil {
		loc = time.UTC
	}
	t := b.now().In(loc)
	y, m, d := t.Date()
	return t.Format("2006-01-02"), time.Date(y, m, d+1, 0, 0, 0, 0, loc)
}

// Spend implements Budget.
func (b *DailyBudget) Spend(_ context.Context, units int) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	day, next := b.period()
	if day != b.day {
		b.day, b.spent = day, 0
	}
	if b.spent+units > b.Units {
		return &QuotaError{Until: next, Reason: fmt.Sprintf("%d of %d units spent today, %d more asked", b.spent, b.Units, units)}
	}
	b.spent += units
	return nil
}

// Left implements Budget.
func (b *DailyBudget) Left(context.Context) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if day, _ := b.period(); day != b.day {
		return b.Units, nil
	}
	return b.Units - b.spent, nil
}

// KVBudget is a daily Budget shared by every collector replica: the units
// spent each day are a counter in a NATS KV bucket, updated with
// compare-and-set, so replicas on different hosts draw on one quota.
// Safe for concurrent use.
type KVBudget struct {
	KV       jetstream.KeyValue
	Key      string // e.g. "youtube"
	Units    int
	Location *time.Location
	Now      func() time.Time
	// Pace spreads the budget over the day: by a given time of day no more
	// than that share of Units (plus an eighth, so a day can start) may be
	// spent, so collection goes on until midnight instead of stopping at
	// noon. A call that would run ahead gets a QuotaError until the units
	// have accrued.
	Pace bool
}

var _ Budget = (*KVBudget)(nil)

func (b *KVBudget) key() (string, time.Time) {
	d := DailyBudget{Location: b.Location, Now: b.Now}
	day, next := d.period()
	return b.Key + "." + day, next
}

// Spend implements Budget.
func (b *KVBudget) Spend(ctx context.Context, units int) error {
	key, next := b.key()
	for {
		spent, rev, err := b.read(ctx, key)
		if err != nil {
			return err
		}
		if spent+units > b.Units {
			return &QuotaError{Until: next, Reason: fmt.Sprintf("%d of %d %s units spent today, %d more asked", spent, b.Units, b.Key, units)}
		}
		if b.Pace {
			if at := b.accrued(spent+units, next); at.After(b.now()) {
				return &QuotaError{Until: at, Reason: fmt.Sprintf("pacing %d %s units over the day: %d spent so far", b.Units, b.Key, spent)}
			}
		}
		val := []byte(strconv.Itoa(spent + units))
		if rev == 0 {
			_, err = b.KV.Create(ctx, key, val)
		} else {
			_, err = b.KV.Update(ctx, key, val, rev)
		}
		if err == nil {
			return nil
		}
		if !errors.Is(err, jetstream.ErrKeyExists) && !isWrongSequence(err) {
			return fmt.Errorf("spending %s quota: %w", b.Key, err)
		}
		// Another replica spent at the same time: read again.
	}
}

func (b *KVBudget) now() time.Time {
	if b.Now != nil {
		return b.Now()
	}
	return time.Now()
}

// accrued is when a paced budget allows total units spent in the day that
// ends at next.
func (b *KVBudget) accrued(total int, next time.Time) time.Time {
	const day = 24 * time.Hour
	burst := b.Units / 8
	if total <= burst {
		return time.Time{}
	}
	share := float64(total-burst) / float64(b.Units)
	return next.Add(-day).Add(time.Duration(share * float64(day)))
}

// Left implements Budget.
func (b *KVBudget) Left(ctx context.Context) (int, error) {
	key, _ := b.key()
	spent, _, err := b.read(ctx, key)
	return b.Units - spent, err
}

func (b *KVBudget) read(ctx context.Context, key string) (spent int, rev uint64, err error) {
	e, err := b.KV.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, fmt.Errorf("reading %s quota: %w", b.Key, err)
	}
	spent, err = strconv.Atoi(string(e.Value()))
	if err != nil {
		return 0, 0, fmt.Errorf("quota counter %s is not a number", key)
	}
	return spent, e.Revision(), nil
}

func isWrongSequence(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence
}

// KVGate is a Gate kept in a NATS KV bucket under Key (a platform), shared
// by every collector replica. Safe for concurrent use.
type KVGate struct {
	KV  jetstream.KeyValue
	Key string
}

var _ Gate = (*KVGate)(nil)

type gateState struct {
	Until  time.Time `json:"until"`
	Reason string    `json:"reason"`
}

// Until implements Gate.
func (g *KVGate) Until(ctx context.Context) (time.Time, string, error) {
	e, err := g.KV.Get(ctx, g.Key+".hold")
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return time.Time{}, "", nil
	}
	if err != nil {
		return time.Time{}, "", err
	}
	var st gateState
	if err := json.Unmarshal(e.Value(), &st); err != nil {
		return time.Time{}, "", fmt.Errorf("gate %s: %w", g.Key, err)
	}
	return st.Until, st.Reason, nil
}

// Hold implements Gate. It never moves the gate earlier.
func (g *KVGate) Hold(ctx context.Context, until time.Time, reason string) error {
	if cur, _, err := g.Until(ctx); err == nil && !until.After(cur) {
		return nil
	}
	b, _ := json.Marshal(gateState{Until: until.UTC(), Reason: reason})
	_, err := g.KV.Put(ctx, g.Key+".hold", b)
	return err
}
