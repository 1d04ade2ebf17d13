// Package checker owns obligation state. It applies the rule packs to
// observations and to a daily clock tick, keeps the state of every
// (agency, obligation, period) instance in a JetStream key-value bucket, and
// publishes a finding on every state transition — and only then, with a
// message id derived from the state it replaces, so that nothing is
// announced twice even when two checkers race or a message is redelivered.
package checker

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/robfig/cron/v3"

	"github.com/gongkai/gongkai/pkg/events"
	"github.com/gongkai/gongkai/services/checker/internal/view"
	"github.com/gongkai/gongkai/services/internal/evidence"
	"github.com/gongkai/gongkai/services/internal/registry"
)

// Source is the CloudEvents source of everything the checker publishes.
const Source = "gongkai/checker"

// Options configures the checker.
type Options struct {
	// JetStream is the connection to consume and publish on. Required.
	JetStream jetstream.JetStream
	// Topology is provisioned at start-up; default events.DefaultTopology().
	Topology events.Topology
	// Registry lists the agencies. Required.
	Registry *registry.Registry
	// Rules gives the obligations that apply to an agency. Required.
	Rules Rules
	// Concurrency is the number of observations evaluated at once; default
	// 32. Observations of one agency are always evaluated in order, by the
	// same worker.
	Concurrency int
	// FailureThreshold is the number of consecutive failed looks after
	// which a known instance becomes unknown; default 3.
	FailureThreshold int
	// TickSchedule is the cron expression of the daily clock tick, in
	// Location; default "5 0 * * *" (00:05). NoTick disables it.
	TickSchedule string
	NoTick       bool
	// Location is the time zone of the tick; default Asia/Shanghai.
	Location *time.Location
	// DashboardToken, when set, protects the read API and dashboard
	// (bearer token, or the password of basic auth).
	DashboardToken string
	// Logger and Registerer are required; Now defaults to time.Now.
	Logger     *slog.Logger
	Registerer prometheus.Registerer
	Now        func() time.Time
}

// Service is the checker runtime.
type Service struct {
	opts    Options
	log     *slog.Logger
	metrics *metrics

	view     *view.View
	viewRev  atomic.Uint64 // the last bucket revision the watch delivered
	viewSync viewSync

	ev atomic.Pointer[evidence.Store]

	// findingPub publishes findings, and states writes instances' states
	// (writeAsync; nil when they go through the bucket's API), without
	// waiting for the server.
	findingPub, states *asyncPublisher
	// observing counts observations whose writes are in flight.
	observing sync.WaitGroup

	unsentMu sync.Mutex
	unsent   map[string]*Outbox
	// uncertain holds transitions whose state write went unanswered, by
	// finding id (see uncertain.go).
	uncertain map[string]uncertainWrite
	recover   []Instance // instances with a recent outbox entry found at start-up, republished once loaded

	mu sync.Mutex
	kv jetstream.KeyValue
	// wrapKV, set only by tests (export_test.go), stands between the
	// checker and its bucket to inject faults such as a lost reply.
	wrapKV func(jetstream.KeyValue) jetstream.KeyValue
}

// New validates opts and returns a Service.
func New(opts Options) (*Service, error) {
	if opts.JetStream == nil || opts.Registry == nil || opts.Rules == nil {
		return nil, errors.New("checker: JetStream, Registry and Rules are required")
	}
	if opts.Logger == nil || opts.Registerer == nil {
		return nil, errors.New("checker: Logger and Registerer are required")
	}
	if opts.Topology.Replicas == 0 {
		opts.Topology = events.DefaultTopology()
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 32
	}
	if opts.FailureThreshold <= 0 {
		opts.FailureThreshold = 3
	}
	if opts.TickSchedule == "" {
		opts.TickSchedule = "5 0 * * *"
	}
	if _, err := cron.ParseStandard(opts.TickSchedule); err != nil {
		return nil, fmt.Errorf("checker: tick schedule %q: %w", opts.TickSchedule, err)
	}
	if opts.Location == nil {
		loc, err := time.LoadLocation("Asia/Shanghai")
		if err != nil {
			return nil, fmt.Errorf("checker: %w", err)
		}
		opts.Location = loc
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, fmt.Errorf("checker: %w", err)
	}
	s := &Service{opts: opts, log: opts.Logger.With("service", "checker"), metrics: m, view: view.New(),
		unsent: map[string]*Outbox{}, uncertain: map[string]uncertainWrite{}}
	if err := s.publishers(0); err != nil {
		return nil, fmt.Errorf("checker: %w", err)
	}
	s.viewSync.epoch = time.Now()
	s.viewSync.asOf.Store(-int64(viewMaxLag)) // not current until a probe says so
	if err := opts.Registerer.Register(newStateCollector(s)); err != nil {
		return nil, fmt.Errorf("checker: %w", err)
	}
	return s, nil
}

// Ready reports whether the checker has bound its bucket.
func (s *Service) Ready(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.kv == nil {
		return errors.New("checker: not started")
	}
	return nil
}

