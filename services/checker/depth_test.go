package checker_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/gongkai/gongkai/pkg/events"
	"github.com/gongkai/gongkai/pkg/events/eventstest"
	"github.com/gongkai/gongkai/services/checker"
	"github.com/gongkai/gongkai/services/internal/evidence"
	"github.com/gongkai/gongkai/services/internal/registry"
)

func instance(t *testing.T, js jetstream.JetStream, key string) checker.Instance {
	t.Helper()
	kv, err := js.KeyValue(context.Background(), events.BucketObligations)
	if err != nil {
		t.Fatal(err)
	}
	e, err := kv.Get(context.Background(), key)
	if err != nil {
		t.Fatalf("instance %s: %v", key, err)
	}
	var in checker.Instance
	if err := json.Unmarshal(e.Value(), &in); err != nil {
		t.Fatal(err)
	}
	return in
}

func putText(t *testing.T, js jetstream.JetStream, text string) string {
	t.Helper()
	st, err := evidence.Open(context.Background(), js)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(text))
	h := hex.EncodeToString(sum[:])
	if _, err := st.Put(context.Background(), h, []byte(text), evidence.Meta{URL: "http://x.example/r.pdf", ContentType: "text/plain; charset=utf-8", FetchedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	return h
}

// A report found on time whose tables do not add up is incomplete, with
// the failing rules named; the same report corrected is satisfied.
func TestCompletenessFromTheReportChecker(t *testing.T) {
	raw, err := os.ReadFile("../internal/report/testdata/text/cn-2021fmt-huaian-2024.txt")
	if err != nil {
		t.Fatal(err)
	}
	clean := string(raw)
	// Break table 3's identity: the printed total of new requests.
	broken := strings.Replace(clean, "61       4   3119", "61       4   3120", 1)
	if broken == clean {
		t.Fatal("mutation did not apply")
	}
	srv := eventstest.RunServer(t, "")
	_, js := eventstest.Connect(t, srv.URL)
	reg := testRegistry(t, 2)
	clock := time.Date(2025, 2, 3, 9, 0, 0, 0, cst)
	c := startChecker(t, js, reg, rules(t), func() time.Time { return clock })
	for i, text := range []string{broken, clean} {
		o := observation(reg.Agencies[i].ID, "r1", clock, "")
		o.Columns[0].Items = []events.Item{{Title: "测试局2024年政府信息公开工作年度报告", URL: "http://x.example/1.html", Date: "2025-01-20", Year: 2024, Text: putText(t, js, text)}}
		publishObs(t, js, o)
	}
	waitConsumed(t, js)
	c.stop(t)
	bad := instance(t, js, checker.Key("a00000", "cn-ogi-2019", "CN-R19-AR-DEPT", "2024"))
	if bad.State != events.StateIncomplete || !strings.Contains(strings.Join(bad.FailedRules, ","), "T3-") {
		t.Fatalf("broken report: %s %v", bad.State, bad.FailedRules)
	}
	good := instance(t, js, checker.Key("a00001", "cn-ogi-2019", "CN-R19-AR-DEPT", "2024"))
	if good.State != events.StateSatisfied || len(good.FailedRules) != 0 {
		t.Fatalf("clean report: %s %v", good.State, good.FailedRules)
	}
}

const depthRegistry = `agencies:
  - id: czj
    name: 示范市财政局
    level: city
    kind: department
    website: "http://czj.example/"
    budget_approved: {2026: 2026-02-10}
    waivers:
      - {obligation: CN-R19-AR-DEPT, period: "2025", reason: 机构改革中撤并, expires: 2027-12-31}
  - id: jyj
    name: 示范市教育局
    level: city
    kind: department
    website: "http://jyj.example/"
`

// Budgets count from the approval date the registry gives; without one the
// outcome says the trigger date is unknown. A waiver takes precedence over
// the facts. Required columns, blank columns and freshness are judged from
// the same observation.
func TestBudgetsWaiversAndWebsiteColumns(t *testing.T) {
	reg, err := registry.Parse("r.yaml", []byte(depthRegistry))
	if err != nil {
		t.Fatal(err)
	}
	srv := eventstest.RunServer(t, "")
	_, js := eventstest.Connect(t, srv.URL)
	clock := time.Date(2026, 3, 20, 9, 0, 0, 0, cst)
	c := startChecker(t, js, reg, rules(t), func() time.Time { return clock })
	for _, id := range []string{"czj", "jyj"} {
		o := events.Observation{AgencyID: id, RunID: "r1", ObservedAt: clock, Site: "http://x.example/", Outcome: events.OutcomeOK,
			HomeNewest: "2026-03-18",
			Columns: []events.Column{
				{Key: events.ColumnAnnualReport, Outcome: events.OutcomeOK},
				{Key: events.ColumnBudget, Outcome: events.OutcomeOK, ItemCount: 1, Newest: "2026-03-10",
					Items: []events.Item{{Title: "示范局2026年部门预算", URL: "http://x.example/b.html", Date: "2026-03-10", Year: 2026}}},
				{Key: "ogi_guide", Outcome: events.OutcomeOK, Blank: true},
				{Key: "leaders", Outcome: events.OutcomeNotFound, Error: "no link named 领导介绍"},
				{Key: "news", Outcome: events.OutcomeOK, Newest: "2026-02-01", ItemCount: 20},
			}}
		publishObs(t, js, o)
	}
	waitConsumed(t, js)
	c.stop(t)
	for key, want := range map[string]events.State{
		// Approved 2026-02-10, due 20 days later (2026-03-02), published 03-10.
		checker.Key("czj", "cn-budget", "CN-BUD-DEPT-BUDGET", "2026"): events.StateSatisfiedLate,
		// No approval date: published, timeliness not assessed.
		checker.Key("jyj", "cn-budget", "CN-BUD-DEPT-BUDGET", "2026"): events.StateSatisfied,
		// Final accounts of 2025: no approval date and nothing found.
		checker.Key("jyj", "cn-budget", "CN-BUD-DEPT-FINAL", "2025"): events.StateUnknown,
		// Waived despite no report.
		checker.Key("czj", "cn-ogi-2019", "CN-R19-AR-DEPT", "2025"): events.StateWaived,
		checker.Key("jyj", "cn-ogi-2019", "CN-R19-AR-DEPT", "2025"): events.StateEscalated,
		// Website columns.
		checker.Key("jyj", "cn-website-2019", "CN-WEB-COL-OGI-GUIDE", checker.CurrentPeriod):  events.StateIncomplete,
		checker.Key("jyj", "cn-website-2019", "CN-WEB-COL-LEADERS", checker.CurrentPeriod):    events.StateOverdue,
		checker.Key("jyj", "cn-website-2019", "CN-WEB-COL-BUDGET", checker.CurrentPeriod):     events.StateSatisfied,
		checker.Key("jyj", "cn-website-2019", "CN-WEB-HOMEPAGE-FRESH", checker.CurrentPeriod): events.StateSatisfied,
		checker.Key("jyj", "cn-website-2019", "CN-WEB-COL-NEWS-FRESH", checker.CurrentPeriod): events.StateOverdue,
		checker.Key("jyj", "cn-website-2019", "CN-WEB-BLANK", checker.CurrentPeriod):          events.StateSatisfied,
	} {
		if got := instance(t, js, key); got.State != want {
			t.Errorf("%s = %s, want %s (note %q, error %q)", key, got.State, want, got.Note, got.LastError)
		}
	}
	if in := instance(t, js, checker.Key("jyj", "cn-budget", "CN-BUD-DEPT-FINAL", "2025")); !strings.Contains(in.LastError, "trigger date unknown") {
		t.Errorf("unknown trigger not explained: %q", in.LastError)
	}
	if in := instance(t, js, checker.Key("czj", "cn-ogi-2019", "CN-R19-AR-DEPT", "2025")); in.Note != "机构改革中撤并" {
		t.Errorf("waiver reason: %q", in.Note)
	}
	// A freshness instance records when it goes stale: the next tick does
	// the rest without a new audit.
	home := instance(t, js, checker.Key("jyj", "cn-website-2019", "CN-WEB-HOMEPAGE-FRESH", checker.CurrentPeriod))
	if want := time.Date(2026, 4, 1, 23, 59, 59, 0, cst); !home.DueAt.Equal(want) {
		t.Errorf("home page fresh until %v, want %v", home.DueAt, want)
	}
}

// A crash between storing a transition and publishing its finding leaves
// the finding in the instance's outbox: the next checker to start publishes
// it, once.
func TestOutboxRecoveredAtStartup(t *testing.T) {
	dir := t.TempDir()
	srv := eventstest.RunServer(t, dir)
	_, js := eventstest.Connect(t, srv.URL)
	reg := testRegistry(t, 1)
	clock := time.Date(2026, 2, 3, 9, 0, 0, 0, cst)
	c := startChecker(t, js, reg, rules(t), func() time.Time { return clock })
	publishObs(t, js, observation("a00000", "r1", clock, ""))
	waitConsumed(t, js)
	c.stop(t)
	key := checker.Key("a00000", "cn-ogi-2019", "CN-R19-AR-DEPT", "2025")
	in := instance(t, js, key)
	if in.Outbox == nil || in.State != events.StateOverdue {
		t.Fatalf("stored instance: %+v", in)
	}
	// Simulate the crash: the state is stored, its finding never went out.
	// Purge it from the stream and from the duplicate window by using a
	// fresh findings stream.
	ctx := context.Background()
	if err := js.DeleteStream(ctx, events.StreamFindings); err != nil {
		t.Fatal(err)
	}
	c = startChecker(t, js, reg, rules(t), func() time.Time { return clock.Add(time.Hour) })
	deadline := time.Now().Add(10 * time.Second)
	for arFindings(t, js) != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("the finding in the outbox was not republished (%d annual-report findings)", arFindings(t, js))
		}
		time.Sleep(20 * time.Millisecond)
	}
	c.stop(t)
	// A second restart republishes it again; the stream drops the copy.
	c = startChecker(t, js, reg, rules(t), func() time.Time { return clock.Add(2 * time.Hour) })
	time.Sleep(200 * time.Millisecond)
	c.stop(t)
	if n := arFindings(t, js); n != 1 {
		t.Fatalf("%d annual-report findings after a second restart, want 1", n)
	}
}

