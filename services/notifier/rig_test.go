package notifier

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gongkai/gongkai/pkg/events"
	"github.com/gongkai/gongkai/pkg/events/eventstest"
	"github.com/gongkai/gongkai/services/internal/mailtext"
	"github.com/gongkai/gongkai/services/internal/registry"
	"github.com/gongkai/gongkai/services/internal/smtptest"
)

var cst = time.FixedZone("CST", 8*3600)

// at returns a time in China Standard Time.
func at(y int, m time.Month, d, hh, mm int) time.Time { return time.Date(y, m, d, hh, mm, 0, 0, cst) }

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

// syncBuffer is a log sink safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// rig is a notifier on a real embedded JetStream server, sending to a real
// in-process SMTP server.
type rig struct {
	t     *testing.T
	srv   *eventstest.Server
	js    jetstream.JetStream
	nc    *nats.Conn
	smtp  *smtptest.Server
	clock *clock
	reg   *registry.Registry
	logs  *syncBuffer
	tune  func(*Options)

	svc     *Service
	svcNC   *nats.Conn
	metrics *prometheus.Registry
	cancel  context.CancelFunc
	done    chan error
}

func loadRegistry(t testing.TB, path string) *registry.Registry {
	t.Helper()
	reg, err := registry.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

func newRig(t *testing.T, reg *registry.Registry, tune func(*Options)) *rig {
	t.Helper()
	srv := eventstest.RunServer(t, "")
	nc, js := eventstest.Connect(t, srv.URL)
	r := &rig{
		t: t, srv: srv, js: js, nc: nc, smtp: smtptest.Start(t), clock: &clock{t: at(2026, 3, 2, 7, 0)},
		reg: reg, logs: &syncBuffer{}, tune: tune,
	}
	t.Cleanup(func() {
		r.stop()
		if t.Failed() {
			t.Logf("notifier logs:\n%s", r.logs)
		}
	})
	return r
}

// options returns the options of a new service on its own connection.
func (r *rig) options(nc *nats.Conn) Options {
	r.t.Helper()
	js, err := jetstream.New(nc)
	if err != nil {
		r.t.Fatal(err)
	}
	tr, err := NewSMTP(r.smtp.URL())
	if err != nil {
		r.t.Fatal(err)
	}
	o := Options{
		JetStream: js, Registry: r.reg, Transport: tr, From: "gongkai@notify.example",
		DashboardURL: "https://dash.example", Logger: slog.New(slog.NewTextHandler(r.logs, &slog.HandlerOptions{Level: slog.LevelWarn})),
		Registerer: prometheus.NewRegistry(), Now: r.clock.Now, DomainRate: -1,
		RetryBase: 20 * time.Millisecond, RetryMax: 200 * time.Millisecond, Poll: 20 * time.Millisecond,
	}
	if r.tune != nil {
		r.tune(&o)
	}
	return o
}

// start runs a notifier on a new connection and waits until it is ready.
func (r *rig) start() *Service {
	r.t.Helper()
	nc, err := nats.Connect(r.srv.URL)
	if err != nil {
		r.t.Fatal(err)
	}
	o := r.options(nc)
	svc, err := New(o)
	if err != nil {
		nc.Close()
		r.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	r.svc, r.svcNC, r.cancel, r.done, r.metrics = svc, nc, cancel, done, o.Registerer.(*prometheus.Registry)
	waitUntil(r.t, "notifier ready", func() bool { return svc.Ready(ctx) == nil })
	return svc
}

// stop stops the running notifier and waits for it.
func (r *rig) stop() {
	if r.svc == nil {
		return
	}
	r.cancel()
	select {
	case err := <-r.done:
		if err != nil {
			r.t.Errorf("Run: %v", err)
		}
	case <-time.After(30 * time.Second):
		r.t.Error("notifier did not stop within 30 s")
	}
	r.svcNC.Close()
	r.svc = nil
}

func waitUntil(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// finding returns a finding about agency; the id names the transition.
func finding(agency, obligation string, from, to events.State, sev events.Severity, due, decided time.Time) (string, events.Finding) {
	f := events.Finding{
		AgencyID: agency, AgencyName: agency, PackID: "cn-ogi-2019", PackVersion: "2026.1", ObligationID: obligation,
		Obligation: events.Text{ZH: "政府信息公开工作年度报告（" + obligation + "）", EN: "Annual report (" + obligation + ")"},
		Period:     "2025", From: from, To: to, Severity: sev, DueAt: due, DecidedAt: decided,
		Explanation: events.Text{ZH: "说明：" + string(to), EN: "Explanation: " + string(to)},
	}
	return fmt.Sprintf("finding-%s.%s.2025@%d>%s", agency, obligation, decided.Unix(), to), f
}

// publish publishes a finding as the checker would.
func (r *rig) publish(id string, f events.Finding) {
	r.t.Helper()
	if a, ok := r.reg.Get(f.AgencyID); ok && f.AgencyName == f.AgencyID {
		f.AgencyName = a.Name
	}
	ev, err := events.New("gongkai/checker", id, f.AgencyID, f.DecidedAt, f)
	if err != nil {
		r.t.Fatal(err)
	}
	if _, err := events.Publish(context.Background(), r.js, events.FindingSubject(f.AgencyID), ev); err != nil {
		r.t.Fatal(err)
	}
}

// settle waits until every published finding is recorded and nothing is
// due (immediate notices delivered).
func (r *rig) settle() {
	r.t.Helper()
	ctx := context.Background()
	st, err := r.js.Stream(ctx, events.StreamFindings)
	if err != nil {
		r.t.Fatal(err)
	}
	si, err := st.Info(ctx)
	if err != nil {
		r.t.Fatal(err)
	}
	last := si.State.LastSeq
	waitUntil(r.t, "findings recorded", func() bool {
		c, err := r.js.Consumer(ctx, events.StreamFindings, events.ConsumerNotifier)
		if err != nil {
			return false
		}
		ci, err := c.Info(ctx)
		return err == nil && ci.AckFloor.Stream >= last
	})
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := r.svc.WaitIdle(wctx); err != nil {
		r.t.Fatalf("%v\n%s", err, r.svc.mirror.dump(r.clock.Now(), r.svc))
	}
	r.svc.flight.Wait()
}

// digestAt moves the clock and runs the digests due then.
func (r *rig) digestAt(t time.Time) {
	r.t.Helper()
	r.clock.Set(t)
	r.settle()
	r.svc.Digest(context.Background())
	r.settle()
}

// digestOnly moves the clock and runs the digests due then, without
// waiting for the backlog to clear.
func (r *rig) digestOnly(t time.Time) {
	r.t.Helper()
	r.clock.Set(t)
	r.svc.Digest(context.Background())
}

// received is a received message, decoded.
type received struct {
	To        string
	Subject   string
	MessageID string
	Text      string
	HTML      string
	Raw       []byte
}

func (r *rig) mails() []received {
	r.t.Helper()
	var out []received
	for _, m := range r.smtp.Messages() {
		msg, err := mailtext.Parse(m.Data)
		if err != nil {
			r.t.Fatal(err)
		}
		out = append(out, received{To: strings.Join(m.To, ","), Subject: msg.Subject, MessageID: msg.MessageID, Text: msg.Text, HTML: msg.HTML, Raw: m.Data})
	}
	return out
}

// summary returns "to | subject" of every message, sorted.
func summary(ms []received) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.To+" | "+m.Subject)
	}
	sort.Strings(out)
	return out
}

