package bus

import (
	"context"
	"strings"

	"github.com/nats-io/nats.go/jetstream"
)

// DLQState is the size of stream DLQ and its messages by reason.
type DLQState struct {
	Messages uint64 `json:"messages"`
	Bytes    uint64 `json:"bytes"`
	// ByReason counts messages by the last token of their subject
	// (govlisten.dlq.<reason>), as stored.
	ByReason map[string]uint64 `json:"by_reason"`
}

// ReadDLQ reads stream DLQ's size and its messages per subject: two
// JetStream API requests, whatever the number of messages.
func ReadDLQ(ctx context.Context, js jetstream.JetStream) (DLQState, error) {
	s, err := js.Stream(ctx, StreamDLQ)
	if err != nil {
		return DLQState{}, err
	}
	info, err := s.Info(ctx, jetstream.WithSubjectFilter(SubjectDLQ))
	if err != nil {
		return DLQState{}, err
	}
	out := DLQState{Messages: info.State.Msgs, Bytes: info.State.Bytes, ByReason: map[string]uint64{}}
	for subject, n := range info.State.Subjects {
		out.ByReason[strings.TrimPrefix(subject, DLQPrefix)] += n
	}
	return out, nil
}
