package ingest

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/gongkai/gongkai/pkg/events"
)

// Progress is how far an audit run has come, counted from its
// observations.
type Progress struct {
	// RunID is the run.
	RunID string
	// Size is the number of jobs in the run.
	Size int
	// Done is the number of agencies audited so far.
	Done int
	// Failed counts the audits whose home page could not be read.
	Failed int
	// Problems counts the columns that could not be read (any outcome
	// other than ok and not_found).
	Problems int
}

// String renders the progress line of `gongkai audit now --wait`.
func (p Progress) String() string {
	return fmt.Sprintf("audited %d/%d (home page unreadable: %d, columns unreadable: %d)", p.Done, p.Size, p.Failed, p.Problems)
}

// WatchRun follows the observations stream from since and calls report
// whenever an observation of run runID arrives, until size have arrived
// (it then returns nil) or ctx ends. Any number of workers in any number
// of processes may be doing the run; duplicate observations (a redelivered
// job) are counted once.
func WatchRun(ctx context.Context, js jetstream.JetStream, runID string, size int, since time.Time, report func(Progress)) error {
	cons, err := js.OrderedConsumer(ctx, events.StreamObservations, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{events.SubjectObservations + ".>"},
		DeliverPolicy:  jetstream.DeliverByStartTimePolicy,
		OptStartTime:   &since,
	})
	if err != nil {
		return fmt.Errorf("watch run %s: %w", runID, err)
	}
	it, err := cons.Messages()
	if err != nil {
		return fmt.Errorf("watch run %s: %w", runID, err)
	}
	defer it.Stop()
	go func() {
		<-ctx.Done()
		it.Stop()
	}()
	p := Progress{RunID: runID, Size: size}
	seen := map[string]bool{}
	for p.Done < size {
		msg, err := it.Next()
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("watch run %s: %w", runID, ctx.Err())
			}
			if errors.Is(err, jetstream.ErrMsgIteratorClosed) {
				return fmt.Errorf("watch run %s: stopped", runID)
			}
			return fmt.Errorf("watch run %s: %w", runID, err)
		}
		ev, err := events.Unmarshal(msg.Data())
		if err != nil {
			continue
		}
		obs, err := events.Decode[events.Observation](ev)
		if err != nil || obs.RunID != runID || seen[obs.AgencyID] {
			continue
		}
		seen[obs.AgencyID] = true
		p.Done++
		if obs.Outcome != events.OutcomeOK {
			p.Failed++
		}
		for _, c := range obs.Columns {
			if c.Outcome != events.OutcomeOK && c.Outcome != events.OutcomeNotFound {
				p.Problems++
			}
		}
		report(p)
	}
	return nil
}
