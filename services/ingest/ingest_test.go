package ingest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/gongkai/gongkai/pkg/events"
	"github.com/gongkai/gongkai/pkg/events/eventstest"
	"github.com/gongkai/gongkai/services/ingest/internal/fetch"
	"github.com/gongkai/gongkai/services/internal/evidence"
	"github.com/gongkai/gongkai/services/internal/portalsim"
	"github.com/gongkai/gongkai/services/internal/registry"
)

var cst = time.FixedZone("CST", 8*3600)

// testService starts an ingest service (workers, no scheduler) against an
// embedded JetStream server and a simulated fleet.
func testService(t *testing.T, spec portalsim.Spec, opts Options) (*Service, *portalsim.Fleet, *eventstest.Sink) {
	t.Helper()
	fleet, reg, js, sink := testFleet(t, spec)
	opts.JetStream, opts.Registry = js, reg
	svc, _ := startService(t, spec, opts)
	return svc, fleet, sink
}

// testFleet starts a simulated fleet and an embedded JetStream server, and
// returns the fleet's registry and a sink of the observations published.
func testFleet(t *testing.T, spec portalsim.Spec) (*portalsim.Fleet, *registry.Registry, jetstream.JetStream, *eventstest.Sink) {
	t.Helper()
	fleet, err := portalsim.Start(spec)
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
	srv := eventstest.RunServer(t, "")
	nc, js := eventstest.Connect(t, srv.URL)
	return fleet, reg, js, eventstest.NewSink(t, nc, events.SubjectObservations+".>")
}