// Run provisions the topology and consumes observations and ticks until ctx
// is cancelled; in-flight messages finish first.
func (s *Service) Run(ctx context.Context) error {
	js := s.opts.JetStream
	if err := events.Provision(ctx, js, s.opts.Topology); err != nil {
		return startFailed(ctx, fmt.Errorf("checker: %w", err))
	}
	kv, err := js.KeyValue(ctx, events.BucketObligations)
	if err != nil {
		return startFailed(ctx, fmt.Errorf("checker: bucket %s: %w", events.BucketObligations, err))
	}
	if s.wrapKV != nil {
		kv = s.wrapKV(kv)
		s.states = nil // writes go through the wrapper
	}
	// The view loads the bucket before the checker consumes, so the read
	// API and the tick start from the full state.
	wctx, wcancel := context.WithCancel(context.Background())
	loaded := make(chan struct{})
	watchDone := make(chan error, 1)
	go func() { watchDone <- s.watchView(wctx, kv, loaded) }()
	probeDone := make(chan struct{})
	go func() {
		defer close(probeDone)
		s.probeView(wctx, kv)
	}()
	defer func() {
		wcancel()
		<-watchDone
		<-probeDone
	}()
	select {
	case <-loaded:
	case err := <-watchDone:
		watchDone <- err // for the deferred wait
		return fmt.Errorf("checker: %w", err)
	case <-ctx.Done():
		return nil
	}
	s.log.Info("state loaded", "instances", s.view.Len(), "recovering", len(s.recover))
	rctx, rcancel := context.WithCancel(context.Background())
	resendDone := make(chan struct{})
	recovering := s.rebuild(s.recover)
	s.recover = nil
	go func() {
		defer close(resendDone)
		s.recoverOutbox(rctx, recovering)
		s.resend(rctx)
	}()
	defer func() {
		select { // findings published and not yet acknowledged
		case <-s.findingPub.complete():
		case <-time.After(2 * publishAckTimeout):
		}
		rcancel()
		<-resendDone
	}()
	s.mu.Lock()
	s.kv = kv
	s.mu.Unlock()

	obsCons, err := js.Consumer(ctx, events.StreamObservations, events.ConsumerChecker)
	if err != nil {
		return startFailed(ctx, fmt.Errorf("checker: consumer: %w", err))
	}
	tickCons, err := js.Consumer(ctx, events.StreamTicks, events.ConsumerCheckerTicks)
	if err != nil {
		return startFailed(ctx, fmt.Errorf("checker: tick consumer: %w", err))
	}
	// Observations are spread over workers by agency (the subject's last
	// token), so one agency's observations stay in order while different
	// agencies' round trips to the server overlap.
	lanes := make([]chan jetstream.Msg, s.opts.Concurrency)
	var lanesDone sync.WaitGroup
	for i := range lanes {
		lanes[i] = make(chan jetstream.Msg, 64)
		lanesDone.Add(1)
		go func() {
			defer lanesDone.Done()
			s.lane(context.WithoutCancel(ctx), lanes[i]) // a message taken before shutdown is finished, not dropped
		}()
	}
	defer func() {
		for _, l := range lanes {
			close(l)
		}
		lanesDone.Wait()
		s.observing.Wait() // the last writes answered (or timed out)
	}()
	obsCC, err := obsCons.Consume(func(m jetstream.Msg) {
		h := fnv.New32a()
		_, _ = h.Write([]byte(m.Subject()))
		lanes[h.Sum32()%uint32(len(lanes))] <- m
	}, jetstream.PullMaxMessages(256))
	if err != nil {
		return startFailed(ctx, fmt.Errorf("checker: consume observations: %w", err))
	}
	tickCC, err := tickCons.Consume(func(m jetstream.Msg) { s.handleTick(context.WithoutCancel(ctx), m) })
	if err != nil {
		obsCC.Stop()
		return startFailed(ctx, fmt.Errorf("checker: consume ticks: %w", err))
	}
	var scheds []*cron.Cron
	if !s.opts.NoTick {
		// One tick a day in each zone where deadlines end: a FOIA deadline
		// at midnight in New York is seen at 00:05 there, not eleven
		// hours later at 00:05 in Beijing.
		for _, zone := range s.TickZones() {
			sched := cron.New(cron.WithLocation(zone))
			if _, err := sched.AddFunc(s.opts.TickSchedule, func() {
				if err := s.PublishTickIn(ctx, s.opts.Now(), zone); err != nil {
					s.log.Error("publish tick", "zone", zone.String(), "err", err)
				}
			}); err != nil {
				return fmt.Errorf("checker: tick schedule: %w", err)
			}
			sched.Start()
			scheds = append(scheds, sched)
		}
	}
	s.log.Info("checker started")
	<-ctx.Done()
	for _, sched := range scheds {
		<-sched.Stop().Done()
	}
	// Drain: stop pulling, let the handlers in progress finish.
	obsCC.Drain()
	tickCC.Drain()
	<-obsCC.Closed()
	<-tickCC.Closed()
	return nil // the deferred steps wait for the lanes, then for pending publishes
}

