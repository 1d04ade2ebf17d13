// Package notifier owns delivery: it turns findings into notices for the
// right people — the agency's contacts, and the supervising body's
// open-government office when an obligation is escalated — in their
// language, as immediate notices for severe transitions and as a daily
// digest on working days for the rest, by email (SMTP or an outbox
// directory) and by signed webhooks; and it makes sure that a crash, a
// restart, a redelivered finding or a second replica never sends the same
// notice twice.
//
// # How a finding becomes notices
//
// The findings consumer routes each finding (route.go) and records every
// notice it owes in the pending-notices bucket (events.BucketPendingNotices)
// before it acknowledges the finding: one entry per (kind, recipient,
// finding). A marker in the sent-ledger makes recording idempotent, so a
// finding delivered twice is recorded once. Senders work from the bucket,
// which every replica mirrors in memory with a key-value watcher:
// immediate notices and webhooks go out at once (with exponential back-off
// on temporary failures), digest items wait for the recipient's next digest
// (at Options.DigestAt local time, on working days of the recipient's
// calendar). An entry is deleted only after its notice is delivered and
// written to the sent-ledger.
//
// # Exactly once, and the window that remains
//
// Notice ids are deterministic: (finding, recipient) for an immediate
// notice, (finding, webhook URL) for a webhook, (recipient, date) for a
// digest. Before sending, a sender claims the id in the sent-ledger with an
// atomic create; a second replica sees the claim and backs off; a claim left
// by a crashed process is taken over after Options.ClaimTimeout. After the
// transport accepts the message the claim becomes "sent" (or "failed" for a
// permanent refusal). The Message-ID is derived from the notice id. The one
// window left is a crash after the SMTP server accepted a message and
// before the ledger write (one key-value put, a fraction of a millisecond;
// see docs/notifications.md for the measurement): the notice is sent again
// when the claim is taken over, with the same Message-ID. The outbox
// transport is idempotent by construction (one file per notice id).
package notifier

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/wneessen/go-mail"

	"github.com/gongkai/gongkai/pkg/events"
	"github.com/gongkai/gongkai/services/internal/calendar"
	"github.com/gongkai/gongkai/services/internal/registry"
)

// Source is the CloudEvents source of everything the notifier publishes.
const Source = "gongkai/notifier"

// DefaultNotify returns the states whose findings are notified (the
// routing table in docs/notifications.md): due soon, overdue, escalated,
// incomplete and published late, and the closing of a matter the agency
// was told about (satisfied, waived or not applicable after due soon,
// overdue, escalated or incomplete). Findings into not_due are never
// notified; unknown (gongkai could not read the site) is an operator
// matter, sent to webhooks only.
func DefaultNotify() []events.State {
	return []events.State{
		events.StateDueSoon, events.StateOverdue, events.StateEscalated, events.StateIncomplete,
		events.StateSatisfiedLate, events.StateSatisfied, events.StateWaived, events.StateNotApplicable,
	}
}

// Defaults of the options.
const (
	DefaultDigestAt     = "08:30"
	DefaultDomainRate   = 10.0 // messages per second per destination domain
	DefaultDomainBurst  = 20
	DefaultWorkers      = 4
	DefaultRetryBase    = 5 * time.Second
	DefaultRetryMax     = 10 * time.Minute
	DefaultClaimTimeout = 10 * time.Minute
	DefaultPoll         = time.Second
	DefaultSendTimeout  = 2 * time.Minute

	// recordWorkers is the number of findings recorded concurrently.
	recordWorkers = 8
)

