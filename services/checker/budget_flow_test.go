package checker_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/gongkai/gongkai/pkg/events"
	"github.com/gongkai/gongkai/pkg/events/eventstest"
	"github.com/gongkai/gongkai/services/checker"
	"github.com/gongkai/gongkai/services/internal/budget"
	"github.com/gongkai/gongkai/services/internal/registry"
)

const budgetRegistry = `agencies:
  - {id: full, name: 甲局, level: city, kind: department, website: "http://a.example/", budget_approved: {2026: 2026-02-01}}
  - {id: lacks, name: 乙局, level: city, kind: department, website: "http://b.example/", budget_approved: {2026: 2026-02-01}}
  - {id: notice, name: 丙局, level: city, kind: department, website: "http://c.example/", budget_approved: {2026: 2026-02-01}}
  - {id: gov, name: 丁市人民政府, level: city, kind: government, website: "http://d.example/", budget_approved: {2026: 2026-02-01}}
`

// A department budget published on time whose text lacks standard tables
// is incomplete, the finding naming them; a complete one is satisfied; a
// notice whose tables gongkai could not read, and a government budget
// (whose tables the pack does not list), are not judged incomplete.
func TestBudgetMissingTablesIsIncomplete(t *testing.T) {
	reg, err := registry.Parse("r.yaml", []byte(budgetRegistry))
	if err != nil {
		t.Fatal(err)
	}
	srv := eventstest.RunServer(t, "")
	_, js := eventstest.Connect(t, srv.URL)
	clock := time.Date(2026, 2, 15, 9, 0, 0, 0, cst)
	c := startChecker(t, js, reg, rules(t), func() time.Time { return clock })
	tables := budget.Tables(budget.KindBudget)
	text := func(n int) string {
		var b strings.Builder
		b.WriteString("2026年部门预算\n机关运行经费预算40万元，“三公”经费预算9万元。\n")
		for _, t := range tables[:n] {
			b.WriteString(t + "\n科目 | 合计\n")
		}
		return b.String()
	}
	// Ingest records the tables it found in each text with the observation,
	// and the checker judges from them: the "lacks" text is not even in the
	// evidence store (the checker would fail to read it and retry forever).
	// The "notice" observation comes from an older ingest that recorded no
	// tables: the checker reads that text and finds them itself.
	for id, body := range map[string]string{
		"full": text(8), "lacks": text(6) + "乙局\n", "notice": "2026年部门预算公开，详见附件。", "gov": text(6),
	} {
		sum := sha256.Sum256([]byte(body))
		h := hex.EncodeToString(sum[:])
		if id != "lacks" {
			putText(t, js, body)
		}
		var read *events.BudgetText
		if id != "notice" {
			read = &events.BudgetText{Kind: events.BudgetKindBudget, Tables: budget.Find(body).Tables}
		}
		o := events.Observation{AgencyID: id, RunID: "r1", ObservedAt: clock, Site: "http://x.example/", Outcome: events.OutcomeOK,
			Columns: []events.Column{{Key: events.ColumnBudget, Outcome: events.OutcomeOK, ItemCount: 1, Newest: "2026-02-10",
				Items: []events.Item{{Title: "2026年部门预算", URL: "http://x.example/b.html", Date: "2026-02-10", Year: 2026, Text: h,
					Budget: read}}}}}
		publishObs(t, js, o)
	}
	waitConsumed(t, js)
	c.stop(t)
	for key, want := range map[string]events.State{
		checker.Key("full", "cn-budget", "CN-BUD-DEPT-BUDGET", "2026"):   events.StateSatisfied,
		checker.Key("lacks", "cn-budget", "CN-BUD-DEPT-BUDGET", "2026"):  events.StateIncomplete,
		checker.Key("notice", "cn-budget", "CN-BUD-DEPT-BUDGET", "2026"): events.StateSatisfied,
		checker.Key("gov", "cn-budget", "CN-BUD-GOV-BUDGET", "2026"):     events.StateSatisfied,
	} {
		if in := instance(t, js, key); in.State != want {
			t.Errorf("%s: %s %v, want %s", key, in.State, in.FailedRules, want)
		}
	}
	lacks := instance(t, js, checker.Key("lacks", "cn-budget", "CN-BUD-DEPT-BUDGET", "2026"))
	if strings.Join(lacks.FailedRules, ",") != "BUD-TABLE:"+tables[6]+",BUD-TABLE:"+tables[7] {
		t.Errorf("failed rules %q", lacks.FailedRules)
	}
	f := lastFinding(t, js, "lacks", "CN-BUD-DEPT-BUDGET", "2026")
	if f.To != events.StateIncomplete || !strings.Contains(f.Explanation.ZH, "缺少以下标准表格：一般公共预算“三公”经费支出表、政府性基金预算支出表") ||
		!strings.Contains(f.Explanation.EN, "lacks these standard tables") || !strings.Contains(f.Explanation.EN, "government fund budget expenditure") {
		t.Errorf("finding %s: %+v", f.To, f.Explanation)
	}
}

// lastFinding returns the last finding stored about an agency's obligation
// for a period.
func lastFinding(t *testing.T, js jetstream.JetStream, agency, obligationID, period string) events.Finding {
	t.Helper()
	ctx := context.Background()
	c, err := js.OrderedConsumer(ctx, events.StreamFindings, jetstream.OrderedConsumerConfig{FilterSubjects: []string{events.FindingSubject(agency)}})
	if err != nil {
		t.Fatal(err)
	}
	info, err := c.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var last events.Finding
	batch, err := c.Fetch(int(info.NumPending), jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	for m := range batch.Messages() {
		ev, err := events.Unmarshal(m.Data())
		if err != nil {
			t.Fatal(err)
		}
		if f, err := events.Decode[events.Finding](ev); err == nil && f.ObligationID == obligationID && f.Period == period {
			last = f
		}
	}
	return last
}
