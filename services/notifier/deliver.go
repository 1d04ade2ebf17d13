package notifier

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/wneessen/go-mail"
	"golang.org/x/time/rate"

	"github.com/gongkai/gongkai/pkg/events"
)

// opTimeout bounds one key-value operation of the findings handler.
const opTimeout = 10 * time.Second

// handle records the notices a finding is owed, then acknowledges it.
// Invalid findings are terminated; key-value failures are retried with a
// delay (the finding stays in the stream until it is recorded).
func (s *Service) handle(ctx context.Context, m jetstream.Msg) {
	ev, err := events.Unmarshal(m.Data())
	if err != nil {
		s.metrics.terminated.Inc()
		_ = m.TermWithReason(err.Error())
		return
	}
	f, err := events.Decode[events.Finding](ev)
	if err != nil {
		s.metrics.terminated.Inc()
		_ = m.TermWithReason(err.Error())
		return
	}
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	retry := func(what string, err error) {
		s.log.Warn("finding not recorded, will retry", "finding", ev.ID, "step", what, "err", err)
		_ = m.NakWithDelay(5 * time.Second)
	}
	marker := recordMarker(ev.ID)
	if _, err := s.ledger.Get(ctx, marker); err == nil {
		s.metrics.duplicateFindings.Inc()
		_ = m.Ack()
		return
	} else if !errors.Is(err, jetstream.ErrKeyNotFound) {
		retry("ledger get", err)
		return
	}
	items := s.plan(ev.ID, f, s.opts.Now())
	if s.notifiable(f) && !hasPeople(items) {
		s.metrics.noRecipient.Inc()
	}
	for i := range items {
		body, err := json.Marshal(&items[i])
		if err != nil {
			retry("encode", err)
			return
		}
		rev, err := s.pending.Put(ctx, items[i].key(), body)
		if err != nil {
			retry("pending put", err)
			return
		}
		// Into the mirror now, not only when the watcher reports it: once
		// the finding is acknowledged, Backlog counts what it owes.
		s.mirror.put(items[i].key(), rev, items[i])
		s.metrics.recorded.WithLabelValues(kindName(items[i].Kind)).Inc()
	}
	body, _ := json.Marshal(ledgerEntry{Outcome: outcomeRecorded, At: s.opts.Now(), Findings: []string{ev.ID}})
	if _, err := s.ledger.Create(ctx, marker, body); err != nil && !errors.Is(err, jetstream.ErrKeyExists) {
		// Recorded, not marked: a redelivery records the same keys again,
		// which is harmless unless a digest removed them in between.
		s.log.Warn("record marker not written", "finding", ev.ID, "err", err)
	}
	_ = m.Ack()
	if len(items) > 0 {
		s.kick()
	}
}

func hasPeople(items []pendingItem) bool {
	for _, it := range items {
		if it.Kind != kindWebhook {
			return true
		}
	}
	return false
}

// acquire takes a delivery slot, or returns false when ctx ends first.
func (s *Service) acquire(ctx context.Context) bool {
	select {
	case s.sem <- struct{}{}:
		s.flight.Add(1)
		return true
	case <-ctx.Done():
		return false
	}
}

func (s *Service) done() {
	<-s.sem
	s.flight.Done()
}

// dispatch starts the delivery of every immediate notice and webhook post
// that is due.
func (s *Service) dispatch(ctx context.Context) {
	for _, it := range s.mirror.ready(time.Now()) {
		if !s.mirror.take(it.key, time.Now()) {
			continue
		}
		if !s.acquire(ctx) {
			s.mirror.release(it.key)
			return
		}
		go func(it *item) {
			defer s.done()
			defer s.mirror.release(it.key)
			s.deliverItem(ctx, it)
		}(it)
	}
}

// delivery describes one notice being delivered.
type delivery struct {
	id, kind, channel           string
	recipient, subject          string
	messageID, agency           string
	findings, keys              []string
	rev                         uint64
	retryKey                    string
	sent                        time.Time // when the transport returned
	digestRecipient, digestDate string
}