// Options configures the notifier. Zero values take the defaults named on
// each field.
type Options struct {
	// JetStream is the connection to consume and publish on. Required.
	JetStream jetstream.JetStream
	// Topology is provisioned at start-up; default events.DefaultTopology().
	Topology events.Topology
	// Registry gives each agency's contacts and parent. Required.
	Registry *registry.Registry
	// Transport delivers email. Required (an *Outbox or *SMTP).
	Transport Transport
	// From is the sender address. Required.
	From string
	// DashboardURL, when set, links every notice to the dashboard's agency
	// page, DashboardURL + "/agencies/" + agency id.
	DashboardURL string

	// Notify lists the states whose findings are notified; default
	// DefaultNotify(). A finding into satisfied, waived or
	// not_applicable is notified only when it closes a matter that was
	// itself notified (from due_soon, overdue, escalated or incomplete).
	Notify []events.State
	// ImmediateSeverities are sent at once even to contacts in digest
	// mode (who also see them in their next digest); default critical.
	ImmediateSeverities []events.Severity
	// Roles selects the contact roles notified about their own agency;
	// empty means every role.
	Roles []string
	// SupervisorRoles selects the roles of the supervising body's contacts
	// notified of escalations; empty means every role. The supervising
	// body is the nearest ancestor (Parent chain) with such contacts.
	SupervisorRoles []string

	// DigestAt is the local time of the daily digest, "HH:MM" in the time
	// zone of the recipient's calendar (Asia/Shanghai for cn, New York for
	// us); default DefaultDigestAt. Digests go out on working days only.
	DigestAt string
	// Calendars maps a jurisdiction ("cn", "us") to its working-day
	// calendar; default calendar.Load("cn") and calendar.Load("us").
	// Recipients of an agency whose jurisdiction has no calendar use "cn".
	Calendars map[string]*calendar.Calendar
	// Location formats times when a calendar does not say; default
	// Asia/Shanghai.
	Location *time.Location

	// TemplateDir, when set, overrides the embedded templates file by file
	// (notice.zh.txt, notice.en.txt, notice.html, digest.zh.txt,
	// digest.en.txt, digest.html); missing files keep the default.
	TemplateDir string
	// Templates, when set, is used as is (TemplateDir is ignored).
	Templates *Templates

	// Webhooks receive a signed JSON POST per finding (see Webhook).
	Webhooks []Webhook
	// HTTPClient posts webhooks; default a client with a 15 s time-out.
	HTTPClient *http.Client

	// DomainRate limits deliveries per destination domain (the part of
	// the address after '@', or the webhook host), in messages per
	// second, with DomainBurst; default DefaultDomainRate and
	// DefaultDomainBurst. Negative disables the limit.
	DomainRate  float64
	DomainBurst int
	// Workers is the number of concurrent deliveries; default
	// DefaultWorkers.
	Workers int
	// RetryBase and RetryMax bound the exponential back-off after a
	// temporary failure; default DefaultRetryBase and DefaultRetryMax.
	RetryBase, RetryMax time.Duration
	// ClaimTimeout is how long (on the Now clock) a claim in the
	// sent-ledger protects a notice being sent by another process; after
	// it a claim is deemed left by a crash and taken over. Default
	// DefaultClaimTimeout; it must exceed SendTimeout.
	ClaimTimeout time.Duration
	// SendTimeout bounds one delivery attempt; default DefaultSendTimeout.
	SendTimeout time.Duration
	// Poll is how often (real time) retries and the digest schedule are
	// checked; default DefaultPoll.
	Poll time.Duration

	// Logger and Registerer are required; Now defaults to time.Now.
	Logger     *slog.Logger
	Registerer prometheus.Registerer
	Now        func() time.Time
}

// Service is the notifier runtime.
type Service struct {
	opts      Options
	log       *slog.Logger
	metrics   *metrics
	notify    map[events.State]bool
	immediate map[events.Severity]bool
	roles     map[string]bool
	supRoles  map[string]bool
	sched     schedule
	tpl       *Templates
	webhooks  map[string]Webhook
	claimant  string
	limits    *domainLimits
	sem       chan struct{}
	wake      chan struct{}
	mirror    *mirror

	mu      sync.Mutex
	ledger  jetstream.KeyValue
	pending jetstream.KeyValue
	ready   bool
	running context.Context // Run's context while it delivers

	flight inflight   // deliveries in progress
	digest sync.Mutex // held by the digest pass in progress
}

