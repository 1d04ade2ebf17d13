package checker

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/gongkai/gongkai/pkg/events"
	"github.com/gongkai/gongkai/services/checker/internal/dashboard"
	"github.com/gongkai/gongkai/services/internal/evidence"
)

// watchView keeps the in-memory view in step with the obligations bucket
// until ctx ends. It closes ready once the bucket's current contents are
// loaded.
func (s *Service) watchView(ctx context.Context, kv jetstream.KeyValue, ready chan<- struct{}) error {
	w, err := kv.WatchAll(ctx)
	if err != nil {
		return fmt.Errorf("watch %s: %w", events.BucketObligations, err)
	}
	defer func() { _ = w.Stop() }()
	initial := true
	for {
		select {
		case <-ctx.Done():
			return nil
		case e, ok := <-w.Updates():
			if !ok {
				return nil
			}
			if e == nil { // end of the initial values
				if initial {
					initial = false
					close(ready)
				}
				continue
			}
			s.watched(e, initial)
		}
	}
}

// syncView waits until the view reflects every write made to the bucket so
// far, so that a tick right after a write sees it.
func (s *Service) syncView(ctx context.Context) error {
	st, err := s.kv.Status(ctx)
	if err != nil {
		return fmt.Errorf("bucket status: %w", err)
	}
	bs, ok := st.(*jetstream.KeyValueBucketStatus)
	if !ok {
		return nil
	}
	last := bs.StreamInfo().State.LastSeq
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for s.viewRev.Load() < last {
		select {
		case <-ctx.Done():
			return fmt.Errorf("view behind the bucket (%d < %d): %w", s.viewRev.Load(), last, ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
	return nil
}

// findings reads findings from the stream, for one agency or all, since a
// time, oldest first.
func (s *Service) findings(ctx context.Context, agency string, since time.Time, limit int) ([]dashboard.FindingRecord, error) {
	subject := events.SubjectFindings + ".>"
	if agency != "" {
		subject = events.FindingSubject(agency)
	}
	cfg := jetstream.OrderedConsumerConfig{FilterSubjects: []string{subject}, DeliverPolicy: jetstream.DeliverAllPolicy}
	if !since.IsZero() {
		cfg.DeliverPolicy = jetstream.DeliverByStartTimePolicy
		cfg.OptStartTime = &since
	}
	c, err := s.opts.JetStream.OrderedConsumer(ctx, events.StreamFindings, cfg)
	if err != nil {
		return nil, fmt.Errorf("read findings: %w", err)
	}
	info, err := c.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("read findings: %w", err)
	}
	n := min(int(info.NumPending), limit)
	if n == 0 {
		return nil, nil
	}
	batch, err := c.Fetch(n, jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		return nil, fmt.Errorf("read findings: %w", err)
	}
	var out []dashboard.FindingRecord
	for m := range batch.Messages() {
		ev, err := events.Unmarshal(m.Data())
		if err != nil {
			continue
		}
		f, err := events.Decode[events.Finding](ev)
		if err != nil {
			continue
		}
		out = append(out, dashboard.FindingRecord{ID: ev.ID, Finding: f})
	}
	if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) && len(out) < n {
		return out, fmt.Errorf("read findings: %w", err)
	}
	return out, nil
}

// Handler returns the read API and dashboard handler. It is valid once Run
// has bound the bucket (Ready returns nil).
func (s *Service) Handler() (http.Handler, error) {
	return dashboard.Handler(dashboard.Options{
		View:     s.view,
		Registry: s.opts.Registry,
		Title:    s.opts.Rules.Title,
		Findings: s.findings,
		Evidence: func(ctx context.Context, hash string) ([]byte, evidence.Meta, error) {
			st, err := s.evidenceStore(ctx)
			if err != nil {
				return nil, evidence.Meta{}, err
			}
			return st.Get(ctx, hash)
		},
		Token:    s.opts.DashboardToken,
		Location: s.opts.Location,
		Zone:     s.opts.Rules.Location,
		Logger:   s.log,
		Now:      s.opts.Now,
	})
}
