// Package notifier owns delivery: it turns findings into email notices for
// the agency's contacts, and keeps a sent-ledger so that a crash or a
// redelivered finding never sends the same notice twice.
//
// Exactly-once, and the window that remains: for each (finding, recipient)
// the notice id is deterministic; the ledger is consulted before sending and
// written right after the transport accepts the message; the Message-ID is
// derived from the notice id. A crash after the SMTP server accepted a
// message and before the ledger write (one key-value put, milliseconds)
// sends that one message again on restart — with the same Message-ID, so
// mail clients that de-duplicate by Message-ID show it once. The outbox
// transport is idempotent by construction (one file per notice id).
package notifier

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/wneessen/go-mail"

	"github.com/gongkai/gongkai/pkg/events"
	"github.com/gongkai/gongkai/services/internal/registry"
)

// Source is the CloudEvents source of everything the notifier publishes.
const Source = "gongkai/notifier"

// DefaultNotify lists the states whose findings are sent to agencies.
// Findings into not_due and satisfied are recorded but not mailed; unknown
// (gongkai could not read the site) is an operator matter, not the
// agency's.
var DefaultNotify = []events.State{
	events.StateDueSoon, events.StateOverdue, events.StateEscalated,
	events.StateIncomplete, events.StateSatisfiedLate,
}

// Options configures the notifier.
type Options struct {
	// JetStream is the connection to consume and publish on. Required.
	JetStream jetstream.JetStream
	// Topology is provisioned at start-up; default events.DefaultTopology().
	Topology events.Topology
	// Registry gives each agency's contacts. Required.
	Registry *registry.Registry
	// Transport delivers messages. Required (an *Outbox or *SMTP).
	Transport Transport
	// From is the sender address. Required.
	From string
	// DashboardURL, when set, links each notice to the agency's page.
	DashboardURL string
	// Notify lists the states that are mailed; default DefaultNotify.
	Notify []events.State
	// Location formats times; default Asia/Shanghai.
	Location *time.Location
	// Templates renders notices; default DefaultTemplates().
	Templates *Templates
	// Logger and Registerer are required; Now defaults to time.Now.
	Logger     *slog.Logger
	Registerer prometheus.Registerer
	Now        func() time.Time
}

// Service is the notifier runtime.
type Service struct {
	opts    Options
	log     *slog.Logger
	metrics *metrics
	notify  map[events.State]bool

	mu     sync.Mutex
	ledger jetstream.KeyValue
}

// New validates opts and returns a Service.
func New(opts Options) (*Service, error) {
	if opts.JetStream == nil || opts.Registry == nil || opts.Transport == nil {
		return nil, errors.New("notifier: JetStream, Registry and Transport are required")
	}
	if opts.Logger == nil || opts.Registerer == nil {
		return nil, errors.New("notifier: Logger and Registerer are required")
	}
	if err := mail.NewMsg().From(opts.From); err != nil || opts.From == "" {
		return nil, fmt.Errorf("notifier: from address %q is not valid", opts.From)
	}
	if opts.Topology.Replicas == 0 {
		opts.Topology = events.DefaultTopology()
	}
	if opts.Notify == nil {
		opts.Notify = DefaultNotify
	}
	if opts.Location == nil {
		loc, err := time.LoadLocation("Asia/Shanghai")
		if err != nil {
			return nil, fmt.Errorf("notifier: %w", err)
		}
		opts.Location = loc
	}
	if opts.Templates == nil {
		t, err := DefaultTemplates()
		if err != nil {
			return nil, err
		}
		opts.Templates = t
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, fmt.Errorf("notifier: %w", err)
	}
	s := &Service{opts: opts, log: opts.Logger.With("service", "notifier"), metrics: m, notify: map[events.State]bool{}}
	for _, st := range opts.Notify {
		s.notify[st] = true
	}
	return s, nil
}

// Ready reports whether the notifier has bound its ledger.
func (s *Service) Ready(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ledger == nil {
		return errors.New("notifier: not started")
	}
	return nil
}

// Run provisions the topology and consumes findings until ctx is cancelled;
// the notice in progress finishes first.
func (s *Service) Run(ctx context.Context) error {
	js := s.opts.JetStream
	if err := events.Provision(ctx, js, s.opts.Topology); err != nil {
		return fmt.Errorf("notifier: %w", err)
	}
	kv, err := js.KeyValue(ctx, events.BucketSentLedger)
	if err != nil {
		return fmt.Errorf("notifier: ledger: %w", err)
	}
	s.mu.Lock()
	s.ledger = kv
	s.mu.Unlock()
	cons, err := js.Consumer(ctx, events.StreamFindings, events.ConsumerNotifier)
	if err != nil {
		return fmt.Errorf("notifier: consumer: %w", err)
	}
	cc, err := cons.Consume(func(m jetstream.Msg) { s.handle(ctx, m) })
	if err != nil {
		return fmt.Errorf("notifier: consume: %w", err)
	}
	s.log.Info("notifier started", "transport", s.opts.Transport.Channel())
	<-ctx.Done()
	cc.Drain()
	<-cc.Closed()
	return nil
}

