// Package e2e holds whole-pipeline tests: the simulated portals, the real
// embedded JetStream server, the three services and a real SMTP server, all
// in-process or as the shipped binaries.
package e2e

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gongkai/gongkai/pkg/events"
	"github.com/gongkai/gongkai/services/checker"
	"github.com/gongkai/gongkai/services/internal/mailtext"
	"github.com/gongkai/gongkai/services/internal/obligation"
	"github.com/gongkai/gongkai/services/internal/pipeline"
	"github.com/gongkai/gongkai/services/internal/portalsim"
	"github.com/gongkai/gongkai/services/internal/registry"
	"github.com/gongkai/gongkai/services/internal/smtptest"
)

var cst = time.FixedZone("CST", 8*3600)

// clock is a settable clock shared by every service of a test pipeline.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

type harness struct {
	t     *testing.T
	fleet *portalsim.Fleet
	reg   *registry.Registry
	rules checker.Rules
	smtp  *smtptest.Server
	clock *clock
	dir   string
	logs  *bytes.Buffer
}

func newHarness(t *testing.T, asOf time.Time) *harness {
	t.Helper()
	fleet, err := portalsim.Start(portalsim.Demo(asOf))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fleet.Close)
	var buf bytes.Buffer
	if err := fleet.WriteRegistry(&buf); err != nil {
		t.Fatal(err)
	}
	reg, err := registry.Parse("fleet.yaml", buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	cat, err := obligation.LoadFiles()
	if err != nil {
		t.Fatal(err)
	}
	return &harness{
		t: t, fleet: fleet, reg: reg, rules: checker.NewRules(cat), smtp: smtptest.Start(t),
		clock: &clock{t: asOf}, dir: t.TempDir(), logs: &bytes.Buffer{},
	}
}

type pipelineOptions = pipeline.Options

// start runs the selected services on the harness's data directory.
func (h *harness) start(ingest, check, notify bool) *pipeline.Pipeline {
	h.t.Helper()
	return h.startWith(func(o *pipeline.Options) { o.Ingest, o.Checker, o.Notifier = ingest, check, notify })
}

