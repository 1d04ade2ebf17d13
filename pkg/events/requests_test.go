package events_test

import (
	"encoding/json"
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
			// An appeal of the answer: recorded on the wire; the checker
			// judges appeals only under FOIA (US-APPEAL).
			{ID: "YSQ-2025-0093", Received: "2025-12-15", Answered: "2026-01-09",
				AppealReceived: "2026-01-20", AppealExtended: true, AppealDecided: "2026-02-27"},
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
	if a := r.Cases[2]; a.AppealReceived != "2026-01-20" || !a.AppealExtended || a.AppealDecided != "2026-02-27" {
		t.Fatalf("appeal decoded as %+v", a)
	}
	if a := r.Cases[0]; a.AppealReceived != "" || a.AppealExtended || a.AppealDecided != "" {
		t.Fatalf("a case without an appeal decoded as %+v", a)
	}
}

// A register written before the appeal fields existed decodes unchanged,
// and a case without an appeal encodes without them.
func TestRequestsWithoutAppealsCompatible(t *testing.T) {
	old := `{"agency_id":"a","source":"s","recorded_at":"2026-03-10T09:00:00+08:00","cases":[{"id":"c1","received":"2026-01-05","answered":"2026-01-09"}]}`
	var r events.Requests
	if err := json.Unmarshal([]byte(old), &r); err != nil {
		t.Fatal(err)
	}
	if err := r.Validate(); err != nil {
		t.Fatalf("old register invalid: %v", err)
	}
	back, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if string(back) != old {
		t.Fatalf("re-encoded as\n%s\nwant\n%s", back, old)
	}
}

func TestRequestsValidate(t *testing.T) {
	for name, tc := range map[string]struct {
		edit func(*events.Requests)
		want string
	}{
		"bad agency":                 {func(r *events.Requests) { r.AgencyID = "a b" }, `agency_id "a b"`},
		"no cases":                   {func(r *events.Requests) { r.Cases = nil }, "cases is empty"},
		"duplicate case":             {func(r *events.Requests) { r.Cases[2].ID = r.Cases[0].ID }, `cases[2]: id "YSQ-2026-0007" already at cases[0]`},
		"no receipt":                 {func(r *events.Requests) { r.Cases[0].Received = "" }, "cases[0]: received is empty"},
		"bad date":                   {func(r *events.Requests) { r.Cases[0].Received = "2026/01/30" }, `cases[0]: received "2026/01/30" is not a YYYY-MM-DD date`},
		"answer before":              {func(r *events.Requests) { r.Cases[2].Answered = "2025-12-01" }, "cases[2]: answered 2025-12-01 is before received 2025-12-15"},
		"correction before":          {func(r *events.Requests) { r.Cases[1].Corrected = "2026-01-01" }, "cases[1]: corrected 2026-01-01 is before received 2026-02-02"},
		"correction notice before":   {func(r *events.Requests) { r.Cases[1].CorrectionRequested = "2026-02-01" }, "cases[1]: correction_requested 2026-02-01 is before received 2026-02-02"},
		"corrected before notice":    {func(r *events.Requests) { r.Cases[1].CorrectionRequested = "2026-02-06" }, "cases[1]: corrected 2026-02-05 is before correction_requested 2026-02-06"},
		"tolled backwards":           {func(r *events.Requests) { r.Cases[1].Tolled[0].To = "2026-02-01" }, "cases[1]: tolled[0] ends 2026-02-01 before it starts 2026-02-10"},
		"tolled open":                {func(r *events.Requests) { r.Cases[1].Tolled[0].To = "" }, "cases[1]: tolled[0] needs both from and to"},
		"appeal bad date":            {func(r *events.Requests) { r.Cases[2].AppealReceived = "2026-02-30" }, `cases[2]: appeal_received "2026-02-30" is not a YYYY-MM-DD date`},
		"appeal decision bad date":   {func(r *events.Requests) { r.Cases[2].AppealDecided = "27/02/2026" }, `cases[2]: appeal_decided "27/02/2026" is not a YYYY-MM-DD date`},
		"appeal before request":      {func(r *events.Requests) { r.Cases[2].AppealReceived = "2025-12-14" }, "cases[2]: appeal_received 2025-12-14 is before received 2025-12-15"},
		"appeal decided before":      {func(r *events.Requests) { r.Cases[2].AppealDecided = "2026-01-19" }, "cases[2]: appeal_decided 2026-01-19 is before appeal_received 2026-01-20"},
		"appeal decided, no appeal":  {func(r *events.Requests) { r.Cases[2].AppealReceived = "" }, "cases[2]: appeal_decided 2026-02-27 without appeal_received"},
		"appeal extended, no appeal": {func(r *events.Requests) { r.Cases[0].AppealExtended = true }, "cases[0]: appeal_extended without appeal_received"},
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