// The US FOIA pack applies to US agencies: the annual FOIA report for a
// fiscal year is due February 1 after it ends.
func TestUSFOIAAnnualReport(t *testing.T) {
	reg, err := registry.Parse("r.yaml", []byte(`agencies:
  - {id: doj-oip, name: Office of Information Policy, level: national, kind: department, jurisdiction: us, website: "https://oip.example/"}
  - {id: doe, name: Department of Energy, level: national, kind: department, jurisdiction: us, website: "https://doe.example/"}
  - {id: dol, name: Department of Labor, level: national, kind: department, jurisdiction: us, website: "https://dol.example/"}
`))
	if err != nil {
		t.Fatal(err)
	}
	srv := eventstest.RunServer(t, "")
	_, js := eventstest.Connect(t, srv.URL)
	ny, _ := time.LoadLocation("America/New_York")
	clock := time.Date(2026, 2, 3, 9, 0, 0, 0, ny)
	c := startChecker(t, js, reg, rules(t), func() time.Time { return clock })
	for _, id := range []string{"doj-oip", "doe", "dol"} {
		col := events.Column{Key: events.ColumnAnnualReport, Outcome: events.OutcomeOK, URL: "https://x.example/foia/reports/"}
		switch id {
		case "doj-oip":
			col.Items = []events.Item{{Title: "FY 2025 Annual FOIA Report", URL: "https://x.example/fy2025.pdf", Date: "2026-01-20"}}
		case "dol":
			// Dated the day after the deadline, which ends at 23:59:59 on
			// February 1 in New York: late, although 2026-02-02 00:00 in
			// Beijing is still February 1 in New York.
			col.Items = []events.Item{{Title: "FY 2025 Annual FOIA Report", URL: "https://x.example/fy2025.pdf", Date: "2026-02-02"}}
		}
		publishObs(t, js, events.Observation{AgencyID: id, RunID: "r1", ObservedAt: clock, Site: "https://x.example/",
			Outcome: events.OutcomeOK, Columns: []events.Column{col}})
	}
	waitConsumed(t, js)
	c.stop(t)
	ok := instance(t, js, checker.Key("doj-oip", "us-foia", "US-AR", "FY2025"))
	if ok.State != events.StateSatisfied {
		t.Errorf("published FOIA report: %s", ok.State)
	}
	if want := time.Date(2026, 2, 1, 23, 59, 59, 0, ny); !ok.DueAt.Equal(want) {
		t.Errorf("due %v, want %v", ok.DueAt, want)
	}
	if missing := instance(t, js, checker.Key("doe", "us-foia", "US-AR", "FY2025")); missing.State != events.StateOverdue {
		t.Errorf("missing FOIA report: %s", missing.State)
	}
	if late := instance(t, js, checker.Key("dol", "us-foia", "US-AR", "FY2025")); late.State != events.StateSatisfiedLate {
		t.Errorf("FOIA report dated the day after the deadline: %s, want %s", late.State, events.StateSatisfiedLate)
	}
}
