package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/gongkai/gongkai/pkg/events"
	"github.com/gongkai/gongkai/services/checker"
	"github.com/gongkai/gongkai/services/internal/mailtext"
	"github.com/gongkai/gongkai/services/internal/pipeline"
	"github.com/gongkai/gongkai/services/internal/portalsim"
	"github.com/gongkai/gongkai/services/internal/registry"
)

func cmdDemo(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("gongkai demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	once := fs.Bool("once", false, "exit 0 once the audit cycle is complete (default: keep running until interrupted)")
	dataDir := fs.String("data", "", "data directory (default: a new temporary directory)")
	timeout := fs.Duration("timeout", 2*time.Minute, "give up if the cycle is not complete by then")
	httpAddr := fs.String("http", "127.0.0.1:0", "address of /metrics, /healthz and /readyz")
	dashAddr := fs.String("dashboard", "127.0.0.1:0", "address of the dashboard")
	smtpURL := fs.String("smtp-url", "", "send the notices to this SMTP server instead of the outbox directory")
	logLevel := fs.String("log-level", "warn", "debug, info, warn or error")
	asOfFlag := fs.String("as-of", "", `the demo's clock: a date (2026-02-03), "now", or empty for the morning after the most recent Jan 31 deadline`)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	asOf, err := demoAsOf(*asOfFlag, time.Now())
	if err != nil {
		fmt.Fprintln(stderr, "gongkai demo:", err)
		return 2
	}
	clk := newDemoClock(asOf)
	log, err := newLogger(stderr, *logLevel)
	if err != nil {
		fmt.Fprintln(stderr, "gongkai demo:", err)
		return 2
	}
	if *dataDir == "" {
		*dataDir, err = os.MkdirTemp("", "gongkai-demo-")
		if err != nil {
			fmt.Fprintln(stderr, "gongkai demo:", err)
			return 1
		}
	}
	fleet, err := portalsim.Start(portalsim.Demo(asOf))
	if err != nil {
		fmt.Fprintln(stderr, "gongkai demo:", err)
		return 1
	}
	defer fleet.Close()
	regPath := filepath.Join(*dataDir, "registry.yaml")
	var buf bytes.Buffer
	if err := fleet.WriteRegistry(&buf); err != nil {
		fmt.Fprintln(stderr, "gongkai demo:", err)
		return 1
	}
	if err := os.MkdirAll(*dataDir, 0o750); err != nil {
		fmt.Fprintln(stderr, "gongkai demo:", err)
		return 1
	}
	if err := os.WriteFile(regPath, buf.Bytes(), 0o640); err != nil {
		fmt.Fprintln(stderr, "gongkai demo:", err)
		return 1
	}
	reg, err := registry.Load(regPath)
	if err != nil {
		fmt.Fprintln(stderr, "gongkai demo:", err)
		return 1
	}
	_, rules, err := loadRules("")
	if err != nil {
		fmt.Fprintln(stderr, "gongkai demo:", err)
		return 1
	}
	p, err := pipeline.Start(pipeline.Options{
		DataDir: *dataDir, NATSPort: -1, Ingest: true, Checker: true, Notifier: true,
		Registry: reg, Rules: rules, NoSchedule: true, NoTick: true, Workers: 4,
		SMTPURL: *smtpURL, From: "gongkai@demo.example", HTTPAddr: *httpAddr, Logger: log, Now: clk.Now,
		DashboardAddr: *dashAddr,
	})
	if err != nil {
		fmt.Fprintln(stderr, "gongkai demo:", err)
		return 1
	}
	defer p.Stop()

	fmt.Fprintf(stdout, "gongkai demo — %d simulated agency websites on %d loopback hosts\n", len(reg.Agencies), fleet.Hosts())
	fmt.Fprintf(stdout, "  clock:          %s (simulated; --as-of to change)\n", asOf.Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(stdout, "  data directory: %s\n  registry:       %s\n  metrics:        http://%s/metrics\n", *dataDir, regPath, p.HTTPAddr())
	if a := p.DashboardAddr(); a != "" {
		fmt.Fprintf(stdout, "  dashboard:      http://%s/\n", a)
	}
	fmt.Fprintln(stdout)

	wctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	if err := p.Ready(wctx); err != nil {
		fmt.Fprintln(stderr, "gongkai demo:", err)
		return 1
	}
	runID, n, err := p.Ingest().PublishRun(wctx, "manual", clk.Now().Truncate(time.Minute), nil)
	if err != nil {
		fmt.Fprintln(stderr, "gongkai demo:", err)
		return 1
	}
	fmt.Fprintf(stdout, "audit run %s: %d agencies queued\n", runID, n)
	if err := waitCycle(wctx, p.JetStream(), len(reg.Agencies), stdout); err != nil {
		fmt.Fprintln(stderr, "gongkai demo: audit cycle did not complete:", err)
		return 1
	}
	// A request register, as `gongkai requests import` would publish it:
	// the checker judges each case's answer deadline in working days.
	if r, ok := demoRequests(reg, asOf); ok {
		ev, err := events.New("gongkai/demo", "requests-demo-"+r.AgencyID, r.AgencyID, r.RecordedAt, r)
		if err == nil {
			_, err = events.Publish(wctx, p.JetStream(), events.ObservationSubject(r.AgencyID), ev)
		}
		if err != nil {
			fmt.Fprintln(stderr, "gongkai demo:", err)
			return 1
		}
		fmt.Fprintf(stdout, "request register of %s: %d cases imported\n", r.AgencyID, len(r.Cases))
		if err := waitCycle(wctx, p.JetStream(), len(reg.Agencies), io.Discard); err != nil {
			fmt.Fprintln(stderr, "gongkai demo: request register not judged:", err)
			return 1
		}
	}
	if err := report(ctx, p, reg, stdout, nil); err != nil {
		fmt.Fprintln(stderr, "gongkai demo:", err)
		return 1
	}
	sent, _ := filepath.Glob(filepath.Join(p.Outbox(), "*.eml"))

	// The clock runs on: six weeks later the daily tick moves what is still
	// missing past the escalation point, without any new audit.
	later := asOf.AddDate(0, 0, 42)
	clk.Set(later)
	fmt.Fprintf(stdout, "\n— six weeks later: the daily clock tick of %s —\n", later.Format("2006-01-02"))
	if _, err := p.Checker().Tick(wctx, later); err != nil {
		fmt.Fprintln(stderr, "gongkai demo:", err)
		return 1
	}
	if err := waitCycle(wctx, p.JetStream(), len(reg.Agencies), io.Discard); err != nil {
		fmt.Fprintln(stderr, "gongkai demo: clock tick did not complete:", err)
		return 1
	}
	if err := report(ctx, p, reg, stdout, sent); err != nil {
		fmt.Fprintln(stderr, "gongkai demo:", err)
		return 1
	}
	if *once {
		return 0
	}
	fmt.Fprintln(stdout, "\nThe pipeline keeps running (Ctrl-C to stop). Inspect it with: nats --server", p.Conn().ConnectedUrl(), "stream ls")
	<-ctx.Done()
	return 0
}

// waitCycle waits until every agency has been observed and the checker and
// the notifier have nothing pending.
func waitCycle(ctx context.Context, js jetstream.JetStream, agencies int, stdout io.Writer) error {
	lastObs := -1
	for {
		obs, err := streamMsgs(ctx, js, events.StreamObservations)
		if err != nil {
			return err
		}
		if int(obs) != lastObs {
			fmt.Fprintf(stdout, "  observed %d of %d websites\n", obs, agencies)
			lastObs = int(obs)
		}
		if int(obs) >= agencies {
			idleC, err := idle(ctx, js, events.StreamObservations, events.ConsumerChecker)
			if err != nil {
				return err
			}
			idleN, err := idle(ctx, js, events.StreamFindings, events.ConsumerNotifier)
			if err != nil {
				return err
			}
			if idleC && idleN {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func streamMsgs(ctx context.Context, js jetstream.JetStream, name string) (uint64, error) {
	st, err := js.Stream(ctx, name)
	if err != nil {
		return 0, err
	}
	info, err := st.Info(ctx)
	if err != nil {
		return 0, err
	}
	return info.State.Msgs, nil
}

func idle(ctx context.Context, js jetstream.JetStream, stream, consumer string) (bool, error) {
	c, err := js.Consumer(ctx, stream, consumer)
	if err != nil {
		return false, err
	}
	info, err := c.Info(ctx)
	if err != nil {
		return false, err
	}
	return info.NumPending == 0 && info.NumAckPending == 0 && info.NumRedelivered == 0, nil
}

// report prints the verdicts and the notices of the cycle.
func report(ctx context.Context, p *pipeline.Pipeline, reg *registry.Registry, w io.Writer, already []string) error {
	insts, err := p.Checker().Instances(ctx)
	if err != nil {
		return err
	}
	sort.Slice(insts, func(i, j int) bool { return insts[i].Key() < insts[j].Key() })
	fmt.Fprintln(w, "\nWhat was found:")
	byAgency := map[string][]checker.Instance{}
	for _, in := range insts {
		byAgency[in.AgencyID] = append(byAgency[in.AgencyID], in)
	}
	for _, id := range reg.IDs() {
		list := byAgency[id]
		a, _ := reg.Get(id)
		counts := map[events.State]int{}
		for _, in := range list {
			counts[in.State]++
		}
		var parts []string
		for _, st := range events.States {
			if counts[st] > 0 {
				parts = append(parts, fmt.Sprintf("%d %s", counts[st], st))
			}
		}
		fmt.Fprintf(w, "  %s (%s): %d obligations — %s\n", a.Name, id, len(list), strings.Join(parts, ", "))
		// The instances that need attention, one line each; those that
		// could not be judged for the same reason are summed up.
		noTrigger := 0
		unreadable := map[string]int{}
		for _, in := range list {
			switch in.State {
			case events.StateSatisfied, events.StateNotDue, events.StateWaived, events.StateNotApplicable:
				continue
			}
			if strings.HasPrefix(in.LastError, checker.ErrTriggerUnknown.Error()) {
				noTrigger++
				continue
			}
			if in.State == events.StateUnknown && in.LastError != "" {
				unreadable[in.LastError]++
				continue
			}
			detail := ""
			switch {
			case in.LastError != "":
				detail = firstLine(in.LastError, 70)
			case in.PublishedOn != "" && in.Period == checker.CurrentPeriod:
				detail = "newest item " + in.PublishedOn + ", stale after " + in.DueAt.Format("2006-01-02")
			case in.PublishedOn != "":
				detail = "published " + in.PublishedOn + ", due " + in.DueAt.Format("2006-01-02")
			case !in.DueAt.IsZero() && in.DueAt.Unix() > 0:
				detail = "due " + in.DueAt.Format("2006-01-02")
			}
			if len(in.FailedRules) > 0 {
				detail += " failing " + strings.Join(in.FailedRules, ",")
			}
			fmt.Fprintf(w, "      %-15s %s/%s %s  %s\n", in.State, in.PackID, in.ObligationID, in.Period, detail)
		}
		for msg, n := range unreadable {
			fmt.Fprintf(w, "      %-15s %d obligations, the site could not be read: %s\n", events.StateUnknown, n, firstLine(msg, 90))
		}
		if noTrigger > 0 {
			fmt.Fprintf(w, "      %-15s %d budget obligations: the registry gives no approval date (budget_approved)\n", events.StateUnknown, noTrigger)
		}
	}

	// The notifier sends after it has recorded the findings: wait until it
	// owes nothing that is due, so that the immediate notices and the
	// digests due at the demo's clock are out.
	if n := p.Notifier(); n != nil {
		if err := n.WaitIdle(ctx); err != nil {
			return err
		}
	}
	dir := p.Outbox()
	if dir == "" {
		fmt.Fprintln(w, "\nNotices were sent over SMTP.")
		return nil
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.eml"))
	if err != nil {
		return err
	}
	sort.Strings(files)
	old := map[string]bool{}
	for _, f := range already {
		old[f] = true
	}
	var fresh []string
	for _, f := range files {
		if !old[f] {
			fresh = append(fresh, f)
		}
	}
	files = fresh
	fmt.Fprintf(w, "\nWhat was sent (%d new emails, written to %s):\n", len(files), dir)
	var shown, digest *mailtext.Message
	for _, f := range files {
		m, err := mailtext.ReadFile(f)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "  To: %s\n  Subject: %s\n  File: %s\n\n", m.To, m.Subject, f)
		if shown == nil && (strings.HasPrefix(m.Subject, "【逾期】") || strings.HasPrefix(m.Subject, "【逾期督办】")) {
			shown = m
		}
		if digest == nil && strings.HasPrefix(m.Subject, "【政务公开日报】") {
			digest = m
		}
	}
	if shown != nil {
		fmt.Fprintf(w, "The overdue notice to %s, as sent:\n\n%s\n", shown.To, indent(shown.Text, "  | "))
	}
	if digest != nil {
		fmt.Fprintf(w, "\nThe daily digest to %s, as sent:\n\n%s\n", digest.To, indent(digest.Text, "  | "))
	}
	return nil
}

func firstLine(s string, n int) string {
	s, _, _ = strings.Cut(s, "\n")
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

func indent(s, prefix string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = prefix + l
	}
	return strings.Join(lines, "\n")
}

// demoAsOf resolves the --as-of flag.
func demoAsOf(flagValue string, now time.Time) (time.Time, error) {
	cst := time.FixedZone("CST", 8*3600)
	switch flagValue {
	case "now":
		return now, nil
	case "":
		// 09:00 on February 3 after the most recent Jan 31 deadline.
		return time.Date(portalsim.LastDueYear(now)+1, 2, 3, 9, 0, 0, 0, cst), nil
	}
	d, err := time.ParseInLocation("2006-01-02", flagValue, cst)
	if err != nil {
		return time.Time{}, fmt.Errorf("--as-of %q: want a date (YYYY-MM-DD), now, or nothing", flagValue)
	}
	return d.Add(9 * time.Hour), nil
}

// demoClock is a clock that starts at a chosen instant, runs at real speed
// and can be moved forward.
type demoClock struct {
	mu    sync.Mutex
	base  time.Time
	start time.Time
}

func newDemoClock(at time.Time) *demoClock { return &demoClock{base: at, start: time.Now()} }

func (c *demoClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.base.Add(time.Since(c.start))
}

func (c *demoClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.base, c.start = t, time.Now()
}

// demoRequests is a small request register for the first department of
// the demo fleet, dated relative to the demo's clock: a request received
// five weeks ago and still unanswered (past the 20 working days), one
// received last week, and one answered in time.
func demoRequests(reg *registry.Registry, asOf time.Time) (events.Requests, bool) {
	for _, id := range reg.IDs() {
		a, _ := reg.Get(id)
		if a.Jurisdiction != "" && a.Jurisdiction != "cn" {
			continue
		}
		day := func(days int) string { return asOf.AddDate(0, 0, days).Format(events.DateLayout) }
		year := asOf.Year()
		return events.Requests{AgencyID: id, Source: "demo", RecordedAt: asOf, Cases: []events.RequestCase{
			{ID: fmt.Sprintf("YSQ-%d-0001", year), Title: "辖区内学校校舍安全检查结果", Received: day(-36)},
			{ID: fmt.Sprintf("YSQ-%d-0002", year), Title: "2025年道路维修资金使用明细", Received: day(-6)},
			{ID: fmt.Sprintf("YSQ-%d-0003", year), Title: "政府采购合同", Received: day(-40), Answered: day(-25)},
		}}, true
	}
	return events.Requests{}, false
}