// startFailed is Run's result for a step of its start-up that failed: nil
// when the failure is the stop asked for (ctx cancelled, as a stop right
// after Ready may be), err otherwise.
func startFailed(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// PublishTick publishes the daily tick for the date of at in the checker's
// zone (Options.Location).
func (s *Service) PublishTick(ctx context.Context, at time.Time) error {
	return s.PublishTickIn(ctx, at, s.opts.Location)
}

// PublishTickIn publishes the daily tick for the date of at in zone. Its
// message id is the date (with the zone's name, for a zone other than the
// checker's), so every checker replica may publish it and the clock still
// advances once a day in each zone.
func (s *Service) PublishTickIn(ctx context.Context, at time.Time, zone *time.Location) error {
	date := at.In(zone).Format(events.DateLayout)
	id := "tick-" + date
	if zone.String() != s.opts.Location.String() {
		id += "@" + zone.String()
	}
	ev, err := events.New(Source, id, "daily", s.opts.Now(), events.Tick{Date: date, At: at})
	if err != nil {
		return err
	}
	_, err = events.Publish(ctx, s.opts.JetStream, events.TickSubject, ev)
	return err
}

// TickZones returns the zones the daily tick runs in: the checker's, then
// those of the rules that apply to an agency of the registry, where their
// deadlines end (New York with a US agency). Called once, at start-up.
func (s *Service) TickZones() []*time.Location {
	zones := []*time.Location{s.opts.Location}
	seen := map[string]bool{s.opts.Location.String(): true}
	now := s.opts.Now()
	for i := range s.opts.Registry.Agencies {
		for _, r := range s.opts.Rules.For(&s.opts.Registry.Agencies[i], now) {
			if z := r.Location; z != nil && !seen[z.String()] {
				seen[z.String()] = true
				zones = append(zones, z)
			}
		}
	}
	return zones
}

func (s *Service) term(m jetstream.Msg, kind, reason string) {
	s.metrics.terminated.WithLabelValues(kind).Inc()
	s.log.Warn("message terminated", "kind", kind, "reason", reason)
	_ = m.TermWithReason(reason)
}

// agency returns the registry's agency id, or terminates m (a message of
// kind) when the registry has no such agency.
func (s *Service) agency(m jetstream.Msg, kind, id string) (*registry.Agency, bool) {
	a, ok := s.opts.Registry.Get(id)
	if !ok {
		s.term(m, kind, fmt.Sprintf("agency %q is not in the registry", id))
	}
	return a, ok
}

// civilLocation is the time zone in which an instance's civil dates are
// read and written: its pack's, where its deadlines are defined (a US
// agency's report or answer dated 2026-02-02 is late for a deadline at the
// end of 2026-02-01 in New York, although 2026-02-02 00:00 in Beijing is
// still February 1 there); the checker's for a rule without one.
func (s *Service) civilLocation(r Rule) *time.Location {
	if r.Location != nil {
		return r.Location
	}
	return s.opts.Location
}

// lane evaluates the observations it is given in order. Their state writes
// are pipelined (evaluateAsync): the lane moves on to the next observation
// while the server answers, except that an observation of an agency whose
// previous observation is still being written waits for it, so that each is
// evaluated on the state the previous one left.
func (s *Service) lane(ctx context.Context, msgs <-chan jetstream.Msg) {
	writing := map[string]<-chan struct{}{} // by subject (agency)
	sweepAt := 256
	for m := range msgs {
		subj := m.Subject()
		if ch, ok := writing[subj]; ok {
			<-ch
			delete(writing, subj)
		}
		if ch := s.handleObservation(ctx, m); ch != nil {
			writing[subj] = ch
		}
		if len(writing) >= sweepAt { // forget the observations done
			for k, ch := range writing {
				select {
				case <-ch:
					delete(writing, k)
				default:
				}
			}
			sweepAt = max(256, 2*len(writing))
		}
	}
}

// handleObservation evaluates an observation. It returns nil when it is
// done with it, or a channel closed once the observation's state writes
// are answered and it is acknowledged (or, on an error, redelivered later).
func (s *Service) handleObservation(ctx context.Context, m jetstream.Msg) <-chan struct{} {
	obs, ok, err := decodeObservation(m.Data())
	if !ok { // not an observation, or malformed: decode it the general way
		var ev events.Event
		if ev, err = events.Unmarshal(m.Data()); err != nil {
			s.term(m, "observation", err.Error())
			return nil
		}
		if ev.Type == events.TypeRequests {
			s.handleRequests(ctx, m, ev)
			return nil
		}
		obs, err = events.Decode[events.Observation](ev)
	}
	if err != nil {
		s.term(m, "observation", err.Error())
		return nil
	}
	agency, ok := s.agency(m, "observation", obs.AgencyID)
	if !ok {
		return nil
	}
	now := s.opts.Now()
	o := &observed{s: s, m: m, agency: obs.AgencyID, done: make(chan struct{})}
	o.pending.Store(1) // the loop below, until it has sent every write
	s.observing.Add(1)
	for _, r := range s.opts.Rules.For(agency, now) {
		for _, period := range r.Periods(now) {
			f, ok := factsFor(obs, r, period)
			if !ok {
				continue
			}
			o.pending.Add(1)
			s.evaluateAsync(ctx, agency, r, period, f, now, o.evaluated)
		}
	}
	o.evaluated(nil)
	select {
	case <-o.done: // nothing was written (an unchanged audit): nothing to wait for
		return nil
	default:
		return o.done
	}
}

// observed is an observation whose evaluations are in progress.
type observed struct {
	s       *Service
	m       jetstream.Msg
	agency  string
	pending atomic.Int32
	mu      sync.Mutex
	errs    []error
	done    chan struct{}
}

// evaluated records the outcome of one of the observation's evaluations;
// after the last, the observation is acknowledged, or redelivered shortly
// when one failed.
func (o *observed) evaluated(err error) {
	if err != nil {
		o.mu.Lock()
		o.errs = append(o.errs, err)
		o.mu.Unlock()
	}
	if o.pending.Add(-1) > 0 {
		return
	}
	s := o.s
	s.metrics.observations.Inc()
	o.mu.Lock()
	err = errors.Join(o.errs...)
	o.mu.Unlock()
	if err != nil {
		// KV and publish failures are transient: try again shortly.
		s.log.Warn("evaluate observation", "agency", o.agency, "err", err)
		_ = o.m.NakWithDelay(5 * time.Second)
	} else {
		_ = o.m.Ack()
	}
	close(o.done)
	s.observing.Done()
}

func (s *Service) handleTick(ctx context.Context, m jetstream.Msg) {
	ev, err := events.Unmarshal(m.Data())
	if err != nil {
		s.term(m, "tick", err.Error())
		return
	}
	tick, err := events.Decode[events.Tick](ev)
	if err != nil {
		s.term(m, "tick", err.Error())
		return
	}
	n, err := s.Tick(ctx, tick.At)
	if err != nil {
		s.log.Warn("tick", "date", tick.Date, "err", err)
		_ = m.NakWithDelay(time.Minute)
		return
	}
	s.metrics.ticks.Inc()
	s.log.Info("clock tick evaluated", "date", tick.Date, "instances", n)
	_ = m.Ack()
}

// Tick re-evaluates on the clock alone, at the time at, every instance the
// clock can move (not due, due soon, overdue), and returns how many it
// looked at. Deadline moments are recomputed from the rules, so only the
// instances whose state actually changes touch the bucket.
func (s *Service) Tick(ctx context.Context, at time.Time) (int, error) {
	if err := s.syncView(ctx); err != nil {
		return 0, err
	}
	var cands []view.Instance
	s.view.Each(func(in view.Instance) bool {
		switch in.State {
		case events.StateNotDue, events.StateDueSoon, events.StateOverdue:
			cands = append(cands, in)
		case events.StateSatisfied:
			// A fresh column goes stale on the clock alone.
			if in.Period == CurrentPeriod && in.DueAt.Unix() > 0 && at.After(in.DueAt) {
				cands = append(cands, in)
			}
		}
		return true
	})
	var errs []error
	for _, in := range cands {
		agency, ok := s.opts.Registry.Get(in.AgencyID)
		if !ok {
			continue // agency removed from the registry: its history stays
		}
		r, ok := s.opts.Rules.Lookup(agency, in.PackID, in.ObligationID)
		if !ok {
			continue
		}
		if !r.Kind.Continuous() {
			clk, _, err := r.Clock(in.Period, agency, s.clockEvent(r, in.DueAt))
			if errors.Is(err, ErrTriggerUnknown) {
				continue
			}
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if clk.clockState(at) == in.State {
				continue
			}
		}
		if err := s.evaluate(ctx, agency, r, in.Period, Facts{Look: LookNone, ClockEvent: s.clockEvent(r, in.DueAt)}, at); err != nil {
			errs = append(errs, err)
		}
	}
	return len(cands), errors.Join(errs...)
}

// factsFor extracts what an observation says about one instance; ok is
// false when the observation did not look at what the rule judges.
func factsFor(obs events.Observation, r Rule, period string) (Facts, bool) {
	if obs.Outcome != events.OutcomeOK {
		return Facts{Look: LookFailed, Error: obs.Error}, true
	}
	switch r.Kind {
	case KindBlank:
		n, looked := 0, 0
		var names []string
		for _, c := range obs.Columns {
			if c.Outcome == events.OutcomeOK {
				looked++
				if c.Blank {
					n++
					names = append(names, c.Key)
				}
			}
		}
		if looked == 0 {
			return Facts{}, false
		}
		note := fmt.Sprintf("%d blank of %d columns read %v (limit %d)", n, looked, names, r.Threshold)
		if n >= r.Threshold {
			return Facts{Look: LookAbsent, Note: note, Evidence: nonEmpty(obs.HomeEvidence)}, true
		}
		return Facts{Look: LookFound, Note: note, Evidence: nonEmpty(obs.HomeEvidence)}, true
	case KindFresh:
		if r.Column == ColumnHomepage {
			return Facts{Look: LookFound, PublishedOn: obs.HomeNewest, URL: obs.Site, Evidence: nonEmpty(obs.HomeEvidence)}, true
		}
	}
	col, ok := obs.Column(r.Column)
	if !ok {
		return Facts{}, false
	}
	switch col.Outcome {
	case events.OutcomeOK:
	case events.OutcomeNotFound:
		if r.Kind == KindFresh {
			return Facts{}, false // a missing column is the presence rule's finding
		}
		// The section was read and has no such column: a successful look.
		return Facts{Look: LookAbsent, Evidence: nonEmpty(obs.HomeEvidence), Note: col.Error}, true
	default:
		return Facts{Look: LookFailed, Error: col.Error}, true
	}
	switch r.Kind {
	case KindPresent:
		if col.Blank {
			return Facts{Look: LookBlank, URL: col.URL, Evidence: nonEmpty(col.Evidence)}, true
		}
		return Facts{Look: LookFound, URL: col.URL, Evidence: nonEmpty(col.Evidence)}, true
	case KindFresh:
		return Facts{Look: LookFound, PublishedOn: col.Newest, URL: col.URL, Evidence: nonEmpty(col.Evidence)}, true
	}
	for _, it := range col.Items {
		if r.Matches(it, period) {
			return Facts{Look: LookFound, PublishedOn: it.Date, URL: it.URL, Text: it.Text, Budget: it.Budget,
				Evidence: nonEmpty(col.Evidence, it.Evidence, it.Text)}, true
		}
	}
	return Facts{Look: LookAbsent, URL: col.URL, Evidence: nonEmpty(col.Evidence)}, true
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

func (s *Service) load(ctx context.Context, key string) (*Instance, uint64, error) {
	e, err := s.kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("get %s: %w", key, err)
	}
	var inst Instance
	if err := decodeInstance(e.Value(), &inst); err != nil {
		return nil, 0, fmt.Errorf("decode %s: %w", key, err)
	}
	return &inst, e.Revision(), nil
}

// stateWrite is one planned write of an instance's state: the new state
// encoded, compare-and-set on the revision it replaces.
type stateWrite struct {
	key     string
	next    Instance
	body    []byte
	rev     uint64 // the revision replaced; 0 creates the instance
	create  bool
	changed bool // a transition: next.Outbox holds its finding
	pw      *pendingWrite
}

// evaluate applies facts to one instance under optimistic concurrency. The
// instance's state comes from the view (viewstate.go), or from the bucket
// when the view cannot vouch for it. A transition writes the new state with
// its finding in the outbox, compare-and-set on the revision it replaces,
// and publishes the finding (message id derived from the key, that revision
// and the new state) only after the write succeeded; if another checker
// wrote first, nothing was published and the instance is evaluated again
// on its stored state.
func (s *Service) evaluate(ctx context.Context, a *registry.Agency, r Rule, period string, f Facts, now time.Time) error {
	return s.evaluateFrom(ctx, a, r, period, f, now, false)
}

// evaluateFrom is evaluate; read makes the first attempt read the instance
// from the bucket rather than the view.
func (s *Service) evaluateFrom(ctx context.Context, a *registry.Agency, r Rule, period string, f Facts, now time.Time, read bool) error {
	for attempt := 0; attempt < 5; attempt++ {
		w, err := s.plan(ctx, a, r, period, f, now, read || attempt > 0)
		if err != nil || w == nil {
			return err
		}
		rev, err := s.put(ctx, w)
		if retry, err := s.wrote(w, rev, err); !retry {
			return err
		}
	}
	return fmt.Errorf("write %s: too many concurrent updates", Key(a.ID, r.PackID, r.ObligationID, period))
}

// evaluateAsync is evaluate with the state write pipelined: it returns once
// the write is sent, and done is called with the outcome when the server
// has answered (in the client library's callback: done must not block). A
// write that loses its compare-and-set is evaluated again from the bucket,
// synchronously, in a goroutine of its own.
func (s *Service) evaluateAsync(ctx context.Context, a *registry.Agency, r Rule, period string, f Facts, now time.Time, done func(error)) {
	w, err := s.plan(ctx, a, r, period, f, now, false)
	if err != nil || w == nil {
		done(err)
		return
	}
	s.writeAsync(w, func(rev uint64, err error) {
		retry, err := s.wrote(w, rev, err)
		if !retry {
			done(err)
			return
		}
		go func() { done(s.evaluateFrom(ctx, a, r, period, f, now, true)) }()
	})
}

// wrote ends the write w, stored at revision rev or failed with err: on
// success the view holds the new state and a transition's finding is sent.
// retry reports that another writer came first (the instance must be
// evaluated again on its stored state).
func (s *Service) wrote(w *stateWrite, rev uint64, err error) (retry bool, _ error) {
	s.written(w.key, w.pw, rev, err == nil)
	if err == nil {
		if w.changed {
			s.metrics.transitions.WithLabelValues(string(w.next.State)).Inc()
			s.send(w.next.Outbox)
		}
		return false, nil
	}
	if !errors.Is(err, jetstream.ErrKeyExists) && !isWrongSequence(err) {
		if w.changed && !errors.Is(err, errNotSent) {
			s.writeUncertain(w.key, w.next.Outbox, err)
		}
		return false, fmt.Errorf("write %s: %w", w.key, err)
	}
	s.metrics.conflicts.Inc() // another checker wrote first: re-read and retry
	return true, nil
}

// plan decides the next state of one instance and returns its write, or
// nil when nothing is to be stored. read makes it read the instance from
// the bucket rather than the view.
func (s *Service) plan(ctx context.Context, a *registry.Agency, r Rule, period string, f Facts, now time.Time, read bool) (*stateWrite, error) {
	event := f.PublishedOn
	if f.ClockEvent != "" {
		event = f.ClockEvent
	}
	clk, due, clockErr := r.Clock(period, a, event)
	noTrigger := errors.Is(clockErr, ErrTriggerUnknown)
	if clockErr != nil && !noTrigger {
		return nil, fmt.Errorf("%s %s/%s %s: %w", a.ID, r.PackID, r.ObligationID, period, clockErr)
	}
	key := Key(a.ID, r.PackID, r.ObligationID, period)
	for {
		prev, rev, cached, err := s.current(ctx, key, a.ID, r.PackID, r.ObligationID, period, read)
		if err != nil {
			return nil, err
		}
		if prev != nil && f.Look == LookNone && r.Kind == KindFresh {
			clk.DueAt = prev.DueAt // the tick judges against the stored newest item
		}
		next := Instance{AgencyID: a.ID, PackID: r.PackID, ObligationID: r.ObligationID, Period: period}
		if prev != nil {
			next = *prev
		}
		var state events.State
		failures := next.Failures
		since := now
		if f.Look != LookNone || r.Kind != KindRequest {
			next.Note = f.Note // a request case keeps its title between registers
		}
		waived, reason := r.Waived(a, period, now)
		switch {
		case waived:
			state, next.Note = events.StateWaived, reason
		case noTrigger && f.Look == LookFound:
			// Published, but without the approval date its timeliness
			// cannot be judged: say so rather than guess.
			state, next.Note = events.StateSatisfied, "timeliness not assessed: "+clockErr.Error()
		case noTrigger:
			state, next.LastError = events.StateUnknown, clockErr.Error()
		case r.Kind.Continuous():
			state, failures, since = decideContinuous(prev, f, clk, now, s.opts.FailureThreshold, r.Escalate)
		default:
			state, failures = decide(prev, f, clk, now, s.civilLocation(r), s.opts.FailureThreshold)
		}
		next.State, next.Failures = state, failures
		next.DueAt, next.Provisional, next.CalendarVersion, next.PackVersion = clk.DueAt, due.Provisional, due.CalendarVersion, r.PackVersion
		if f.Look != LookNone {
			next.LastObserved = now
		}
		switch f.Look {
		case LookFound, LookBlank:
			next.URL, next.PublishedOn, next.Evidence = f.URL, f.PublishedOn, f.Evidence
			if !noTrigger {
				next.LastError = ""
			}
		case LookAbsent:
			if !noTrigger {
				next.LastError = ""
			}
			if len(f.Evidence) > 0 {
				next.Evidence = f.Evidence
			}
		case LookFailed:
			next.LastError = f.Error
		}
		// A report that is found is also checked for completeness.
		if !waived && f.Look == LookFound && f.Text != "" && (state == events.StateSatisfied || state == events.StateSatisfiedLate) {
			failed := next.FailedRules
			if prev == nil || prev.Text != f.Text {
				if failed, err = s.completeness(ctx, f, r.Profile(period)); err != nil {
					return nil, err
				}
			}
			next.Text, next.FailedRules = f.Text, failed
			if len(failed) > 0 {
				state, next.State = events.StateIncomplete, events.StateIncomplete
			}
		}
		changed := prev == nil || prev.State != state
		if !changed {
			// Nothing but the time of the look changed: record it at most
			// once a day, so repeated audits cost a read, not a write.
			cmp := next
			if now.Sub(prev.LastObserved) < lastObservedEvery {
				cmp.LastObserved = prev.LastObserved
			}
			if sameStored(*prev, cmp) {
				if cached && !s.viewCurrent() {
					read = true // the view may lack another replica's write: make sure
					continue
				}
				return nil, nil
			}
		}
		if changed {
			next.Since = since
			var from events.State
			if prev != nil {
				from = prev.State
			}
			ob, err := s.finding(a, r, &next, from, rev, now)
			if err != nil {
				return nil, err
			}
			next.Outbox = ob
		}
		body, err := encodeInstance(&next)
		if err != nil {
			return nil, err
		}
		w := &stateWrite{key: key, next: next, body: body, rev: rev, create: prev == nil, changed: changed}
		w.pw = s.writing(key, &w.next, body)
		return w, nil
	}
}

// publishers makes the service's asynchronous publishers; maxPending, when
// positive, bounds their publishes in flight (tests). State writes are
// published on the keys' own subjects only with the default API prefix;
// otherwise writeAsync goes through the bucket's API.
func (s *Service) publishers(maxPending int) error {
	var err error
	if s.findingPub, err = newAsyncPublisher(s.opts.JetStream, maxPending); err != nil {
		return err
	}
	s.states = nil
	if o := s.opts.JetStream.Options(); o.Domain == "" && (o.APIPrefix == "" || o.APIPrefix == jetstream.DefaultAPIPrefix) {
		s.states, err = newAsyncPublisher(s.opts.JetStream, maxPending)
	}
	return err
}

// writeAsync sends the state write w and calls done with the revision it
// was stored at, or the error, when the server answers. The write is what
// the bucket's own Create and Update send — a message on the key's subject
// with the expected last sequence of that subject, 0 for a new key — but
// published asynchronously, so that an observation's writes and those of
// the observations after it are in flight together instead of one round
// trip each. Where the bucket is reached otherwise (a JetStream domain or
// API prefix, or a test's wrapper), the write goes through the bucket's
// API in a goroutine of its own.
func (s *Service) writeAsync(w *stateWrite, done func(rev uint64, err error)) {
	if s.states == nil {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), publishAckTimeout)
			defer cancel()
			done(s.put(ctx, w))
		}()
		return
	}
	msg := nats.NewMsg(statePrefix + w.key)
	msg.Data = w.body
	s.states.publish(msg, func(ack *jetstream.PubAck, err error) {
		if err != nil {
			done(0, err)
			return
		}
		done(ack.Sequence, nil)
	}, jetstream.WithExpectLastSequencePerSubject(w.rev))
}