// New validates opts, fills in the defaults and returns a Service.
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
		opts.Notify = DefaultNotify()
	}
	if opts.ImmediateSeverities == nil {
		opts.ImmediateSeverities = []events.Severity{events.SeverityCritical}
	}
	for _, sv := range opts.ImmediateSeverities {
		switch sv {
		case events.SeverityInfo, events.SeverityWarning, events.SeverityCritical:
		default:
			return nil, fmt.Errorf("notifier: immediate severity %q, want info, warning or critical", sv)
		}
	}
	if opts.DigestAt == "" {
		opts.DigestAt = DefaultDigestAt
	}
	if opts.Calendars == nil {
		opts.Calendars = map[string]*calendar.Calendar{}
		for _, name := range []string{"cn", "us"} {
			c, err := calendar.Load(name)
			if err != nil {
				return nil, fmt.Errorf("notifier: %w", err)
			}
			opts.Calendars[name] = c
		}
	}
	if opts.Location == nil {
		loc, err := time.LoadLocation("Asia/Shanghai")
		if err != nil {
			return nil, fmt.Errorf("notifier: %w", err)
		}
		opts.Location = loc
	}
	sched, err := newSchedule(opts.DigestAt, opts.Calendars)
	if err != nil {
		return nil, fmt.Errorf("notifier: %w", err)
	}
	if opts.Templates == nil {
		t, err := LoadTemplates(opts.TemplateDir)
		if err != nil {
			return nil, fmt.Errorf("notifier: %w", err)
		}
		opts.Templates = t
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 15 * time.Second}
	}
	hooks := map[string]Webhook{}
	for _, wh := range opts.Webhooks {
		if err := wh.validate(); err != nil {
			return nil, fmt.Errorf("notifier: %w", err)
		}
		if _, dup := hooks[wh.URL]; dup {
			return nil, fmt.Errorf("notifier: webhook %s is listed twice", redactURL(wh.URL))
		}
		hooks[wh.URL] = wh
	}
	if opts.DomainRate == 0 {
		opts.DomainRate = DefaultDomainRate
	}
	if opts.DomainBurst <= 0 {
		opts.DomainBurst = DefaultDomainBurst
	}
	setDefault(&opts.Workers, DefaultWorkers)
	setDefault(&opts.RetryBase, DefaultRetryBase)
	setDefault(&opts.RetryMax, DefaultRetryMax)
	setDefault(&opts.ClaimTimeout, DefaultClaimTimeout)
	setDefault(&opts.SendTimeout, DefaultSendTimeout)
	setDefault(&opts.Poll, DefaultPoll)
	if opts.ClaimTimeout <= opts.SendTimeout {
		return nil, fmt.Errorf("notifier: claim timeout %v must exceed the send timeout %v", opts.ClaimTimeout, opts.SendTimeout)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	var id [6]byte
	if _, err := rand.Read(id[:]); err != nil {
		return nil, fmt.Errorf("notifier: claimant id: %w", err)
	}
	s := &Service{
		opts: opts, log: opts.Logger.With("service", "notifier"),
		notify: map[events.State]bool{}, immediate: map[events.Severity]bool{},
		roles: set(opts.Roles), supRoles: set(opts.SupervisorRoles), sched: sched,
		tpl: opts.Templates, webhooks: hooks, claimant: hex.EncodeToString(id[:]),
		limits: newDomainLimits(opts.DomainRate, opts.DomainBurst),
		sem:    make(chan struct{}, opts.Workers), wake: make(chan struct{}, 1),
		mirror: newMirror(),
	}
	for _, st := range opts.Notify {
		s.notify[st] = true
	}
	for _, sv := range opts.ImmediateSeverities {
		s.immediate[sv] = true
	}
	if err := s.tpl.check(); err != nil {
		return nil, fmt.Errorf("notifier: %w", err)
	}
	m, err := newMetrics(opts.Registerer, s)
	if err != nil {
		return nil, fmt.Errorf("notifier: %w", err)
	}
	s.metrics = m
	return s, nil
}

func setDefault[T comparable](p *T, def T) {
	var zero T
	if *p == zero {
		*p = def
	}
}

func set(xs []string) map[string]bool {
	if len(xs) == 0 {
		return nil
	}
	m := map[string]bool{}
	for _, x := range xs {
		m[x] = true
	}
	return m
}

// Ready reports whether the notifier has bound its buckets, loaded the
// pending notices and started consuming.
func (s *Service) Ready(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.ready {
		return errors.New("notifier: not started")
	}
	return nil
}