// NoticeID returns the deterministic id of the notice of one finding to one
// recipient.
func NoticeID(findingID, recipient string) string {
	sum := sha256.Sum256([]byte(findingID + "\x00" + recipient))
	return "n-" + hex.EncodeToString(sum[:12])
}

// ledgerEntry is the value stored in the sent-ledger.
type ledgerEntry struct {
	Channel   string    `json:"channel"`
	Outcome   string    `json:"outcome"`
	MessageID string    `json:"message_id"`
	At        time.Time `json:"at"`
	Error     string    `json:"error,omitempty"`
}

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
	if !s.notify[f.To] {
		_ = m.Ack()
		return
	}
	agency, ok := s.opts.Registry.Get(f.AgencyID)
	if !ok || len(agency.Contacts) == 0 {
		s.metrics.noRecipient.Inc()
		s.log.Warn("finding has no recipient", "agency", f.AgencyID, "finding", ev.ID)
		_ = m.Ack()
		return
	}
	var temporary error
	for _, c := range agency.Contacts {
		if err := s.deliver(ctx, ev.ID, f, c); err != nil {
			var te *TemporaryError
			if errors.As(err, &te) {
				temporary = err
				continue
			}
			s.log.Error("notice failed permanently", "agency", f.AgencyID, "recipient", c.Email, "err", err)
		}
	}
	if temporary != nil {
		md, _ := m.Metadata()
		delay := backoff(md)
		s.log.Warn("delivery postponed", "agency", f.AgencyID, "retry_in", delay, "err", temporary)
		_ = m.NakWithDelay(delay)
		return
	}
	_ = m.Ack()
}

// backoff doubles the redelivery delay from 5 s up to 10 minutes.
func backoff(md *jetstream.MsgMetadata) time.Duration {
	n := uint64(1)
	if md != nil {
		n = md.NumDelivered
	}
	d := 5 * time.Second << min(n-1, 7)
	return min(d, 10*time.Minute)
}

// deliver sends one notice unless the ledger says it was sent.
func (s *Service) deliver(ctx context.Context, findingID string, f events.Finding, c registry.Contact) error {
	id := NoticeID(findingID, c.Email)
	if _, err := s.ledger.Get(ctx, id); err == nil {
		s.metrics.skipped.Inc()
		return nil
	} else if !errors.Is(err, jetstream.ErrKeyNotFound) {
		return &TemporaryError{fmt.Errorf("ledger get %s: %w", id, err)}
	}
	link := ""
	if s.opts.DashboardURL != "" {
		link = s.opts.DashboardURL + "/agencies/" + f.AgencyID
	}
	rendered, err := s.opts.Templates.Render(f, c.Lang, link, s.opts.Location)
	if err != nil {
		return fmt.Errorf("render %s: %w", id, err)
	}
	msgID := id + "@gongkai"
	msg := mail.NewMsg()
	if err := msg.From(s.opts.From); err != nil {
		return fmt.Errorf("from: %w", err)
	}
	if err := msg.To(c.Email); err != nil {
		return fmt.Errorf("to %q: %w", c.Email, err)
	}
	msg.Subject(rendered.Subject)
	msg.SetMessageIDWithValue(msgID)
	msg.SetDateWithValue(s.opts.Now())
	msg.SetGenHeader("X-Gongkai-Notice", id)
	msg.SetBodyString(mail.TypeTextPlain, rendered.Text)
	msg.AddAlternativeString(mail.TypeTextHTML, rendered.HTML)

	sendErr := s.opts.Transport.Send(ctx, id, msg)
	now := s.opts.Now()
	entry := ledgerEntry{Channel: s.opts.Transport.Channel(), Outcome: "sent", MessageID: "<" + msgID + ">", At: now}
	if sendErr != nil {
		var te *TemporaryError
		if errors.As(sendErr, &te) {
			s.metrics.deliveries.WithLabelValues(s.opts.Transport.Channel(), "temporary_failure").Inc()
			return sendErr
		}
		s.metrics.deliveries.WithLabelValues(s.opts.Transport.Channel(), "permanent_failure").Inc()
		entry.Outcome, entry.Error = "failed", sendErr.Error()
	} else {
		s.metrics.deliveries.WithLabelValues(s.opts.Transport.Channel(), "sent").Inc()
	}
	body, _ := json.Marshal(entry)
	if _, err := s.ledger.Put(ctx, id, body); err != nil {
		// The message went out; failing here would send it again. Log it
		// loudly: this is the documented window.
		s.log.Error("ledger write failed after delivery", "notice", id, "err", err)
	}
	notice := events.Notice{
		ID: id, AgencyID: f.AgencyID, Channel: entry.Channel, Recipient: c.Email, Subject: rendered.Subject,
		MessageID: entry.MessageID, Findings: []string{findingID}, SentAt: now, Outcome: entry.Outcome, Error: entry.Error,
	}
	if ev, err := events.New(Source, id, f.AgencyID, now, notice); err == nil {
		if _, err := events.Publish(ctx, s.opts.JetStream, events.NoticeSubject(f.AgencyID), ev); err != nil {
			s.log.Warn("publish notice record", "notice", id, "err", err)
		}
	}
	return sendErr
}