// put writes w through the bucket's API and waits for the answer.
func (s *Service) put(ctx context.Context, w *stateWrite) (uint64, error) {
	if w.create {
		return s.kv.Create(ctx, w.key, w.body)
	}
	return s.kv.Update(ctx, w.key, w.body, w.rev)
}

// statePrefix is the subject prefix of the obligations bucket's keys.
const statePrefix = "$KV." + events.BucketObligations + "."

// send publishes a stored finding without waiting for the server's
// acknowledgement: the state (with the finding in its outbox) is already
// stored, so the evaluation is done. A publish the server refuses or does
// not acknowledge in time goes to the background resender; one lost to a
// crash is republished at start-up.
func (s *Service) send(ob *Outbox) {
	s.findingPub.publish(findingMsg(ob), func(ack *jetstream.PubAck, err error) {
		if err != nil {
			s.keepUnsent(ob, err)
			return
		}
		s.countFinding(ob, ack)
	}, jetstream.WithMsgID(ob.ID))
}

// findingMsg is the message that publishes a stored finding.
func findingMsg(ob *Outbox) *nats.Msg {
	msg := nats.NewMsg(ob.Subject)
	msg.Data = ob.Event
	msg.Header.Set(events.HeaderType, events.TypeFinding)
	return msg
}

