package checker_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/gongkai/gongkai/pkg/events"
	"github.com/gongkai/gongkai/pkg/events/eventstest"
	"github.com/gongkai/gongkai/services/checker"
	"github.com/gongkai/gongkai/services/internal/obligation"
	"github.com/gongkai/gongkai/services/internal/registry"
)

var cst = time.FixedZone("CST", 8*3600)

func testRegistry(t testing.TB, n int) *registry.Registry {
	t.Helper()
	var b strings.Builder
	b.WriteString("agencies:\n")
	for i := range n {
		fmt.Fprintf(&b, "  - {id: a%05d, name: 测试局%d, level: city, kind: department, website: \"http://a%d.example/\"}\n", i, i, i)
	}
	reg, err := registry.Parse("r.yaml", []byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

func rules(t testing.TB) checker.Rules {
	t.Helper()
	cat, err := obligation.LoadEmbedded()
	if err != nil {
		t.Fatal(err)
	}
	return checker.NewRules(cat)
}

type running struct {
	svc    *checker.Service
	reg    *prometheus.Registry
	cancel context.CancelFunc
	done   chan error
}

// startChecker starts a checker and waits until it is ready; before is
// applied to the service before it runs (checker.WrapBucket, for one).
func startChecker(t testing.TB, js jetstream.JetStream, reg *registry.Registry, r checker.Rules, now func() time.Time, before ...func(*checker.Service)) *running {
	t.Helper()
	m := prometheus.NewRegistry()
	logger := slog.New(slog.DiscardHandler)
	svc, err := checker.New(checker.Options{
		JetStream: js, Registry: reg, Rules: r, NoTick: true,
		Logger: logger, Registerer: m, Now: now,
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range before {
		f(svc)
	}
	ctx, cancel := context.WithCancel(context.Background())
	rr := &running{svc: svc, reg: m, cancel: cancel, done: make(chan error, 1)}
	go func() { rr.done <- svc.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for svc.Ready(context.Background()) != nil {
		if time.Now().After(deadline) {
			t.Fatal("checker not ready")
		}
		time.Sleep(5 * time.Millisecond)
	}
	return rr
}

func (r *running) stop(t testing.TB) {
	t.Helper()
	r.cancel()
	if err := <-r.done; err != nil {
		t.Fatalf("checker stopped with %v", err)
	}
}

// observation says agency published (or not) its report for year.
func observation(agency, run string, at time.Time, publishedOn string) events.Observation {
	col := events.Column{Key: events.ColumnAnnualReport, URL: "http://x.example/ndbg/", Outcome: events.OutcomeOK, Evidence: strings.Repeat("a", 64)}
	if publishedOn != "" {
		col.Items = []events.Item{{Title: "测试局2025年政府信息公开工作年度报告", URL: "http://x.example/ndbg/1.html", Date: publishedOn, Year: 2025}}
		col.ItemCount = 1
	}
	return events.Observation{AgencyID: agency, RunID: run, ObservedAt: at, Site: "http://x.example/", Outcome: events.OutcomeOK,
		Columns: []events.Column{col}}
}

func publishObs(t testing.TB, js jetstream.JetStream, o events.Observation) {
	t.Helper()
	ev, err := events.New("test", "obs-"+o.AgencyID+"-"+o.RunID, o.AgencyID, o.ObservedAt, o)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := events.Publish(context.Background(), js, events.ObservationSubject(o.AgencyID), ev); err != nil {
		t.Fatal(err)
	}
}

// arFindings counts the stored findings about the department annual report
// (an observation also feeds the website obligations; these tests are
// about one obligation's transitions).
func arFindings(t testing.TB, js jetstream.JetStream) int {
	t.Helper()
	n := 0
	for _, f := range allFindings(t, js) {
		if f.ObligationID == "CN-R19-AR-DEPT" {
			n++
		}
	}
	return n
}

// allFindings reads every finding in the stream, in order.
func allFindings(t testing.TB, js jetstream.JetStream) []events.Finding {
	t.Helper()
	ctx := context.Background()
	c, err := js.OrderedConsumer(ctx, events.StreamFindings, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	info, err := c.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.NumPending == 0 {
		return nil
	}
	batch, err := c.Fetch(int(info.NumPending), jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	var out []events.Finding
	for m := range batch.Messages() {
		ev, err := events.Unmarshal(m.Data())
		if err != nil {
			t.Fatal(err)
		}
		f, err := events.Decode[events.Finding](ev)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, f)
	}
	return out
}

func streamMsgs(t testing.TB, js jetstream.JetStream, name string) uint64 {
	t.Helper()
	st, err := js.Stream(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Msgs
}

// waitConsumed waits until the checker has acknowledged (or terminated)
// every observation in the stream. It compares the consumer's ack floor
// with the stream's last sequence: a consumer's pending count can lag a
// publish by a moment.
func waitConsumed(t testing.TB, js jetstream.JetStream) {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(60 * time.Second)
	for {
		st, err := js.Stream(ctx, events.StreamObservations)
		if err != nil {
			t.Fatal(err)
		}
		si, err := st.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		c, err := js.Consumer(ctx, events.StreamObservations, events.ConsumerChecker)
		if err != nil {
			t.Fatal(err)
		}
		info, err := c.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if info.AckFloor.Stream >= si.State.LastSeq && info.NumAckPending == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("checker did not consume: ack floor %d of %d, %d unacked", info.AckFloor.Stream, si.State.LastSeq, info.NumAckPending)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Two checker replicas compete for observations that repeat the same facts
// for the same agencies, several times and concurrently: every instance
// transitions once, and exactly one finding per transition is stored.
func TestTwoReplicasNeverDoubleAFinding(t *testing.T) {
	srv := eventstest.RunServer(t, "")
	_, js := eventstest.Connect(t, srv.URL)
	reg := testRegistry(t, 20)
	r := rules(t)
	now := func() time.Time { return time.Date(2026, 2, 3, 9, 0, 0, 0, cst) }
	a := startChecker(t, js, reg, r, now)
	b := startChecker(t, js, reg, r, now)
	at := now()
	var wg sync.WaitGroup
	for run := range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 20 {
				pub := ""
				if i%2 == 0 {
					pub = "2026-01-20"
				}
				publishObs(t, js, observation(fmt.Sprintf("a%05d", i), fmt.Sprintf("run-%d", run), at, pub))
			}
		}()
	}
	wg.Wait()
	waitConsumed(t, js)
	a.stop(t)
	b.stop(t)
	// 20 agencies, one instance each (period 2025): one finding each.
	if n := arFindings(t, js); n != 20 {
		t.Fatalf("%d annual-report findings stored, want 20", n)
	}
	got := testutil.ToFloat64(prometheusCounter(t, a.reg, "gongkai_checker_observations_total")) +
		testutil.ToFloat64(prometheusCounter(t, b.reg, "gongkai_checker_observations_total"))
	if got != 100 {
		t.Fatalf("replicas evaluated %v observations, want 100", got)
	}
}

// A restarted checker continues from the stored state: the same facts
// announce nothing new, a change announces exactly one transition.
func TestRestartContinuesFromStoredState(t *testing.T) {
	dir := t.TempDir()
	srv := eventstest.RunServer(t, dir)
	_, js := eventstest.Connect(t, srv.URL)
	reg := testRegistry(t, 2)
	r := rules(t)
	clock := time.Date(2026, 2, 3, 9, 0, 0, 0, cst)
	now := func() time.Time { return clock }
	c := startChecker(t, js, reg, r, now)
	publishObs(t, js, observation("a00000", "r1", clock, ""))
	publishObs(t, js, observation("a00001", "r1", clock, "2026-01-20"))
	waitConsumed(t, js)
	c.stop(t)
	if n := arFindings(t, js); n != 2 {
		t.Fatalf("%d findings after the first audit, want 2", n)
	}
	total := streamMsgs(t, js, events.StreamFindings)

	c = startChecker(t, js, reg, r, now)
	publishObs(t, js, observation("a00000", "r2", clock, ""))
	publishObs(t, js, observation("a00001", "r2", clock, "2026-01-20"))
	waitConsumed(t, js)
	if n := streamMsgs(t, js, events.StreamFindings); n != total {
		t.Fatalf("%d findings after repeating the facts, want still %d", n, total)
	}
	publishObs(t, js, observation("a00000", "r3", clock, "2026-02-02"))
	waitConsumed(t, js)
	c.stop(t)
	if n := arFindings(t, js); n != 3 {
		t.Fatalf("%d findings after the late report appeared, want 3", n)
	}
}

// Bad input is terminated with a reason and counted, never retried and
// never fatal; good input behind it is still processed.
func TestInvalidObservationsAreTerminated(t *testing.T) {
	srv := eventstest.RunServer(t, "")
	nc, js := eventstest.Connect(t, srv.URL)
	reg := testRegistry(t, 1)
	now := func() time.Time { return time.Date(2026, 2, 3, 9, 0, 0, 0, cst) }
	c := startChecker(t, js, reg, rules(t), now)
	// The server announces each termination with its reason.
	reasons := make(chan string, 16)
	sub, err := nc.Subscribe("$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED.>", func(m *nats.Msg) {
		var adv struct{ Reason string }
		_ = json.Unmarshal(m.Data, &adv)
		reasons <- adv.Reason
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = sub.Unsubscribe() }()
	for i, body := range []string{
		"not json",
		`{"specversion":"1.0","id":"x","source":"s","type":"gongkai.observation.v1","time":"2026-01-01T00:00:00Z","datacontenttype":"application/json","data":{"agency_id":"a00000"}}`,
		`{"specversion":"1.0","id":"y","source":"s","type":"gongkai.finding.v1","time":"2026-01-01T00:00:00Z","datacontenttype":"application/json","data":{}}`,
	} {
		if _, err := js.Publish(context.Background(), fmt.Sprintf("%s.bad%d", events.SubjectObservations, i), []byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	publishObs(t, js, observation("nobody", "r1", now(), ""))
	publishObs(t, js, observation("a00000", "r1", now(), ""))
	waitConsumed(t, js)
	c.stop(t)
	if got := testutil.ToFloat64(prometheusCounterVec(t, c.reg, "gongkai_checker_messages_terminated_total", "observation")); got != 4 {
		t.Fatalf("terminated %v observations, want 4", got)
	}
	// Each for what is wrong with it: a finding on the observations
	// subject for its type, not for an agency it does not name.
	var got []string
	for len(got) < 4 {
		select {
		case r := <-reasons:
			got = append(got, r)
		case <-time.After(10 * time.Second):
			t.Fatalf("termination reasons announced: %q, want 4", got)
		}
	}
	all := strings.Join(got, "\n")
	for _, want := range []string{"gongkai.finding.v1", `agency "nobody" is not in the registry`} {
		if !strings.Contains(all, want) {
			t.Errorf("no termination reason mentions %q:\n%s", want, all)
		}
	}
	if strings.Contains(all, `agency "" is not in the registry`) {
		t.Errorf("a message was terminated for an empty agency, not for what is wrong with it:\n%s", all)
	}
	if n := arFindings(t, js); n != 1 {
		t.Fatalf("%d findings, want 1 (the valid observation)", n)
	}
}

// The clock alone moves an unpublished report from overdue to escalated,
// once, and leaves settled instances alone.
func TestTickEscalatesOnce(t *testing.T) {
	srv := eventstest.RunServer(t, "")
	_, js := eventstest.Connect(t, srv.URL)
	reg := testRegistry(t, 2)
	clock := time.Date(2026, 2, 3, 9, 0, 0, 0, cst)
	c := startChecker(t, js, reg, rules(t), func() time.Time { return clock })
	publishObs(t, js, observation("a00000", "r1", clock, ""))
	publishObs(t, js, observation("a00001", "r1", clock, "2026-01-20"))
	waitConsumed(t, js)
	later := time.Date(2026, 3, 2, 0, 5, 0, 0, cst)
	// The overdue instances are looked at — one report, and both home
	// pages, which show no dated item; the report escalates, the website
	// pack sets no escalation. The second tick looks at the home pages only.
	for i, want := range []int{3, 2} {
		n, err := c.svc.Tick(context.Background(), later)
		if err != nil {
			t.Fatal(err)
		}
		if n != want {
			t.Fatalf("tick %d looked at %d instances, want %d", i+1, n, want)
		}
	}
	c.stop(t)
	if n := arFindings(t, js); n != 3 {
		t.Fatalf("%d findings, want 3 (two first states and one escalation)", n)
	}
}

func prometheusCounter(t testing.TB, reg *prometheus.Registry, name string) prometheus.Collector {
	t.Helper()
	return gathered{t: t, reg: reg, name: name}
}

func prometheusCounterVec(t testing.TB, reg *prometheus.Registry, name, label string) prometheus.Collector {
	t.Helper()
	return gathered{t: t, reg: reg, name: name, label: label}
}

// gathered exposes one series of a registry as a collector for testutil.
type gathered struct {
	t     testing.TB
	reg   *prometheus.Registry
	name  string
	label string
}

func (g gathered) Describe(ch chan<- *prometheus.Desc) {
	ch <- prometheus.NewDesc(g.name, "test", nil, nil)
}

func (g gathered) Collect(ch chan<- prometheus.Metric) {
	mfs, err := g.reg.Gather()
	if err != nil {
		g.t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != g.name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if g.label != "" && (len(m.GetLabel()) == 0 || m.GetLabel()[0].GetValue() != g.label) {
				continue
			}
			ch <- prometheus.MustNewConstMetric(prometheus.NewDesc(g.name, "test", nil, nil), prometheus.CounterValue, m.GetCounter().GetValue())
		}
	}
}

func TestStateMetrics(t *testing.T) {
	srv := eventstest.RunServer(t, "")
	_, js := eventstest.Connect(t, srv.URL)
	reg, err := registry.Parse("r.yaml", []byte(`agencies:
  - {id: a, name: 甲, level: city, kind: department, region: 江苏省/淮安市, website: "http://a.example/"}
  - {id: b, name: 乙, level: city, kind: department, region: 浙江省/杭州市, website: "http://b.example/"}
`))
	if err != nil {
		t.Fatal(err)
	}
	clock := time.Date(2026, 2, 3, 9, 0, 0, 0, cst)
	c := startChecker(t, js, reg, rules(t), func() time.Time { return clock })
	publishObs(t, js, observation("a", "r1", clock, ""))
	publishObs(t, js, observation("b", "r1", clock, "2026-01-20"))
	waitConsumed(t, js)
	if err := c.svc.Ready(context.Background()); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		want := `
# HELP gongkai_checker_overdue_agencies Agencies with at least one overdue or escalated obligation, by region (province).
# TYPE gongkai_checker_overdue_agencies gauge
gongkai_checker_overdue_agencies{region="江苏省"} 1
gongkai_checker_overdue_agencies{region="浙江省"} 1
`
		// Both agencies' home pages show no dated item (overdue); only
		// 江苏省's report is missing.
		err := testutil.GatherAndCompare(c.reg, strings.NewReader(want), "gongkai_checker_overdue_agencies")
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	n, err := testutil.GatherAndCount(c.reg, "gongkai_checker_instances")
	if err != nil || n != 2*len(events.States) {
		t.Fatalf("instances series: %d, %v", n, err)
	}
	c.stop(t)
}

// A finding the findings stream refuses is not lost: the state is stored,
// the refusal goes to the resender, and once the stream accepts again the
// finding is published, once.
func TestRefusedFindingIsPublishedLater(t *testing.T) {
	srv := eventstest.RunServer(t, "")
	_, js := eventstest.Connect(t, srv.URL)
	ctx := context.Background()
	reg := testRegistry(t, 1)
	now := func() time.Time { return time.Date(2026, 2, 3, 9, 0, 0, 0, cst) }
	c := startChecker(t, js, reg, rules(t), now)
	st, err := js.Stream(ctx, events.StreamFindings)
	if err != nil {
		t.Fatal(err)
	}
	cfg := st.CachedInfo().Config
	if err := js.DeleteStream(ctx, events.StreamFindings); err != nil { // publishes now fail: no stream answers
		t.Fatal(err)
	}
	publishObs(t, js, observation("a00000", "r1", now(), ""))
	waitConsumed(t, js) // evaluated and acknowledged although its findings were refused
	for deadline := time.Now().Add(15 * time.Second); c.svc.Unsent() == 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) { // the refusal is reported asynchronously
			t.Fatal("no finding waits for the resender after the stream refused it")
		}
	}
	if _, err := js.CreateStream(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for arFindings(t, js) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the refused finding was not published after the stream accepted again (%d still unsent)", c.svc.Unsent())
		}
		time.Sleep(100 * time.Millisecond)
	}
	c.stop(t)
	if n := arFindings(t, js); n != 1 {
		t.Fatalf("%d annual-report findings, want 1", n)
	}
}

// The daily tick runs in every zone where the deadlines of the registry's
// agencies end: once a day in Beijing and, with a US agency, once in New
// York (the US FOIA pack), each published once whichever replica
// publishes it.
func TestTickInEachPacksZone(t *testing.T) {
	srv := eventstest.RunServer(t, "")
	_, js := eventstest.Connect(t, srv.URL)
	cn := startChecker(t, js, testRegistry(t, 3), rules(t), time.Now)
	cn.stop(t)
	if z := cn.svc.TickZones(); len(z) != 1 || z[0].String() != "Asia/Shanghai" {
		t.Fatalf("tick zones with Chinese agencies only: %v, want Asia/Shanghai alone", z)
	}
	reg, err := registry.Parse("r.yaml", []byte(`agencies:
  - {id: a, name: 甲局, level: city, kind: department, website: "http://a.example/"}
  - {id: doe, name: Department of Energy, level: national, kind: department, jurisdiction: us, website: "https://doe.example/"}
`))
	if err != nil {
		t.Fatal(err)
	}
	c := startChecker(t, js, reg, rules(t), time.Now)
	c.stop(t) // the ticks stay in their work queue, to be read here
	var names []string
	for _, z := range c.svc.TickZones() {
		names = append(names, z.String())
	}
	if strings.Join(names, " ") != "Asia/Shanghai America/New_York" {
		t.Fatalf("tick zones %v, want Asia/Shanghai, then America/New_York", names)
	}
	ctx := context.Background()
	zones := c.svc.TickZones()
	at := time.Date(2026, 2, 2, 0, 5, 0, 0, zones[1]) // 13:05 the same day in Beijing
	for range 2 {                                     // a second replica's ticks are dropped
		for _, z := range zones {
			if err := c.svc.PublishTickIn(ctx, at, z); err != nil {
				t.Fatal(err)
			}
		}
	}
	st, err := js.Stream(ctx, events.StreamTicks)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for seq := uint64(1); seq <= 4; seq++ {
		m, err := st.GetMsg(ctx, seq)
		if err != nil {
			break
		}
		ev, err := events.Unmarshal(m.Data)
		if err != nil {
			t.Fatal(err)
		}
		tick, err := events.Decode[events.Tick](ev)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, ev.ID+" "+tick.Date)
	}
	if want := "tick-2026-02-02 2026-02-02,tick-2026-02-02@America/New_York 2026-02-02"; strings.Join(ids, ",") != want {
		t.Fatalf("ticks stored %q, want %q", strings.Join(ids, ","), want)
	}
}

// A checker stopped as soon as it is ready — before it has bound its
// consumers — stops cleanly: Run returns nil, not the cancelled start-up.
func TestStopRightAfterReady(t *testing.T) {
	srv := eventstest.RunServer(t, "")
	_, js := eventstest.Connect(t, srv.URL)
	reg := testRegistry(t, 1)
	for range 20 {
		startChecker(t, js, reg, rules(t), time.Now).stop(t) // stop fails the test on an error
	}
}
