package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestObligationsCommand(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("id: x-y\nversion: \"1\"\ncolour: red\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		args  []string
		code  int
		inOut []string
		inErr string
	}{
		{"list", []string{"list"}, 0, []string{"PACK", "CN-R19-AR-DEPT", "US-AR", "yearly from October", "CN-WEB-COL-POLICY-INTERP"}, ""},
		{"list one pack", []string{"list", "--pack", "cn-budget"}, 0, []string{"CN-BUD-DEPT-BUDGET", "20 calendar days after approval"}, ""},
		{"list unknown pack", []string{"list", "--pack", "cn-nope"}, 2, nil, "--pack cn-nope: no such pack"},
		{"dept report", []string{"due", "--pack", "cn-ogi-2019", "--obligation", "CN-R19-AR-DEPT", "--period", "2025"}, 0,
			[]string{"due:           2026-01-31T23:59:59+08:00 Asia/Shanghai\n", "provisional:   false\n", "a rest day (Saturday), not rolled forward"}, ""},
		{"agency flags", []string{"due", "--obligation", "CN-R19-AR-DEPT", "--period", "2025", "--agency-kind", "department", "--agency-level", "city"}, 0,
			[]string{"2026-01-31T23:59:59+08:00"}, ""},
		{"not applicable", []string{"due", "--obligation", "CN-R19-AR-DEPT", "--period", "2025", "--agency-kind", "government", "--agency-level", "county"}, 2,
			nil, "not applicable to the agency (county government): CN-R19-AR-DEPT applies to [department]"},
		{"kind picks 2008 for 2018", []string{"due", "--kind", "annual-report", "--period", "2018", "--agency-level", "city", "--agency-kind", "department"}, 0,
			[]string{"2019-03-31T23:59:59+08:00", "CN-R08-AR"}, ""},
		{"kind picks 2019 for 2019", []string{"due", "--kind", "annual-report", "--period", "2019", "--agency-level", "city", "--agency-kind", "department"}, 0,
			[]string{"2020-01-31T23:59:59+08:00", "CN-R19-AR-DEPT"}, ""},
		{"kind by receipt date", []string{"due", "--kind", "request-answer", "--event-date", "2019-05-14"}, 0, []string{"2019-06-04T23:59:59+08:00", "CN-R08-REQ"}, ""},
		{"kind by receipt date 2019", []string{"due", "--kind", "request-answer", "--event-date", "2019-05-15"}, 0, []string{"CN-R19-REQ"}, ""},
		{"kind ambiguous", []string{"due", "--kind", "annual-report", "--period", "2025"}, 2, nil, "matches CN-R19-AR-DEPT, CN-R19-AR-GOV, CN-R19-AR-TOWN"},
		{"request extended and tolled", []string{"due", "--obligation", "CN-R19-REQ", "--event-date", "2026-01-30", "--extended", "--toll", "2026-02-02..2026-02-04"}, 0,
			[]string{"2026-04-08T23:59:59+08:00", "not counting 3 working days tolled (2026-02-02..2026-02-04)"}, ""},
		{"provisional", []string{"due", "--obligation", "CN-R19-REQ", "--event-date", "2026-12-15"}, 0, []string{"2027-01-12T23:59:59+08:00", "provisional:   true ("}, ""},
		{"us fiscal year", []string{"due", "--obligation", "US-AR", "--period", "FY2025"}, 0, []string{"2026-02-01T23:59:59-05:00 America/New_York"}, ""},
		{"us dc calendar", []string{"due", "--obligation", "US-REQ", "--event-date", "2025-01-15", "--calendar", "us-dc"}, 0, []string{"2025-02-13T23:59:59-05:00", "calendar:      us-dc "}, ""},
		{"unknown deadline", []string{"due", "--obligation", "US-QR", "--period", "FY2026-Q1"}, 2, nil, "US-QR: deadline unknown"},
		{"no deadline", []string{"due", "--obligation", "CN-WEB-BLANK"}, 2, nil, "no deadline: continuous obligation"},
		{"missing event date", []string{"due", "--obligation", "CN-R19-REQ"}, 2, nil, "CN-R19-REQ: event date required (receipt)"},
		{"bad period", []string{"due", "--obligation", "US-QR", "--period", "2025"}, 2, nil, `--period: US-QR: period "2025": want a quarter such as "FY2026-Q1"`},
		{"missing period", []string{"due", "--obligation", "CN-R19-AR-GOV"}, 2, nil, "CN-R19-AR-GOV needs a yearly period key"},
		{"unknown obligation", []string{"due", "--obligation", "CN-NOPE", "--period", "2025"}, 2, nil, "--obligation CN-NOPE: no such obligation"},
		{"wrong pack", []string{"due", "--pack", "cn-budget", "--obligation", "CN-R19-AR-DEPT", "--period", "2025"}, 2, nil, "is in pack cn-ogi-2019, not cn-budget"},
		{"bad level", []string{"due", "--obligation", "CN-R19-AR-DEPT", "--period", "2025", "--agency-level", "village"}, 2, nil, `--agency-level "village"`},
		{"bad toll", []string{"due", "--obligation", "CN-R19-REQ", "--event-date", "2026-01-30", "--toll", "2026-02-04..2026-02-02"}, 2, nil, "ends before it starts"},
		{"neither obligation nor kind", []string{"due", "--period", "2025"}, 2, nil, "give --obligation ID or --kind KIND"},
		{"bad pack file", []string{"list", "--pack-file", bad}, 2, nil, bad + `:3: unknown key "colour"`},
		{"check bad", []string{"check", bad}, 2, nil, bad + ":3: unknown key"},
		{"unknown subcommand", []string{"show"}, 2, nil, `unknown subcommand "show"`},
		{"no subcommand", nil, 2, nil, "Usage:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := wdRun(t, cmdObligations, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, tt.code, errs)
			}
			for _, s := range tt.inOut {
				if !strings.Contains(out, s) {
					t.Errorf("stdout lacks %q:\n%s", s, out)
				}
			}
			if !strings.Contains(errs, tt.inErr) {
				t.Errorf("stderr %q lacks %q", errs, tt.inErr)
			}
		})
	}
}