// startService starts an ingest service (workers, no scheduler) with opts
// and returns it with a function that stops it (before the test ends, or
// when it ends).
func startService(t *testing.T, spec portalsim.Spec, opts Options) (*Service, func()) {
	t.Helper()
	opts.NoSchedule = true
	opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	if opts.Registerer == nil {
		opts.Registerer = prometheus.NewRegistry()
	}
	if opts.Now == nil {
		asOf := spec.AsOf
		opts.Now = func() time.Time { return asOf }
	}
	if opts.Fetch.Timeout == 0 {
		opts.Fetch.Timeout = 2 * time.Second
	}
	opts.Fetch.Backoff = 10 * time.Millisecond
	svc, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	stop := sync.OnceFunc(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	t.Cleanup(stop)
	deadline := time.Now().Add(10 * time.Second)
	for svc.Ready(ctx) != nil {
		if time.Now().After(deadline) {
			t.Fatal("service not ready")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return svc, stop
}

func observations(t *testing.T, sink *eventstest.Sink, n int) map[string]events.Observation {
	t.Helper()
	if !sink.WaitFor(60*time.Second, func(evs []events.Event) bool { return len(evs) >= n }) {
		t.Fatalf("%d observations, want %d", len(sink.Events()), n)
	}
	out := map[string]events.Observation{}
	for _, ev := range sink.Events() {
		o, err := events.Decode[events.Observation](ev)
		if err != nil {
			t.Fatal(err)
		}
		out[o.AgencyID] = o
	}
	return out
}

func column(o events.Observation, key string) events.Column {
	c, _ := o.Column(key)
	return c
}

// Every fault of the simulator yields an observation that names it, and
// the healthy sites are read completely.
func TestFaultsAreObserved(t *testing.T) {
	asOf := time.Date(2026, 2, 10, 9, 0, 0, 0, cst)
	year := portalsim.LastDueYear(asOf)
	ok := func(id string, mod func(*portalsim.Site)) portalsim.Site {
		s := portalsim.Site{AgencyID: id, Name: id + "局", Level: "city", Kind: "department", Host: "platform",
			Reports: []portalsim.Report{
				{Year: year - 1, Published: time.Date(year, 1, 20, 0, 0, 0, 0, cst)},
				{Year: year, Published: time.Date(year+1, 1, 20, 0, 0, 0, 0, cst)},
			},
			Budgets: []portalsim.Budget{{Year: year + 1, Published: time.Date(year+1, 2, 6, 0, 0, 0, 0, cst)}}}
		if mod != nil {
			mod(&s)
			s.Host = ""
		}
		return s
	}
	spec := portalsim.Spec{AsOf: asOf, Sites: []portalsim.Site{
		ok("healthy", nil),
		ok("pdf", func(s *portalsim.Site) { s.Reports[1].Format = portalsim.FormatPDF }),
		ok("docx", func(s *portalsim.Site) {
			s.Reports[1].Format = portalsim.FormatDOCX
			s.Reports[1].ArithmeticError = true
		}),
		ok("missing", func(s *portalsim.Site) { s.Missing = []string{"leaders"} }),
		ok("blank", func(s *portalsim.Site) { s.Blank = []string{"org_intro", "policy_interpretation"} }),
		ok("stale", func(s *portalsim.Site) { s.Stale = []string{"news"} }),
		ok("noreport", func(s *portalsim.Site) { s.Reports = s.Reports[:1] }),
		ok("gbk", func(s *portalsim.Site) { s.Charset = portalsim.CharsetGBK }),
		ok("gbkbare", func(s *portalsim.Site) { s.Charset = portalsim.CharsetGBKBare; s.Layout = portalsim.LayoutTRS }),
		ok("table", func(s *portalsim.Site) { s.Layout = portalsim.LayoutTable; s.PageSize = 1 }),
		ok("e500", func(s *portalsim.Site) { s.Fault = portalsim.FaultServerError }),
		ok("flaky", func(s *portalsim.Site) { s.Fault = portalsim.FaultFlaky }),
		ok("loop", func(s *portalsim.Site) { s.Fault = portalsim.FaultRedirectLoop }),
		ok("big", func(s *portalsim.Site) { s.Fault = portalsim.FaultOversized }),
		ok("down", func(s *portalsim.Site) { s.Fault = portalsim.FaultUnreachable }),
		ok("hang", func(s *portalsim.Site) { s.Fault = portalsim.FaultTimeout }),
	}}
	reg := prometheus.NewRegistry()
	svc, _, sink := testService(t, spec, Options{Workers: 8, Registerer: reg, Fetch: FetchOptions{Timeout: 300 * time.Millisecond}})
	if _, n, err := svc.PublishRun(context.Background(), "manual", asOf, nil); err != nil || n != len(spec.Sites) {
		t.Fatalf("PublishRun: %d, %v", n, err)
	}
	obs := observations(t, sink, len(spec.Sites))

	h := obs["healthy"]
	if h.Outcome != events.OutcomeOK || h.HomeNewest == "" || h.HomeEvidence == "" {
		t.Fatalf("healthy: %+v", h)
	}
	for _, key := range []string{"org_intro", "leaders", "ogi_guide", "ogi_rules", "annual_report", "budget_final_accounts", "ogi_request", "policy_interpretation", "news", "notices", "statutory_disclosure", "ogi_catalogue", "personnel_planning"} {
		c := column(h, key)
		if c.Outcome != events.OutcomeOK || c.Blank || c.Evidence == "" {
			t.Errorf("healthy %s: %+v", key, c)
		}
	}
	ar := column(h, events.ColumnAnnualReport)
	if len(ar.Items) != 2 || ar.Items[0].Year != year || ar.Items[0].Date != "2026-01-20" || ar.Items[0].Text == "" || ar.Items[0].Evidence == "" {
		t.Errorf("healthy reports: %+v", ar.Items)
	}
	if b := column(h, events.ColumnBudget); len(b.Items) != 1 || b.Items[0].Year != year+1 || b.Items[0].Date != "2026-02-06" {
		t.Errorf("budget items: %+v", b.Items)
	}
	for _, id := range []string{"pdf", "docx"} {
		it := column(obs[id], events.ColumnAnnualReport).Items
		if len(it) == 0 || len(it[0].Attachments) != 1 || it[0].Attachments[0].Outcome != events.OutcomeOK || it[0].Text == "" || !strings.HasSuffix(it[0].TextSource, "."+id) {
			t.Errorf("%s report: %+v", id, it)
		}
	}
	if c := column(obs["missing"], "leaders"); c.Outcome != events.OutcomeNotFound || !strings.Contains(c.Error, "领导介绍") {
		t.Errorf("missing column: %+v", c)
	}
	for _, key := range []string{"org_intro", "policy_interpretation"} {
		if c := column(obs["blank"], key); c.Outcome != events.OutcomeOK || !c.Blank || c.ItemCount != 0 {
			t.Errorf("blank %s: %+v", key, c)
		}
	}
	if c := column(obs["stale"], "news"); c.Newest == "" || c.Newest > "2025-01-15" {
		t.Errorf("stale news: %+v", c)
	}
	if c := column(obs["noreport"], events.ColumnAnnualReport); c.Outcome != events.OutcomeOK || len(c.Items) != 1 {
		t.Errorf("missing report: %+v", c)
	}
	for _, id := range []string{"gbk", "gbkbare"} {
		if c := column(obs[id], events.ColumnAnnualReport); c.Outcome != events.OutcomeOK || len(c.Items) != 2 || !strings.Contains(c.Items[0].Title, "年度报告") {
			t.Errorf("%s: %+v", id, c)
		}
	}
	if c := column(obs["gbkbare"], "news"); c.Newest == "" {
		t.Errorf("TRS short dates: %+v", c)
	}
	if c := column(obs["table"], events.ColumnAnnualReport); c.Pages != 2 || len(c.Items) != 2 || c.Items[1].Date != "2025-01-20" {
		t.Errorf("table layout with pagination: %+v", c)
	}
	for id, want := range map[string]string{
		"e500": events.OutcomeHTTPError, "loop": events.OutcomeRedirects, "big": events.OutcomeTooLarge,
		"down": events.OutcomeUnreachable, "hang": events.OutcomeTimeout,
	} {
		if o := obs[id]; o.Outcome != want || o.Error == "" {
			t.Errorf("%s: outcome %q (%s), want %q", id, o.Outcome, o.Error, want)
		}
	}
	if o := obs["flaky"]; o.Outcome != events.OutcomeOK || column(o, events.ColumnAnnualReport).Outcome != events.OutcomeOK {
		t.Errorf("flaky site not read after retries: %+v", o)
	}
	// The problems are counted.
	if got := testutil.ToFloat64(svc.metrics.jobsDone.WithLabelValues(events.OutcomeTimeout)); got != 1 {
		t.Errorf("timeouts counted %v", got)
	}
	if got := testutil.ToFloat64(svc.metrics.blankColumns); got != 2 {
		t.Errorf("blank columns counted %v", got)
	}
	if got := testutil.ToFloat64(svc.metrics.runCompleted); got != float64(len(spec.Sites)) {
		t.Errorf("run completed gauge %v", got)
	}

	// The evidence is retrievable and the report's text is stored.
	ev, err := evidence.Open(context.Background(), svc.opts.JetStream)
	if err != nil {
		t.Fatal(err)
	}
	text, meta, err := ev.Get(context.Background(), ar.Items[0].Text)
	if err != nil || !strings.Contains(string(text), "healthy局") || meta.DerivedFrom != ar.Items[0].Evidence {
		t.Fatalf("report text evidence: %v %+v %.200s", err, meta, text)
	}
}

// A second audit of an unchanged site costs no new evidence: conditional
// requests are answered 304 and the stored bodies are reused.
func TestSecondAuditReusesEvidence(t *testing.T) {
	asOf := time.Date(2026, 2, 10, 9, 0, 0, 0, cst)
	spec := portalsim.Generate(portalsim.GenOptions{Agencies: 6, Seed: 3, AsOf: asOf, FaultRate: -1})
	svc, _, sink := testService(t, spec, Options{Workers: 4})
	ctx := context.Background()
	if _, _, err := svc.PublishRun(ctx, "manual", asOf, nil); err != nil {
		t.Fatal(err)
	}
	first := observations(t, sink, 6)
	stored := testutil.ToFloat64(svc.metrics.evidenceNew)
	if _, _, err := svc.PublishRun(ctx, "manual", asOf.Add(time.Hour), nil); err != nil {
		t.Fatal(err)
	}
	second := observations(t, sink, 12)
	if got := testutil.ToFloat64(svc.metrics.evidenceNew); got != stored {
		t.Errorf("second audit stored %v new objects", got-stored)
	}
	if testutil.ToFloat64(svc.metrics.notModified) == 0 {
		t.Error("no conditional request was answered 304")
	}
	for id, o := range first {
		if second[id].HomeEvidence != o.HomeEvidence || column(second[id], events.ColumnAnnualReport).Items[0].Text != column(o, events.ColumnAnnualReport).Items[0].Text {
			t.Errorf("%s: evidence changed between identical audits", id)
		}
	}
}

func TestInterleaveAndJitter(t *testing.T) {
	reg, err := registry.Parse("r.yaml", []byte(`agencies:
  - {id: a1, name: 甲, level: city, kind: department, website: "http://p.example/a1/"}
  - {id: a2, name: 乙, level: city, kind: department, website: "http://p.example/a2/"}
  - {id: a3, name: 丙, level: city, kind: department, website: "http://p.example/a3/"}
  - {id: b1, name: 丁, level: city, kind: department, website: "http://b.example/"}
  - {id: c1, name: 戊, level: city, kind: department, website: "http://c.example/"}
`))
	if err != nil {
		t.Fatal(err)
	}
	s := &Service{opts: Options{Registry: reg}}
	if got := strings.Join(s.Interleave(reg.IDs()), ","); got != "a1,b1,c1,a2,a3" {
		t.Errorf("Interleave = %s", got)
	}
	for _, id := range reg.IDs() {
		d := JitterOffset(id, 30*time.Minute)
		if d < 0 || d >= 30*time.Minute || d != JitterOffset(id, 30*time.Minute) || d%time.Second != 0 {
			t.Errorf("JitterOffset(%s) = %v", id, d)
		}
	}
	if RunID("schedule", "provincial", time.Date(2026, 2, 2, 1, 30, 0, 0, cst)) != "schedule-provincial-2026-02-02T01:30:00+08:00" ||
		RunID("schedule", "default", time.Date(2026, 2, 2, 2, 0, 0, 0, cst)) != "schedule-2026-02-02T02:00:00+08:00" {
		t.Error("RunID")
	}
}

// A jittered group run publishes every job once, with the same message
// ids from two scheduler replicas.
func TestGroupRunWithJitterDeduplicates(t *testing.T) {
	asOf := time.Now().In(cst).Truncate(time.Minute)
	spec := portalsim.Generate(portalsim.GenOptions{Agencies: 5, Seed: 1, AsOf: asOf, FaultRate: -1})
	svc, _, sink := testService(t, spec, Options{Workers: 4, Jitter: 2 * time.Second, Now: time.Now})
	ctx := context.Background()
	at := time.Now().Add(-time.Second)
	errs := make(chan error, 2)
	for range 2 {
		go func() {
			_, _, err := svc.PublishGroupRun(ctx, registry.DefaultSchedule, at)
			errs <- err
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if got := testutil.ToFloat64(svc.metrics.jobsPublished.WithLabelValues("schedule")); got != 5 {
		t.Errorf("%v jobs enqueued by two replicas, want 5", got)
	}
	observations(t, sink, 5)
	var buf bytes.Buffer
	done := make(chan error, 1)
	go func() {
		done <- WatchRun(ctx, svc.opts.JetStream, RunID("schedule", "", at), 5, at.Add(-time.Minute), func(p Progress) {
			buf.WriteString(p.String() + "\n")
		})
	}()
	select {
	case err := <-done:
		if err != nil || !strings.Contains(buf.String(), "audited 5/5") {
			t.Fatalf("WatchRun: %v\n%s", err, buf.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("WatchRun did not finish")
	}
}

// The newest budget and the newest final accounts are read in every format
// the simulator serves (tables on the page, DOCX, PDF), and the observation
// says which standard tables and explanations their text shows.
func TestBudgetTextFacts(t *testing.T) {
	asOf := time.Date(2026, 2, 10, 9, 0, 0, 0, cst)
	site := func(id, format string, omit ...string) portalsim.Site {
		return portalsim.Site{AgencyID: id, Name: id + "局", Level: "city", Kind: "department", Host: "platform",
			Budgets: []portalsim.Budget{
				{Year: 2025, Published: time.Date(2025, 2, 12, 0, 0, 0, 0, cst)},
				{Year: 2024, Final: true, Published: time.Date(2025, 7, 15, 0, 0, 0, 0, cst)},
				{Year: 2026, Published: time.Date(2026, 2, 6, 0, 0, 0, 0, cst), Format: format, Omit: omit},
			}}
	}
	spec := portalsim.Spec{AsOf: asOf, Sites: []portalsim.Site{
		site("html", portalsim.FormatHTML),
		site("docx", portalsim.FormatDOCX),
		site("pdf", portalsim.FormatPDF),
		site("omit", portalsim.FormatDOCX, portalsim.BudgetTables[6], portalsim.BudgetTables[7]),
	}}
	svc, _, sink := testService(t, spec, Options{Workers: 4})
	if _, _, err := svc.PublishRun(context.Background(), "manual", asOf, nil); err != nil {
		t.Fatal(err)
	}
	obs := observations(t, sink, len(spec.Sites))
	ev, err := evidence.Open(context.Background(), svc.opts.JetStream)
	if err != nil {
		t.Fatal(err)
	}
	for id, o := range obs {
		items := column(o, events.ColumnBudget).Items
		byYear := map[int]events.Item{}
		for _, it := range items {
			byYear[it.Year] = it
		}
		b, old, fin := byYear[2026], byYear[2025], byYear[2024]
		if len(items) != 3 || b.Budget == nil || fin.Budget == nil || old.Budget != nil || old.Evidence == "" {
			t.Fatalf("%s: budget items %+v", id, items)
		}
		want := portalsim.BudgetTables
		if id == "omit" {
			want = want[:6]
		}
		if b.Budget.Kind != events.BudgetKindBudget || strings.Join(b.Budget.Tables, ",") != strings.Join(want, ",") {
			t.Errorf("%s: budget tables %q, want %q", id, b.Budget.Tables, want)
		}
		if strings.Join(b.Budget.Explanations, ",") != "机关运行经费,三公经费" {
			t.Errorf("%s: explanations %q", id, b.Budget.Explanations)
		}
		if b.Text == "" || b.TextError != "" || len(b.Budget.Sources) != 1+len(b.Attachments) || b.TextSource != b.URL {
			t.Errorf("%s: budget text %q (%s) from %q", id, b.Text, b.TextError, b.Budget.Sources)
		}
		if ext := map[string]string{"docx": ".docx", "pdf": ".pdf", "omit": ".docx"}[id]; ext != "" && (len(b.Attachments) != 1 || !strings.HasSuffix(b.Attachments[0].URL, ext)) {
			t.Errorf("%s: attachments %+v", id, b.Attachments)
		}
		if fin.Budget.Kind != events.BudgetKindFinalAccounts || len(fin.Budget.Tables) != 9 || fin.Text == "" {
			t.Errorf("%s: final accounts %+v", id, fin.Budget)
		}
		text, meta, err := ev.Get(context.Background(), b.Text)
		if err != nil || !strings.Contains(string(text), "机关运行经费") || meta.DerivedFrom != b.Evidence {
			t.Errorf("%s: budget text evidence: %v %+v", id, err, meta)
		}
	}
}

func TestStoredSet(t *testing.T) {
	s := newStoredSet(2, time.Hour)
	at := time.Date(2026, 2, 10, 9, 0, 0, 0, cst)
	a, b, c := strings.Repeat("a", 64), strings.Repeat("b", 64), strings.Repeat("c", 64)
	s.add(a, at)
	if !s.has(a, at.Add(59*time.Minute)) || s.has(a, at.Add(time.Hour)) || s.has(b, at) {
		t.Fatal("has")
	}
	s.add(a, at)
	s.add(b, at)
	s.add(c, at)
	if n := len(s.m); n != 2 || !s.has(c, at) {
		t.Fatalf("%d entries kept, want 2 with the newest", n)
	}
	s.add("not a hash", at)
	if s.has("not a hash", at) {
		t.Fatal("an invalid hash was remembered")
	}
}

// A restarted ingest (a new process: nothing in memory) still makes its
// requests conditional: the agency's last observation names the bodies, the
// evidence store holds their ETags, and unchanged pages are answered 304.
func TestRestartedIngestStillAsksConditionally(t *testing.T) {
	asOf := time.Date(2026, 2, 10, 9, 0, 0, 0, cst)
	spec := portalsim.Generate(portalsim.GenOptions{Agencies: 4, Seed: 5, AsOf: asOf, FaultRate: -1})
	_, reg, js, sink := testFleet(t, spec)
	first, stopFirst := startService(t, spec, Options{JetStream: js, Registry: reg, Workers: 2})
	ctx := context.Background()
	if _, _, err := first.PublishRun(ctx, "manual", asOf, nil); err != nil {
		t.Fatal(err)
	}
	observations(t, sink, 4)
	stopFirst()
	second, _ := startService(t, spec, Options{JetStream: js, Registry: reg, Workers: 2})
	if _, _, err := second.PublishRun(ctx, "manual", asOf.Add(time.Hour), nil); err != nil {
		t.Fatal(err)
	}
	observations(t, sink, 8)
	recovered := testutil.ToFloat64(second.metrics.validatorsRecovered)
	notModified := testutil.ToFloat64(second.metrics.notModified)
	if recovered == 0 || notModified == 0 || testutil.ToFloat64(first.metrics.jobsDone.WithLabelValues(events.OutcomeOK)) != 4 {
		t.Errorf("no conditional request answered 304 (%v validators recovered)", recovered)
	}
	if n := testutil.ToFloat64(second.metrics.evidenceNew); n != 0 {
		t.Errorf("the restarted ingest stored %v new bodies of unchanged sites", n)
	}
}

// Sites that send no validators cost no look-ups on later audits: the
// fetcher remembers that their URLs answered without any, so the worker
// neither reads the agency's last observation for bodies to ask about nor
// asks the evidence store for each body's validators.
func TestSitesWithoutValidatorsCostNoLookups(t *testing.T) {
	asOf := time.Date(2026, 2, 10, 9, 0, 0, 0, cst)
	spec := portalsim.Generate(portalsim.GenOptions{Agencies: 4, Seed: 5, AsOf: asOf, FaultRate: -1})
	for i := range spec.Sites {
		spec.Sites[i].NoValidators = true
	}
	_, reg, js, sink := testFleet(t, spec)
	var described atomic.Int32
	svc, _ := startService(t, spec, Options{JetStream: js, Registry: reg, Workers: 2,
		Fetch: fetch.Options{Describe: func(context.Context, string) (string, string, string, error) {
			described.Add(1)
			return "", "", "", errors.New("no validators stored")
		}}})
	ctx := context.Background()
	if _, _, err := svc.PublishRun(ctx, "manual", asOf, nil); err != nil {
		t.Fatal(err)
	}
	observations(t, sink, 4)
	afterFirst := described.Load()
	if _, _, err := svc.PublishRun(ctx, "manual", asOf.Add(time.Hour), nil); err != nil {
		t.Fatal(err)
	}
	observations(t, sink, 8)
	if n := described.Load() - afterFirst; n != 0 {
		t.Errorf("the second audit asked the evidence store for validators %d times", n)
	}
	if n := testutil.ToFloat64(svc.metrics.validatorsRecovered); n != 0 {
		t.Errorf("the second audit read the agencies' last observations for %v bodies to ask about", n)
	}
	if n := testutil.ToFloat64(svc.metrics.notModified); n != 0 {
		t.Errorf("%v answers 304 from sites without validators", n)
	}
}
