package collectors

import (
	"context"
	"fmt"
	"sync"
	"time"
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