func equal(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("%s:\ngot\n  %s\nwant\n  %s", what, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// counter returns the value of a counter series of the running service.
func (r *rig) counter(name string, labels ...string) float64 {
	r.t.Helper()
	mfs, err := r.metrics.Gather()
	if err != nil {
		r.t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metric:
		for _, m := range mf.GetMetric() {
			for i := 0; i+1 < len(labels); i += 2 {
				found := false
				for _, lp := range m.GetLabel() {
					if lp.GetName() == labels[i] && lp.GetValue() == labels[i+1] {
						found = true
					}
				}
				if !found {
					continue metric
				}
			}
			if m.GetCounter() != nil {
				return m.GetCounter().GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	r.t.Fatalf("metric %s%v not found", name, labels)
	return 0
}

// notices returns the notice events in the stream.
func (r *rig) notices() []events.Notice {
	r.t.Helper()
	ctx := context.Background()
	c, err := r.js.OrderedConsumer(ctx, events.StreamNotices, jetstream.OrderedConsumerConfig{})
	if err != nil {
		r.t.Fatal(err)
	}
	var out []events.Notice
	for {
		batch, err := c.FetchNoWait(100)
		if err != nil {
			r.t.Fatal(err)
		}
		n := 0
		for m := range batch.Messages() {
			n++
			ev, err := events.Unmarshal(m.Data())
			if err != nil {
				r.t.Fatal(err)
			}
			no, err := events.Decode[events.Notice](ev)
			if err != nil {
				r.t.Fatal(err)
			}
			out = append(out, no)
		}
		if n == 0 {
			return out
		}
	}
}

// dump describes the mirror's state, for failing tests.
func (m *mirror) dump(now time.Time, s *Service) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var b strings.Builder
	fmt.Fprintf(&b, "now %s\n", now)
	for k, it := range m.items {
		fmt.Fprintf(&b, "item %s rev %d kind %s to %s decided %s recorded %s due %s inflight %v retry %+v\n", k, it.rev, it.p.Kind, it.p.Recipient,
			it.p.Finding.DecidedAt, it.p.RecordedAt, s.effectiveDue(it), m.inflight[k], m.retry[k])
	}
	for id, d := range m.done {
		fmt.Fprintf(&b, "done %s %s inflight %v retry %+v\n", id, d, m.inflight[digestKey(id)], m.retry[digestKey(id)])
	}
	for k, g := range m.gone {
		fmt.Fprintf(&b, "gone %s %d\n", k, g)
	}
	return b.String()
}
