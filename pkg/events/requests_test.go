package events_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gongkai/gongkai/pkg/events"
)

func exampleRequests() events.Requests {
	return events.Requests{
		AgencyID: "huaian-jyj", Source: "requests-2026.csv",
		RecordedAt: time.Date(2026, 3, 10, 9, 0, 0, 0, shanghai),
		Cases: []events.RequestCase{
			{ID: "YSQ-2026-0007", Title: "2025年义务教育学校招生计划", Received: "2026-01-30"},
			{ID: "YSQ-2026-0011", Title: "某中学改扩建工程批复文件", Received: "2026-02-02", CorrectionRequested: "2026-02-03", Corrected: "2026-02-05",
				Extended: true, Tolled: []events.DateRange{{From: "2026-02-10", To: "2026-02-24"}}},
			{ID: "YSQ-2025-0093", Received: "2025-12-15", Answered: "2026-01-09"},
		},
	}
}

// The register's golden JSON is checked with the other payloads'
// (TestGoldenExamples); here, that it decodes back whole.
func TestRequestsDecode(t *testing.T) {
	want, err := os.ReadFile(filepath.Join("testdata", "requests.json"))
	if err != nil {
		t.Fatal(err)
	}
	back, err := events.Unmarshal(want)
	if err != nil {
		t.Fatal(err)
	}
	r, err := events.Decode[events.Requests](back)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Cases) != 3 || !r.Cases[1].Extended || r.Cases[1].Tolled[0].To != "2026-02-24" || r.Cases[1].CorrectionRequested != "2026-02-03" {
		t.Fatalf("decoded %+v", r)
	}
}

func TestRequestsValidate(t *testing.T) {
	for name, tc := range map[string]struct {
		edit func(*events.Requests)
		want string
	}{
		"bad agency":               {func(r *events.Requests) { r.AgencyID = "a b" }, `agency_id "a b"`},
		"no cases":                 {func(r *events.Requests) { r.Cases = nil }, "cases is empty"},
		"duplicate case":           {func(r *events.Requests) { r.Cases[2].ID = r.Cases[0].ID }, `cases[2]: id "YSQ-2026-0007" already at cases[0]`},
		"no receipt":               {func(r *events.Requests) { r.Cases[0].Received = "" }, "cases[0]: received is empty"},
		"bad date":                 {func(r *events.Requests) { r.Cases[0].Received = "2026/01/30" }, `cases[0]: received "2026/01/30" is not a YYYY-MM-DD date`},
		"answer before":            {func(r *events.Requests) { r.Cases[2].Answered = "2025-12-01" }, "cases[2]: answered 2025-12-01 is before received 2025-12-15"},
		"correction before":        {func(r *events.Requests) { r.Cases[1].Corrected = "2026-01-01" }, "cases[1]: corrected 2026-01-01 is before received 2026-02-02"},
		"correction notice before": {func(r *events.Requests) { r.Cases[1].CorrectionRequested = "2026-02-01" }, "cases[1]: correction_requested 2026-02-01 is before received 2026-02-02"},
		"corrected before notice":  {func(r *events.Requests) { r.Cases[1].CorrectionRequested = "2026-02-06" }, "cases[1]: corrected 2026-02-05 is before correction_requested 2026-02-06"},
		"tolled backwards":         {func(r *events.Requests) { r.Cases[1].Tolled[0].To = "2026-02-01" }, "cases[1]: tolled[0] ends 2026-02-01 before it starts 2026-02-10"},
		"tolled open":              {func(r *events.Requests) { r.Cases[1].Tolled[0].To = "" }, "cases[1]: tolled[0] needs both from and to"},
		"too many": {func(r *events.Requests) {
			r.Cases = make([]events.RequestCase, events.MaxRequestCases+1)
			for i := range r.Cases {
				r.Cases[i] = events.RequestCase{ID: fmt.Sprintf("c%d", i), Received: "2026-01-05"}
			}
		}, "more than 2000 in one event"},
	} {
		t.Run(name, func(t *testing.T) {
			r := exampleRequests()
			r.Cases = append([]events.RequestCase(nil), r.Cases...)
			r.Cases[1].Tolled = append([]events.DateRange(nil), r.Cases[1].Tolled...)
			tc.edit(&r)
			err := r.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate() = %v, want an error containing %q", err, tc.want)
			}
		})
	}
	if err := exampleRequests().Validate(); err != nil {
		t.Fatalf("the example is valid: %v", err)
	}
}