// countFinding counts a finding the server acknowledged: published, or
// dropped as a duplicate of one published before.
func (s *Service) countFinding(ob *Outbox, ack *jetstream.PubAck) {
	if ack.Duplicate {
		s.metrics.duplicates.Inc()
	} else {
		s.metrics.findings.WithLabelValues(string(ob.State)).Inc()
	}
}

func (s *Service) keepUnsent(ob *Outbox, err error) {
	s.log.Warn("finding not yet published; will retry", "finding", ob.ID, "err", err)
	s.unsentMu.Lock()
	s.unsent[ob.ID] = ob
	s.unsentMu.Unlock()
}

func (s *Service) publishOutbox(ctx context.Context, ob *Outbox) error {
	ack, err := s.opts.JetStream.PublishMsg(ctx, findingMsg(ob), jetstream.WithMsgID(ob.ID))
	if err != nil {
		return fmt.Errorf("publish finding %s: %w", ob.ID, err)
	}
	s.countFinding(ob, ack)
	return nil
}

// rebuild builds the finding events of the instances' outbox entries from
// the stored state, the registry and the rules.
func (s *Service) rebuild(insts []Instance) []*Outbox {
	var out []*Outbox
	for i := range insts {
		in := &insts[i]
		a, ok := s.opts.Registry.Get(in.AgencyID)
		if !ok {
			continue
		}
		r, ok := s.opts.Rules.Lookup(a, in.PackID, in.ObligationID)
		if !ok {
			continue
		}
		ob := in.Outbox
		in.Outbox = nil
		built, err := s.finding(a, r, in, ob.From, ob.Rev, ob.At)
		if err != nil {
			s.log.Warn("cannot rebuild finding", "finding", ob.ID, "err", err)
			continue
		}
		built.ID = ob.ID
		out = append(out, built)
	}
	return out
}

