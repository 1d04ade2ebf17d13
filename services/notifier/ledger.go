package notifier

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Ledger outcomes. "sending" is a claim: a process is delivering the
// notice now.
const (
	outcomeSending  = "sending"
	outcomeSent     = "sent"
	outcomeFailed   = "failed"
	outcomeRecorded = "recorded" // a record marker, not a notice
)

// ledgerEntry is the value stored in the sent-ledger under a notice id.
type ledgerEntry struct {
	Kind      string    `json:"kind,omitempty"`
	Channel   string    `json:"channel,omitempty"`
	Outcome   string    `json:"outcome"`
	MessageID string    `json:"message_id,omitempty"`
	At        time.Time `json:"at"`
	Error     string    `json:"error,omitempty"`
	// Claimant identifies the process holding a "sending" claim.
	Claimant string `json:"claimant,omitempty"`
	// Items lists the pending-notice keys a digest reports, so that a
	// process finding the digest already sent can finish removing them.
	Items []string `json:"items,omitempty"`
	// Findings lists the finding ids the notice reports.
	Findings []string `json:"findings,omitempty"`
}

// claimState is the result of trying to claim a notice id.
type claimState int

const (
	claimed   claimState = iota // this process may send
	claimDone                   // already sent or failed: do not send
	claimBusy                   // another process is sending it now
)

// claim takes the notice id in the sent-ledger before sending: an atomic
// create, or the takeover of a claim older than ClaimTimeout (left by a
// crash, or by this process when a release failed). It returns the revision
// to complete or release, and the entry found when the notice is done.
func (s *Service) claim(ctx context.Context, id string, e ledgerEntry) (claimState, uint64, ledgerEntry, error) {
	now := s.opts.Now()
	e.Outcome, e.Claimant, e.At = outcomeSending, s.claimant, now
	body, err := json.Marshal(e)
	if err != nil {
		return 0, 0, ledgerEntry{}, fmt.Errorf("claim %s: %w", id, err)
	}
	// The common case first: nobody has touched the id.
	rev, err := s.ledger.Create(ctx, id, body)
	if err == nil {
		return claimed, rev, ledgerEntry{}, nil
	}
	if !errors.Is(err, jetstream.ErrKeyExists) {
		return 0, 0, ledgerEntry{}, fmt.Errorf("claim %s: %w", id, err)
	}
	cur, err := s.ledger.Get(ctx, id)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return claimBusy, 0, ledgerEntry{}, nil // released just now: try again later
	}
	if err != nil {
		return 0, 0, ledgerEntry{}, fmt.Errorf("claim %s: ledger get: %w", id, err)
	}
	var prior ledgerEntry
	if err := json.Unmarshal(cur.Value(), &prior); err != nil {
		// An unreadable entry is not evidence that nothing was sent.
		return claimDone, 0, prior, nil
	}
	if prior.Outcome != outcomeSending {
		return claimDone, 0, prior, nil
	}
	if prior.Claimant != s.claimant && now.Sub(prior.At) < s.opts.ClaimTimeout {
		return claimBusy, 0, prior, nil
	}
	rev, err = s.ledger.Update(ctx, id, body, cur.Revision())
	if err != nil {
		var apiErr *jetstream.APIError
		if errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence || errors.Is(err, jetstream.ErrKeyExists) {
			return claimBusy, 0, prior, nil
		}
		return 0, 0, ledgerEntry{}, fmt.Errorf("claim %s: take over: %w", id, err)
	}
	s.metrics.takeovers.Inc()
	s.log.Warn("stale claim taken over", "notice", id, "claimed_at", prior.At)
	return claimed, rev, ledgerEntry{}, nil
}

// release gives a claim back after a temporary failure, so that the next
// attempt (of any process) may claim it at once.
func (s *Service) release(ctx context.Context, id string, rev uint64) {
	if err := s.ledger.Delete(ctx, id, jetstream.LastRevision(rev)); err != nil {
		// The claim stays and is taken over when it is stale (or at once by
		// this process).
		s.log.Warn("release claim", "notice", id, "err", err)
	}
}

// complete writes the final outcome of a claimed notice.
func (s *Service) complete(ctx context.Context, id string, e ledgerEntry) error {
	body, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("ledger %s: %w", id, err)
	}
	if _, err := s.ledger.Put(ctx, id, body); err != nil {
		return fmt.Errorf("ledger put %s: %w", id, err)
	}
	return nil
}