func TestObligationsCheckGood(t *testing.T) {
	data, err := os.ReadFile("../../internal/obligation/packs/us-foia.yaml")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "us-foia.yaml")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := wdRun(t, cmdObligations, "check", path)
	if code != 0 || out != path+": ok (pack us-foia 2026.1, 6 obligations)\n" {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errs)
	}
}

func TestObligationsJSON(t *testing.T) {
	code, out, errs := wdRun(t, cmdObligations, "due", "--obligation", "CN-R19-AR-DEPT", "--period", "2025", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var got struct {
		At              string   `json:"at"`
		Zone            string   `json:"zone"`
		Provisional     bool     `json:"provisional"`
		CalendarVersion string   `json:"calendar_version"`
		PackVersion     string   `json:"pack_version"`
		DueSoonAt       string   `json:"due_soon_at"`
		EscalateAt      string   `json:"escalate_at"`
		Reminders       []string `json:"reminders"`
		LegalBasis      string   `json:"legal_basis"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if got.At != "2026-01-31T23:59:59+08:00" || got.Zone != "Asia/Shanghai" || got.Provisional || len(got.CalendarVersion) != 12 ||
		got.PackVersion != "2026.1" || got.DueSoonAt != "2026-01-12T00:00:00+08:00" || got.EscalateAt != "2026-02-06T23:59:59+08:00" ||
		len(got.Reminders) != 3 || !strings.Contains(got.LegalBasis, "第四十九条") {
		t.Errorf("json %+v", got)
	}
	code, out, _ = wdRun(t, cmdObligations, "list", "--pack", "us-foia", "--json")
	var list []map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &list) != nil || len(list) != 6 || list[0]["id"] != "US-AR" || list[0]["pack"] != "us-foia" {
		t.Errorf("list json: %d %s", code, out)
	}
}