// recoverOutbox republishes, in the background and asynchronously, the
// findings of recent transitions found in the bucket at start-up: any that
// a crash kept from going out is published now, and the stream drops the
// others as duplicates.
func (s *Service) recoverOutbox(ctx context.Context, obs []*Outbox) {
	for _, ob := range obs {
		if ctx.Err() != nil {
			return
		}
		s.send(ob)
	}
}

// resend retries unsent findings until ctx ends.
func (s *Service) resend(ctx context.Context) {
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s.unsentMu.Lock()
		pending := make([]*Outbox, 0, len(s.unsent))
		for _, ob := range s.unsent {
			pending = append(pending, ob)
		}
		s.unsentMu.Unlock()
		for _, ob := range pending {
			if err := s.publishOutbox(ctx, ob); err == nil {
				s.unsentMu.Lock()
				delete(s.unsent, ob.ID)
				s.unsentMu.Unlock()
			}
		}
		s.settleUncertain(ctx)
	}
}

// lastObservedEvery is how often an unchanged instance's LastObserved is
// written.
const lastObservedEvery = 20 * time.Hour

// recoveryWindow bounds start-up recovery to findings the stream still
// de-duplicates (its window is 24 h), so a recovered finding that had in
// fact been published is dropped by the stream, not announced twice.
const recoveryWindow = 20 * time.Hour