// Run provisions the topology, mirrors the pending notices, consumes
// findings and delivers notices until ctx is cancelled. On cancellation it
// stops consuming, starts no new delivery, and waits for the deliveries in
// progress to finish (each bounded by SendTimeout), so that a stop in the
// middle of a digest batch leaves every notice either sent and recorded or
// still pending.
func (s *Service) Run(ctx context.Context) error {
	js := s.opts.JetStream
	if err := events.Provision(ctx, js, s.opts.Topology); err != nil {
		return fmt.Errorf("notifier: %w", err)
	}
	ledger, err := js.KeyValue(ctx, events.BucketSentLedger)
	if err != nil {
		return fmt.Errorf("notifier: ledger: %w", err)
	}
	pending, err := js.KeyValue(ctx, events.BucketPendingNotices)
	if err != nil {
		return fmt.Errorf("notifier: pending notices: %w", err)
	}
	s.mu.Lock()
	s.ledger, s.pending = ledger, pending
	s.mu.Unlock()

	wctx, stopWatch := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWatch()
	synced, watchDone, err := s.watch(wctx, pending)
	if err != nil {
		return fmt.Errorf("notifier: %w", err)
	}
	select {
	case <-synced:
	case <-ctx.Done():
		stopWatch()
		<-watchDone
		return nil
	}

	cons, err := js.Consumer(ctx, events.StreamFindings, events.ConsumerNotifier)
	if err != nil {
		return fmt.Errorf("notifier: consumer: %w", err)
	}
	// Findings are recorded by a few goroutines at once (each is
	// independent; the digest orders by decision time), and the recording
	// in progress finishes even while the consumer drains.
	hctx := context.WithoutCancel(ctx)
	recorders := make(chan struct{}, recordWorkers)
	var recording sync.WaitGroup
	cc, err := cons.Consume(func(m jetstream.Msg) {
		recorders <- struct{}{}
		recording.Add(1)
		go func() {
			defer func() { <-recorders; recording.Done() }()
			s.handle(hctx, m)
		}()
	})
	if err != nil {
		return fmt.Errorf("notifier: consume: %w", err)
	}
	s.mu.Lock()
	s.ready, s.running = true, ctx
	s.mu.Unlock()
	s.log.Info("notifier started", "transport", s.opts.Transport.Channel(), "webhooks", len(s.webhooks),
		"digest_at", s.opts.DigestAt, "pending", s.mirror.size())

	tick := time.NewTicker(s.opts.Poll)
	defer tick.Stop()
	for ctx.Err() == nil {
		s.dispatch(ctx)
		// A digest pass runs beside the loop, so that immediate notices
		// keep going out while a batch of digests is being sent.
		if s.digest.TryLock() {
			s.flight.Add(1)
			go func() {
				defer s.flight.Done()
				defer s.digest.Unlock()
				s.runDigests(ctx)
			}()
		}
		select {
		case <-ctx.Done():
		case <-tick.C:
		case <-s.wake:
		}
	}
	cc.Drain()
	<-cc.Closed()
	recording.Wait()
	s.flight.Wait()
	if c, ok := s.opts.Transport.(interface{ CloseIdle() }); ok {
		c.CloseIdle()
	}
	stopWatch()
	<-watchDone
	s.mu.Lock()
	s.ready, s.running = false, nil
	s.mu.Unlock()
	s.log.Info("notifier stopped", "pending", s.mirror.size())
	return nil
}

// kick wakes the delivery loop without blocking.
func (s *Service) kick() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Digest runs the digests that are due at the current time (Options.Now)
// and returns when they are done. The delivery loop runs the same pass
// every Poll; tests and tools call Digest after moving the clock. Digests already sent
// today are not sent again. It does nothing unless Run is delivering, and
// starts no new digest once Run's context ends.
func (s *Service) Digest(ctx context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s.mu.Lock()
	run := s.running
	s.mu.Unlock()
	if run == nil {
		return
	}
	stop := context.AfterFunc(run, cancel) // a stopping service starts no new digest
	defer stop()
	s.digest.Lock()
	s.runDigests(ctx)
	s.digest.Unlock()
	s.flight.Wait()
}

// Backlog reports what the notifier still owes at the current time
// (Options.Now): immediate notices and webhooks not yet delivered, and
// digest items whose digest is due; digest items waiting for a later digest
// are counted in Waiting.
type Backlog struct {
	Due, Waiting int
}

// Backlog returns the current backlog, from the in-memory mirror of the
// pending-notices bucket.
func (s *Service) Backlog() Backlog {
	now := s.opts.Now()
	var b Backlog
	s.mirror.each(func(it *item) {
		if it.p.Kind != kindDigest || !s.effectiveDue(it).After(now) {
			b.Due++
			return
		}
		b.Waiting++
	})
	return b
}

// WaitIdle waits until nothing is due (Backlog().Due == 0) or ctx ends.
func (s *Service) WaitIdle(ctx context.Context) error {
	for {
		if s.Backlog().Due == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("notifier: wait idle: %d notices due: %w", s.Backlog().Due, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// inflight counts deliveries in progress. Unlike a sync.WaitGroup it may be
// waited on while deliveries are being added.
type inflight struct {
	mu   sync.Mutex
	n    int
	zero chan struct{} // closed when n is 0
}

func (f *inflight) Add(d int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.zero == nil {
		f.zero = make(chan struct{})
		close(f.zero)
	}
	if f.n == 0 && d > 0 {
		f.zero = make(chan struct{})
	}
	f.n += d
	if f.n == 0 {
		close(f.zero)
	}
}

func (f *inflight) Done() { f.Add(-1) }

// Wait returns when no delivery is in progress.
func (f *inflight) Wait() {
	f.mu.Lock()
	z := f.zero
	f.mu.Unlock()
	if z != nil {
		<-z
	}
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
