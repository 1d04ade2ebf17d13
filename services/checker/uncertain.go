package checker

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// A state write that gets no answer (a time-out, a connection lost while
// the server leader changes) may or may not have been stored. If it was,
// the redelivered observation finds the new state already there, sees no
// transition and publishes nothing: without more, the transition's finding
// would be lost. So such a write is remembered as uncertain, and the
// resender settles it from the instance's history in the bucket: if a
// stored revision carries the transition's outbox entry, the write took
// effect and the finding is published (under its message id, so a copy
// the redelivery published as well is dropped by the stream); if none
// does, the write did not happen and the redelivered observation repeats
// the transition itself.
//
// What remains: the uncertainty is known only to the replica whose write
// went unanswered. If that replica stops before settling it, the start-up
// recovery of recent outbox entries (recoveryWindow) publishes the finding
// when a checker next starts.

// uncertainWrite is a transition whose state write went unanswered.
type uncertainWrite struct {
	key   string
	ob    *Outbox
	since time.Time
}

// writeUncertain remembers that the write of key carrying ob got no
// answer.
func (s *Service) writeUncertain(key string, ob *Outbox, err error) {
	s.log.Warn("state write unanswered; will settle from the bucket's history", "key", key, "finding", ob.ID, "err", err)
	s.unsentMu.Lock()
	s.uncertain[ob.ID] = uncertainWrite{key: key, ob: ob, since: time.Now()}
	s.unsentMu.Unlock()
}

// settleUncertain settles the uncertain writes it can: it publishes the
// findings of those that were stored and forgets those that were not.
func (s *Service) settleUncertain(ctx context.Context) {
	s.unsentMu.Lock()
	pending := make([]uncertainWrite, 0, len(s.uncertain))
	for _, u := range s.uncertain {
		pending = append(pending, u)
	}
	s.unsentMu.Unlock()
	for _, u := range pending {
		stored, err := s.storedOutbox(ctx, u.key, u.ob.ID)
		if err != nil {
			if time.Since(u.since) > recoveryWindow {
				s.log.Error("uncertain state write never settled; dropped", "key", u.key, "finding", u.ob.ID, "err", err)
				s.forgetUncertain(u.ob.ID)
			}
			continue // the bucket is unreachable: try again later
		}
		if stored {
			if err := s.publishOutbox(ctx, u.ob); err != nil {
				continue
			}
			s.metrics.uncertainWrites.WithLabelValues("stored").Inc()
		} else {
			s.metrics.uncertainWrites.WithLabelValues("not_stored").Inc()
		}
		s.forgetUncertain(u.ob.ID)
	}
}

func (s *Service) forgetUncertain(id string) {
	s.unsentMu.Lock()
	delete(s.uncertain, id)
	s.unsentMu.Unlock()
}

// storedOutbox reports whether a revision of key in the bucket's history
// carries the outbox entry id.
func (s *Service) storedOutbox(ctx context.Context, key, id string) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	hist, err := s.kv.History(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return false, nil // an unanswered create that did not happen
	}
	if err != nil {
		return false, err
	}
	for _, e := range hist {
		if e.Operation() != jetstream.KeyValuePut {
			continue
		}
		var rec struct {
			Outbox *struct {
				ID string `json:"id"`
			} `json:"outbox"`
		}
		if json.Unmarshal(e.Value(), &rec) == nil && rec.Outbox != nil && rec.Outbox.ID == id {
			return true, nil
		}
	}
	return false, nil
}