func isWrongSequence(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence
}

// sameStored reports whether two instances would be stored alike.
func sameStored(a, b Instance) bool {
	ob := func(x *Outbox) string {
		if x == nil {
			return ""
		}
		return x.ID
	}
	return a.AgencyID == b.AgencyID && a.PackID == b.PackID && a.ObligationID == b.ObligationID && a.Period == b.Period &&
		a.State == b.State && a.Since.Equal(b.Since) && a.DueAt.Equal(b.DueAt) && a.Provisional == b.Provisional &&
		a.CalendarVersion == b.CalendarVersion && a.PackVersion == b.PackVersion && a.URL == b.URL &&
		a.PublishedOn == b.PublishedOn && slices.Equal(a.Evidence, b.Evidence) && a.Failures == b.Failures &&
		a.LastError == b.LastError && a.Text == b.Text && slices.Equal(a.FailedRules, b.FailedRules) &&
		a.Note == b.Note && a.LastObserved.Equal(b.LastObserved) && ob(a.Outbox) == ob(b.Outbox)
}

// FindingID returns the deterministic id of the finding for the transition
// of key from the state stored at revision rev to state to.
func FindingID(key string, rev uint64, to events.State) string {
	return "finding-" + key + "@" + strconv.FormatUint(rev, 10) + ">" + string(to)
}