// deliverItem delivers one immediate notice or webhook post.
func (s *Service) deliverItem(ctx context.Context, it *item) {
	p := it.p
	dest := domainOf(p.Recipient)
	if p.Kind == kindWebhook {
		dest = hostOf(p.Recipient)
	}
	if err := s.limits.wait(ctx, dest); err != nil {
		return // stopping
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.opts.SendTimeout)
	defer cancel()
	d := delivery{
		id: p.noticeID(), kind: kindName(p.Kind), recipient: p.Recipient, agency: p.Finding.AgencyID,
		findings: []string{p.FindingID}, keys: []string{it.key}, retryKey: it.key,
	}
	var wh Webhook
	if p.Kind == kindWebhook {
		var ok bool
		if wh, ok = s.webhooks[p.Recipient]; !ok {
			// The webhook was removed from the configuration.
			s.log.Warn("pending webhook post dropped: URL no longer configured", "url", redactURL(p.Recipient), "finding", p.FindingID)
			s.removePending(sctx, d.keys)
			return
		}
		d.channel, d.recipient = "webhook", redactURL(p.Recipient)
	} else {
		d.channel = s.opts.Transport.Channel()
	}
	st, rev, _, err := s.claim(sctx, d.id, ledgerEntry{Kind: d.kind, Channel: d.channel, Findings: d.findings})
	if err != nil {
		s.log.Warn("claim failed", "notice", d.id, "err", err)
		s.mirror.backoff(it.key, time.Now(), s.opts.RetryBase, s.opts.RetryMax)
		return
	}
	switch st {
	case claimDone:
		s.metrics.skipped.Inc()
		s.removePending(sctx, d.keys)
		return
	case claimBusy:
		s.mirror.backoff(it.key, time.Now(), s.opts.RetryBase, s.opts.RetryMax)
		return
	}
	d.rev = rev
	var sendErr error
	if p.Kind == kindWebhook {
		link := s.link(p.Finding.AgencyID)
		summary := summaries(s.tpl, p, s.loc(p.Calendar), link, s.opts.Registry)
		d.subject = summary.ZH
		sendErr = s.postWebhook(sctx, wh, d.id, p, summary, link)
	} else {
		msg, subject, msgID, err := s.immediateMessage(p)
		d.subject, d.messageID = subject, msgID
		if err != nil {
			sendErr = err // a rendering or address error is permanent
		} else {
			sendErr = s.opts.Transport.Send(sctx, d.id, msg)
		}
	}
	d.sent = time.Now()
	s.finish(sctx, d, sendErr)
}

// finish records the outcome of one delivery attempt: a temporary failure
// gives the claim back and schedules a retry; a success or a permanent
// failure is written to the ledger, published as a notice event, and the
// pending entries are removed.
func (s *Service) finish(ctx context.Context, d delivery, sendErr error) {
	var te *TemporaryError
	if sendErr != nil && errors.As(sendErr, &te) {
		s.metrics.deliveries.WithLabelValues(d.channel, "temporary_failure").Inc()
		s.release(ctx, d.id, d.rev)
		delay := s.mirror.backoff(d.retryKey, time.Now(), s.opts.RetryBase, s.opts.RetryMax)
		s.log.Warn("delivery postponed", "notice", d.id, "kind", d.kind, "retry_in", delay, "err", sendErr)
		return
	}
	s.mirror.clearRetry(d.retryKey)
	now := s.opts.Now()
	entry := ledgerEntry{
		Kind: d.kind, Channel: d.channel, Outcome: outcomeSent, MessageID: d.messageID, At: now,
		Findings: d.findings, Items: d.keys,
	}
	if sendErr != nil {
		entry.Outcome, entry.Error = outcomeFailed, sendErr.Error()
		s.metrics.deliveries.WithLabelValues(d.channel, "permanent_failure").Inc()
		s.log.Error("notice failed permanently", "notice", d.id, "kind", d.kind, "agency", d.agency, "err", sendErr)
	} else {
		s.metrics.deliveries.WithLabelValues(d.channel, "sent").Inc()
	}
	s.metrics.notices.WithLabelValues(d.kind, entry.Outcome).Inc()
	if err := s.complete(ctx, d.id, entry); err != nil {
		// The message went out; the claim stays "sending" and is taken
		// over (and the notice sent again) after ClaimTimeout. This is the
		// documented window; log it loudly.
		s.log.Error("ledger write failed after delivery", "notice", d.id, "err", err)
		return
	}
	if sendErr == nil {
		s.metrics.window.Observe(time.Since(d.sent).Seconds())
	}
	if d.digestRecipient != "" {
		if date, err := parseDate(d.digestDate); err == nil {
			s.mirror.setDone(d.digestRecipient, date)
		}
	}
	s.removePending(ctx, d.keys)
	notice := events.Notice{
		ID: d.id, AgencyID: d.agency, Channel: d.channel, Kind: d.kind, Recipient: d.recipient,
		Subject: d.subject, MessageID: d.messageID, Findings: d.findings, SentAt: now,
		Outcome: entry.Outcome, Error: entry.Error,
	}
	ev, err := events.New(Source, d.id, d.agency, now, notice)
	if err != nil {
		s.log.Warn("notice record invalid", "notice", d.id, "err", err)
		return
	}
	if _, err := events.Publish(ctx, s.opts.JetStream, events.NoticeSubject(d.agency), ev); err != nil {
		s.log.Warn("publish notice record", "notice", d.id, "err", err)
	}
}

