package collectors_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/govlisten/govlisten/collectors"
	"github.com/govlisten/govlisten/telemetry"
)

func TestErrorClass(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{nil, ""},
		{context.Canceled, ""},
		{fmt.Errorf("page 3: %w", context.Canceled), ""},
		{fmt.Errorf("%w: the X API answered 401", collectors.ErrAuth), "auth"},
		{&collectors.RateLimitError{Wait: time.Second, Reason: "429"}, "rate_limit"},
		{fmt.Errorf("after 3 attempts: %w", &collectors.RateLimitError{}), "rate_limit"},
		{&collectors.QuotaError{Until: time.Now(), Reason: "quotaExceeded"}, "quota"},
		{&collectors.MalformedError{What: "page", Err: io.ErrUnexpectedEOF}, "malformed"},
		{&collectors.PermanentError{Err: errors.New("400 invalid request")}, "client"},
		{&collectors.NetworkError{Err: errors.New("Get /youtube/v3/commentThreads: connection reset")}, "network"},
		{fmt.Errorf("GET /x: %w", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}), "network"},
		{&url.Error{Op: "Get", URL: "http://x", Err: io.EOF}, "network"},
		{fmt.Errorf("request: %w", context.DeadlineExceeded), "network"}, // one request's timeout
		{errors.New("the X API answered 503 Service Unavailable"), "server"},
	} {
		if got := collectors.ErrorClass(c.err); got != c.want {
			t.Errorf("ErrorClass(%v) = %q, want %q", c.err, got, c.want)
		}
	}
	// Every class is a label value telemetry knows.
	for _, class := range []string{"auth", "rate_limit", "quota", "malformed", "client", "network", "server"} {
		found := false
		for _, c := range telemetry.ErrorClasses {
			found = found || c == class
		}
		if !found {
			t.Errorf("class %s is not in telemetry.ErrorClasses", class)
		}
	}
}

func TestCheckpointTime(t *testing.T) {
	since := time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC)
	// An X id for 2026-11-20T09:30:00.123Z: milliseconds since X's epoch, shifted.
	ms := since.Add(123*time.Millisecond).UnixMilli() - 1288834974657
	xid := strconv.FormatUint(uint64(ms)<<22|12345, 10)
	for _, c := range []struct {
		name     string
		cp       collectors.Checkpoint
		platform string
		want     time.Time
	}{
		{"since", collectors.Checkpoint{Since: since}, "youtube", since},
		{"since wins over an id", collectors.Checkpoint{Since: since, SinceID: xid}, "twitter", since},
		{"X snowflake", collectors.Checkpoint{SinceID: xid}, "twitter", since.Add(123 * time.Millisecond)},
		{"X id from before snowflakes", collectors.Checkpoint{SinceID: "20"}, "twitter", time.Time{}},
		{"not a number", collectors.Checkpoint{SinceID: "abc"}, "twitter", time.Time{}},
		{"an id elsewhere", collectors.Checkpoint{SinceID: xid}, "facebook", time.Time{}},
		{"nothing yet", collectors.Checkpoint{}, "twitter", time.Time{}},
	} {
		if got := c.cp.Time(c.platform); !got.Equal(c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

// The status bucket keeps, across runs, when the source last succeeded
// and when and why it last failed; ReadSourceStates reads it back with the
// checkpoint.
func TestSourceStatusKeepsLastSuccessAndError(t *testing.T) {
	c := &pagedCollector{pages: pages(2, 3)}
	s, conn := setup(t, c)
	s.Instrument(telemetry.New(nil))
	ctx := context.Background()
	read := func() collectors.SourceState {
		t.Helper()
		states, err := collectors.ReadSourceStates(ctx, conn.JS, nil, true)
		if err != nil || len(states) != 1 || states[0].Status == nil {
			t.Fatalf("states %+v, %v", states, err)
		}
		return states[0]
	}
	first, err := s.RunOnce(ctx, collectors.Options{})
	if err != nil {
		t.Fatal(err)
	}
	st := read()
	if st.Source != "dwp-search" || st.Platform != "twitter" || !st.Status.LastSuccess.Equal(first[0].Finished) || st.Status.LastError != "" || st.Checkpoint.SinceID != "1" {
		t.Fatalf("after a good run: %+v", st)
	}
	c.failAt = 1 // a backfill that fails on its second page
	c.pages = pages(3, 1)
	if _, err := s.RunOnce(ctx, collectors.Options{Since: time.Now().Add(-time.Hour)}); err == nil {
		t.Fatal("the failing run did not fail")
	}
	st = read()
	if !st.Status.LastSuccess.Equal(first[0].Finished) || st.Status.LastError == "" || !st.Status.LastErrorAt.Equal(st.Status.Finished) || st.Status.Error == "" {
		t.Fatalf("after a failed run: %+v", st.Status)
	}
	c.failAt = 0
	third, err := s.RunOnce(ctx, collectors.Options{})
	if err != nil {
		t.Fatal(err)
	}
	st = read()
	if !st.Status.LastSuccess.Equal(third[0].Finished) || st.Status.LastError == "" || st.Status.Error != "" {
		t.Fatalf("after recovering: %+v", st.Status)
	}
}