// finding builds the finding of a transition and its outbox entry.
func (s *Service) finding(a *registry.Agency, r Rule, inst *Instance, from events.State, rev uint64, now time.Time) (*Outbox, error) {
	f := events.Finding{
		AgencyID: a.ID, AgencyName: a.Name,
		PackID: r.PackID, PackVersion: r.PackVersion, ObligationID: r.ObligationID, Obligation: r.Title,
		Period: inst.Period, From: from, To: inst.State, Severity: severityOf(inst.State, r.Severity),
		DueAt: inst.DueAt, Provisional: inst.Provisional, CalendarVersion: inst.CalendarVersion,
		DecidedAt: now, Evidence: inst.Evidence, URL: inst.URL, PublishedOn: inst.PublishedOn,
		FailedRules: inst.FailedRules,
	}
	f.Duty = r.Duty
	if r.Kind.Continuous() {
		f.DueAt = time.Time{}
		if r.Kind == KindFresh && inst.DueAt.Unix() > 0 {
			f.DueAt = inst.DueAt
		}
	}
	f.Explanation = explain(f, inst, r.Kind, s.civilLocation(r))
	if t, ok := explainBudget(f, inst); ok { // budget.go: the missing tables, named
		f.Explanation = t
	}
	id := FindingID(inst.Key(), rev, inst.State)
	body, err := encodeFinding(id, a.ID, now, &f)
	if err != nil {
		return nil, fmt.Errorf("finding %s: %w", id, err)
	}
	return &Outbox{ID: id, At: now, From: from, State: inst.State, Rev: rev, Subject: events.FindingSubject(a.ID), Event: body}, nil
}

// severityOf ranks a transition by the state it enters; the obligation's
// own severity applies to being overdue.
func severityOf(to events.State, overdue events.Severity) events.Severity {
	switch to {
	case events.StateOverdue, events.StateEscalated:
		if overdue == "" {
			return events.SeverityCritical
		}
		return overdue
	case events.StateDueSoon, events.StateIncomplete, events.StateUnknown, events.StateSatisfiedLate:
		return events.SeverityWarning
	}
	return events.SeverityInfo
}

// Instances returns every stored instance (for the read API and tests).
func (s *Service) Instances(ctx context.Context) ([]Instance, error) {
	keys, err := s.kv.ListKeys(ctx)
	if err != nil {
		if errors.Is(err, jetstream.ErrNoKeysFound) {
			return nil, nil
		}
		return nil, err
	}
	var out []Instance
	for k := range keys.Keys() {
		inst, _, err := s.load(ctx, k)
		if err != nil {
			return nil, err
		}
		if inst != nil {
			out = append(out, *inst)
		}
	}
	return out, nil
}