// removePending deletes delivered entries from the bucket and the mirror.
func (s *Service) removePending(ctx context.Context, keys []string) {
	for _, k := range keys {
		if err := s.pending.Delete(ctx, k); err != nil {
			// Harmless: the next attempt finds the notice in the ledger and
			// removes the entry then.
			s.log.Warn("remove delivered notice", "key", k, "err", err)
			continue
		}
		s.mirror.remove(k)
	}
}

// link returns the dashboard page of an agency, or "".
func (s *Service) link(agency string) string {
	if s.opts.DashboardURL == "" {
		return ""
	}
	return strings.TrimRight(s.opts.DashboardURL, "/") + "/agencies/" + url.PathEscape(agency)
}

// loc returns the time zone of a jurisdiction's calendar.
func (s *Service) loc(jurisdiction string) *time.Location {
	if c := s.sched.cal(jurisdiction); c != nil {
		return c.Location()
	}
	return s.opts.Location
}

// immediateMessage renders and composes the email of an immediate notice.
func (s *Service) immediateMessage(p pendingItem) (*mail.Msg, string, string, error) {
	r, err := s.tpl.RenderNotice(noticeData(p, s.loc(p.Calendar), s.link(p.Finding.AgencyID), s.opts.Registry))
	if err != nil {
		return nil, "", "", fmt.Errorf("render: %w", err)
	}
	msg, msgID, err := s.compose(p.noticeID(), p.Recipient, p.Name, r)
	return msg, r.Subject, msgID, err
}

// compose builds the email: the subject and display name on one line, a
// Message-ID derived from the notice id, text and HTML alternatives.
func (s *Service) compose(id, to, name string, r Message) (*mail.Msg, string, error) {
	msg := mail.NewMsg()
	if err := msg.From(s.opts.From); err != nil {
		return nil, "", fmt.Errorf("from: %w", err)
	}
	if err := msg.AddToFormat(oneLine(name), to); err != nil {
		return nil, "", fmt.Errorf("to %q: %w", to, err)
	}
	msgID := id + "@" + domainOf(s.opts.From)
	msg.Subject(oneLine(r.Subject))
	msg.SetMessageIDWithValue(msgID)
	msg.SetDateWithValue(s.opts.Now())
	msg.SetGenHeader("X-Gongkai-Notice", id)
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	msg.SetBodyString(mail.TypeTextPlain, r.Text)
	if r.HTML != "" {
		msg.AddAlternativeString(mail.TypeTextHTML, r.HTML)
	}
	return msg, "<" + msgID + ">", nil
}

// domainOf returns the domain of an email address, lower case.
func domainOf(addr string) string {
	_, d, ok := strings.Cut(addr, "@")
	if !ok {
		return ""
	}
	return strings.ToLower(d)
}

func hostOf(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Hostname())
}

// domainLimits holds a token-bucket limiter per destination domain. The
// set of domains is bounded by the registry and the webhook list.
type domainLimits struct {
	limit rate.Limit
	burst int
	mu    sync.Mutex
	by    map[string]*rate.Limiter
}

func newDomainLimits(perSecond float64, burst int) *domainLimits {
	l := &domainLimits{limit: rate.Limit(perSecond), burst: burst, by: map[string]*rate.Limiter{}}
	if perSecond < 0 {
		l.limit = rate.Inf
	}
	return l
}

// wait blocks until a delivery to domain is allowed or ctx ends.
func (l *domainLimits) wait(ctx context.Context, domain string) error {
	if l.limit == rate.Inf {
		return ctx.Err()
	}
	l.mu.Lock()
	lim, ok := l.by[domain]
	if !ok {
		lim = rate.NewLimiter(l.limit, l.burst)
		l.by[domain] = lim
	}
	l.mu.Unlock()
	if err := lim.Wait(ctx); err != nil {
		return fmt.Errorf("rate limit %s: %w", domain, err)
	}
	return nil
}