// startWith runs the pipeline with every service, after edit adjusts the
// options.
func (h *harness) startWith(edit func(*pipeline.Options)) *pipeline.Pipeline {
	h.t.Helper()
	o := pipeline.Options{
		DataDir: h.dir, NATSPort: -1, Ingest: true, Checker: true, Notifier: true,
		Registry: h.reg, Rules: h.rules, NoSchedule: true, NoTick: true, Workers: 4,
		SMTPURL: h.smtp.URL(), From: "gongkai@test.example",
		Logger: slog.New(slog.NewTextHandler(io.MultiWriter(h.logs), &slog.HandlerOptions{Level: slog.LevelWarn})),
		Now:    h.clock.Now,
	}
	edit(&o)
	p, err := pipeline.Start(o)
	if err != nil {
		h.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := p.Ready(ctx); err != nil {
		p.Stop()
		h.t.Fatal(err)
	}
	return p
}

// waitIdle waits until n observations are in and the checker and notifier
// have nothing pending.
func waitIdle(t *testing.T, p *pipeline.Pipeline, observations uint64, notifier bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	js := p.JetStream()
	for {
		st, err := js.Stream(ctx, events.StreamObservations)
		if err != nil {
			t.Fatal(err)
		}
		info, err := st.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		done := info.State.Msgs >= observations
		for _, c := range [][2]string{{events.StreamObservations, events.ConsumerChecker}, {events.StreamFindings, events.ConsumerNotifier}} {
			if c[1] == events.ConsumerNotifier && !notifier {
				continue
			}
			cons, err := js.Consumer(ctx, c[0], c[1])
			if err != nil {
				t.Fatal(err)
			}
			ci, err := cons.Info(ctx)
			if err != nil {
				t.Fatal(err)
			}
			done = done && ci.NumPending == 0 && ci.NumAckPending == 0
		}
		if done {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("pipeline not idle: %d observations of %d", info.State.Msgs, observations)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// received returns "recipient | subject" of every message, sorted.
func received(t *testing.T, s *smtptest.Server) []string {
	t.Helper()
	var out []string
	for _, m := range s.Messages() {
		msg, err := mailtext.Parse(m.Data)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, strings.Join(m.To, ",")+" | "+msg.Subject)
	}
	sort.Strings(out)
	return out
}

func states(t *testing.T, p *pipeline.Pipeline) map[string]events.State {
	t.Helper()
	insts, err := p.Checker().Instances(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]events.State{}
	for _, in := range insts {
		out[in.AgencyID+"/"+in.ObligationID+"/"+in.Period] = in.State
	}
	return out
}

func equal(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("%s:\ngot\n  %s\nwant\n  %s", what, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// The demo scenario, the morning after a deadline: one report on time, one
// two days late, one missing, one site unreachable. Then the clock runs on
// past the escalation point.
func TestPipelineEndToEnd(t *testing.T) {
	asOf := time.Date(2026, 2, 3, 9, 0, 0, 0, cst)
	h := newHarness(t, asOf)
	p := h.start(true, true, true)
	defer p.Stop()

	ctx := context.Background()
	runID, n, err := p.Ingest().PublishRun(ctx, "manual", asOf, nil)
	if err != nil || n != 4 {
		t.Fatalf("PublishRun = %s, %d, %v", runID, n, err)
	}
	waitIdle(t, p, 4, true)

	st := states(t, p)
	for k, want := range map[string]events.State{
		"demo-czj/CN-R19-AR-DEPT/2025": events.StateSatisfied,
		"demo-jyj/CN-R19-AR-DEPT/2025": events.StateSatisfiedLate,
		"demo-wjw/CN-R19-AR-DEPT/2025": events.StateOverdue,
		"demo-gov/CN-R19-AR-DEPT/2025": events.StateUnknown,
		// The registry dates demo-czj's 2025 budget approval (2025-02-10);
		// published ten days later, within the 20 days allowed.
		"demo-czj/CN-BUD-DEPT-BUDGET/2025": events.StateSatisfied,
		// No approval date for 2026, nor for the other agencies: unknown,
		// with the reason.
		"demo-czj/CN-BUD-DEPT-BUDGET/2026": events.StateUnknown,
		"demo-jyj/CN-BUD-DEPT-BUDGET/2025": events.StateUnknown,
	} {
		if st[k] != want {
			t.Errorf("%s = %q, want %q (all: %v)", k, st[k], want, st)
		}
	}
	// Overdue is critical: sent at once. Published late is a warning: it
	// waits for the contact's daily digest (08:30 on the next working day).
	want := []string{
		"gongkai@wjw.demo.example | 【逾期】示范市卫生健康委员会：本行政机关上一年度政府信息公开工作年度报告（2025）已逾期，请尽快公开（截止2026-01-31）",
	}
	notifierIdle(t, p)
	equal(t, "emails after the audit", received(t, h.smtp), want)

	// The overdue notice says what is needed, by when, and on what evidence.
	for _, m := range h.smtp.Messages() {
		msg, err := mailtext.Parse(m.Data)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(msg.Subject, "【逾期】") {
			continue
		}
		for _, s := range []string{
			"示范市卫生健康委员会政务公开办：",
			"应于2026-01-31前公开，截至2026-02-03未发现，已逾期，请尽快公开。",
			"截止时间：2026-01-31 23:59 CST",
			"当前状态：逾期",
			"证据（SHA-256）：",
		} {
			if !strings.Contains(msg.Text, s) {
				t.Errorf("overdue notice lacks %q:\n%s", s, msg.Text)
			}
		}
		if msg.HTML == "" || !strings.HasPrefix(msg.MessageID, "<n-") {
			t.Errorf("notice without HTML part or stable Message-ID: %q", msg.MessageID)
		}
	}

	// The same run again (a second scheduler replica) enqueues nothing.
	if _, n, err := p.Ingest().PublishRun(ctx, "manual", asOf, nil); err != nil || n != 0 {
		t.Fatalf("duplicate run enqueued %d jobs (err %v)", n, err)
	}
	// A new audit the next day finds the same facts: no new finding, no
	// notice; the morning's digests report the day before.
	h.clock.Set(asOf.Add(24 * time.Hour))
	if _, n, err := p.Ingest().PublishRun(ctx, "manual", asOf.Add(24*time.Hour), nil); err != nil || n != 4 {
		t.Fatalf("second run: %d jobs, %v", n, err)
	}
	waitIdle(t, p, 8, true)
	notifierIdle(t, p)
	want = append(want,
		"gongkai@jyj.demo.example | 【政务公开日报】2026-02-04 示范市教育局：新发现1项",
		"gongkai@wjw.demo.example | 【政务公开日报】2026-02-04 示范市卫生健康委员会：逾期1项",
	)
	sort.Strings(want)
	equal(t, "emails after a second audit with no change", received(t, h.smtp), want)

	// The clock passes the escalation point: the missing report escalates.
	later := time.Date(2026, 3, 16, 0, 5, 0, 0, cst)
	h.clock.Set(later)
	if _, err := p.Checker().Tick(ctx, later); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, p, 8, true)
	if got := states(t, p)["demo-wjw/CN-R19-AR-DEPT/2025"]; got != events.StateEscalated {
		t.Fatalf("after the tick: %s", got)
	}
	// Escalation also tells the supervising body (demo-gov, the parent).
	// Six weeks without a new audit also leave the home pages stale: their
	// newest news item (02-01) was due for an update by 02-15.
	want = append(want,
		"gongkai@wjw.demo.example | 【逾期督办】示范市卫生健康委员会：本行政机关上一年度政府信息公开工作年度报告（2025）逾期未公开，请立即公开（截止2026-01-31）",
		"gongkai@gov.demo.example | 【逾期督办】示范市卫生健康委员会：本行政机关上一年度政府信息公开工作年度报告（2025）逾期未公开，请立即公开（截止2026-01-31）",
		"gongkai@czj.demo.example | 【逾期】示范市财政局：首页信息更新（当前）已逾期，请尽快公开（截止2026-02-15）",
		"gongkai@jyj.demo.example | 【逾期】示范市教育局：首页信息更新（当前）已逾期，请尽快公开（截止2026-02-15）",
		"gongkai@wjw.demo.example | 【逾期】示范市卫生健康委员会：首页信息更新（当前）已逾期，请尽快公开（截止2026-02-15）",
	)
	sort.Strings(want)
	notifierIdle(t, p)
	equal(t, "emails after escalation", received(t, h.smtp), want)
	if strings.Contains(h.logs.String(), "level=ERROR") {
		t.Errorf("errors logged:\n%s", h.logs)
	}
}

// Stop the pipeline after the findings are published and before any email
// is sent, start it again: every notice arrives exactly once. Then force
// every finding to be delivered again: the sent-ledger sends nothing twice.
func TestRestartBetweenFindingAndEmail(t *testing.T) {
	asOf := time.Date(2026, 2, 3, 9, 0, 0, 0, cst)
	h := newHarness(t, asOf)
	ctx := context.Background()

	p := h.start(true, true, false) // no notifier: findings wait in the stream
	if _, _, err := p.Ingest().PublishRun(ctx, "manual", asOf, nil); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, p, 4, false)
	p.Stop()
	if n := len(h.smtp.Messages()); n != 0 {
		t.Fatalf("%d emails before the notifier ran", n)
	}

	p = h.start(false, false, true)
	waitIdle(t, p, 4, true)
	notifierIdle(t, p)
	first := received(t, h.smtp)
	if len(first) != 1 { // the overdue notice; the late report waits for the digest
		t.Fatalf("want 1 email, got %v", first)
	}

	// Redeliver every finding: delete and recreate the notifier's consumer.
	js := p.JetStream()
	if err := js.DeleteConsumer(ctx, events.StreamFindings, events.ConsumerNotifier); err != nil {
		t.Fatal(err)
	}
	p.Stop()
	p = h.start(false, false, true) // provisions the consumer again, from the start of the stream
	defer p.Stop()
	waitIdle(t, p, 4, true)
	notifierIdle(t, p)
	time.Sleep(200 * time.Millisecond)
	equal(t, "emails after redelivery of every finding", received(t, h.smtp), first)
	if a := h.smtp.Attempts(); a != 1 {
		t.Fatalf("SMTP server saw %d deliveries, want 1", a)
	}
	// The next morning: each digest once.
	h.clock.Set(asOf.Add(24 * time.Hour))
	notifierIdle(t, p)
	if a := h.smtp.Attempts(); a != 3 {
		t.Fatalf("SMTP server saw %d deliveries, want 3 (1 notice, 2 digests): %v", a, received(t, h.smtp))
	}
}

// notifierIdle waits until the notifier owes nothing that is due:
// immediate notices sent and the digests due at the pipeline's clock
// delivered.
func notifierIdle(t *testing.T, p *pipeline.Pipeline) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := p.Notifier().WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestMalformedRegistryNamesFileAndLine(t *testing.T) {
	_, err := registry.Parse("agencies.yaml", []byte("agencies:\n  - id: a\n    name: 甲\n    level: city\n    kind: bureau\n    website: http://a.example/\n"))
	if err == nil || !strings.Contains(err.Error(), `agencies.yaml:5: agencies[0] (a): kind "bureau": expected government or department`) {
		t.Fatalf("err = %v", err)
	}
}
