package notifier

import (
	"context"
	"time"

	"github.com/gongkai/gongkai/services/internal/calendar"
)

// runDigests starts the digest of every recipient whose digest is due now:
// today is a working day of the recipient's calendar, the digest time has
// passed, the recipient has items from before it, and today's digest has
// not been delivered. It returns once the deliveries are started. The
// caller holds s.digest.
func (s *Service) runDigests(ctx context.Context) {
	now := s.opts.Now()
	candidates := s.mirror.digestCandidates(func(jur string, earliest time.Time, done calendar.Date) bool {
		d, slot, due := s.sched.current(s.sched.cal(jur), now)
		return due && done.Before(d) && !s.sched.dueSlot(jur, earliest).After(slot)
	})
	for _, c := range candidates {
		if ctx.Err() != nil {
			return
		}
		d, slot, _ := s.sched.current(s.sched.cal(c.jur), now)
		key := digestKey(c.id)
		if !s.mirror.take(key, time.Now()) {
			continue
		}
		if !s.acquire(ctx) {
			s.mirror.release(key)
			return
		}
		go func() {
			defer s.done()
			defer s.mirror.release(key)
			s.deliverDigest(ctx, c.id, c.jur, d, slot)
		}()
	}
}

// dueItems returns the recipient's digest items that belong in the digest
// at slot: those decided before it (a finding decided after the digest
// time waits for the next working day's digest).
func (s *Service) dueItems(id, jur string, slot time.Time) []item {
	all := s.mirror.digestItems(id)
	out := all[:0]
	for _, it := range all {
		if !s.sched.dueSlot(jur, it.p.Finding.DecidedAt).After(slot) {
			out = append(out, it)
		}
	}
	return out
}

// deliverDigest sends one recipient's digest for date d.
func (s *Service) deliverDigest(ctx context.Context, id, jur string, d calendar.Date, slot time.Time) {
	items := s.dueItems(id, jur, slot)
	if len(items) == 0 {
		return
	}
	first := items[0].p
	if err := s.limits.wait(ctx, domainOf(first.Recipient)); err != nil {
		return // stopping
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.opts.SendTimeout)
	defer cancel()
	date := d.String()
	dl := delivery{
		id: DigestNoticeID(first.Recipient, date), kind: "digest", channel: s.opts.Transport.Channel(),
		recipient: first.Recipient, agency: first.Home, retryKey: digestKey(id),
		digestRecipient: id, digestDate: date,
	}
	seen := map[string]bool{}
	for _, it := range items {
		dl.keys = append(dl.keys, it.key)
		if !seen[it.p.FindingID] {
			seen[it.p.FindingID] = true
			dl.findings = append(dl.findings, it.p.FindingID)
		}
	}
	st, rev, prior, err := s.claim(sctx, dl.id, ledgerEntry{Kind: dl.kind, Channel: dl.channel, Items: dl.keys, Findings: dl.findings})
	if err != nil {
		s.log.Warn("claim failed", "notice", dl.id, "err", err)
		s.mirror.backoff(dl.retryKey, time.Now(), s.opts.RetryBase, s.opts.RetryMax)
		return
	}
	switch st {
	case claimDone:
		// Sent before (by this process before a restart, or by another
		// replica): finish removing what that digest reported.
		s.metrics.skipped.Inc()
		s.removePending(sctx, prior.Items)
		s.mirror.setDone(id, d)
		return
	case claimBusy:
		s.mirror.backoff(dl.retryKey, time.Now(), s.opts.RetryBase, s.opts.RetryMax)
		return
	}
	dl.rev = rev
	data := s.digestData(items, jur, d)
	var sendErr error
	r, err := s.tpl.RenderDigest(data)
	if err != nil {
		sendErr = err
	} else {
		dl.subject = r.Subject
		msg, msgID, err := s.compose(dl.id, first.Recipient, first.Name, r)
		dl.messageID = msgID
		if err != nil {
			sendErr = err
		} else {
			sendErr = s.opts.Transport.Send(sctx, dl.id, msg)
		}
	}
	dl.sent = time.Now()
	s.finish(sctx, dl, sendErr)
}

// effectiveDue returns when a digest item is due to be sent: at the first
// digest after its finding was decided, or, if the recipient's digest of
// that day went out without it (it arrived late), at the next one. The
// caller holds the mirror's lock (it is called from mirror.each).
func (s *Service) effectiveDue(it *item) time.Time {
	due := s.sched.dueSlot(it.p.Calendar, it.p.Finding.DecidedAt)
	done := s.mirror.done[identity(it.p.Recipient)]
	c := s.sched.cal(it.p.Calendar)
	if !done.IsZero() && !done.Before(c.Today(due)) {
		return s.sched.nextSlotAfterDate(it.p.Calendar, done)
	}
	return due
}

// parseDate parses a YYYY-MM-DD date.
func parseDate(s string) (calendar.Date, error) { return calendar.ParseDate(s) }
