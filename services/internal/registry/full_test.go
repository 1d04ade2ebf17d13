package registry

import (
	"strings"
	"testing"
	"time"
)

func TestLoadFull(t *testing.T) {
	r, err := Load("testdata/full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	czj, _ := r.Get("huaian-czj")
	if got := czj.BudgetApproved[2026].String(); got != "2026-02-10" {
		t.Errorf("budget_approved[2026] = %s", got)
	}
	if got := czj.FinalAccountsApproved[2024].String(); got != "2025-07-30" {
		t.Errorf("final_accounts_approved[2024] = %s", got)
	}
	if len(czj.Overrides) != 1 || czj.Overrides[0].Fixed == nil || czj.Overrides[0].Fixed.Day != 28 {
		t.Errorf("overrides %+v", czj.Overrides)
	}
	if len(czj.Waivers) != 1 || czj.Waivers[0].Expires.String() != "2026-12-31" {
		t.Errorf("waivers %+v", czj.Waivers)
	}
	if r.RobotsPolicy(czj) != RobotsIgnore {
		t.Errorf("robots policy %q", r.RobotsPolicy(czj))
	}
	gov, _ := r.Get("js-gov")
	if r.RobotsPolicy(gov) != RobotsObey || gov.ScheduleOf() != "provincial" || czj.ScheduleOf() != DefaultSchedule {
		t.Errorf("gov robots %q schedule %q, czj schedule %q", r.RobotsPolicy(gov), gov.ScheduleOf(), czj.ScheduleOf())
	}
	if time.Duration(r.Jitter) != 30*time.Minute {
		t.Errorf("jitter %v", r.Jitter)
	}
	if g := strings.Join(r.Groups(), ","); g != "default,provincial" {
		t.Errorf("groups %s", g)
	}
	if g := r.Group("provincial"); len(g) != 1 || g[0] != "js-gov" {
		t.Errorf("provincial group %v", g)
	}
	if oa := czj.ObligationAgency(); oa.Jurisdiction != "cn" || len(oa.Packs) != 3 {
		t.Errorf("obligation agency %+v", oa)
	}
}

func TestNewFieldErrors(t *testing.T) {
	base := "agencies:\n  - id: a\n    name: 甲\n    level: city\n    kind: department\n    website: https://a.example/\n"
	cases := map[string]struct{ in, want string }{
		"bad cron":       {"schedules: {default: \"61 * * * *\"}\n" + base, "r.yaml:1: schedules.default \"61 * * * *\": expected a five-field cron expression"},
		"unknown group":  {base + "    schedule: nightly\n", "r.yaml:7: agencies[0] (a): schedule \"nightly\" is not a group"},
		"robots":         {"robots: sometimes\n" + base, "r.yaml:1: robots \"sometimes\": expected obey or ignore"},
		"agency robots":  {base + "    robots: never\n", "r.yaml:7: agencies[0] (a): robots \"never\""},
		"jitter":         {"jitter: 3h\n" + base, "r.yaml:1: jitter 3h0m0s: at most 1h0m0s"},
		"jitter syntax":  {"jitter: soon\n" + base, "r.yaml:1: duration \"soon\""},
		"selector":       {base + "    columns:\n      annual_report: {selector: \"ul[\"}\n", "r.yaml:8: agencies[0] (a): columns.annual_report.selector \"ul[\" is not a CSS selector"},
		"approval date":  {base + "    budget_approved: {2026: 2026-02-30}\n", "r.yaml:7:"},
		"approval year":  {base + "    budget_approved: {2026: 2020-02-10}\n", "r.yaml:7: agencies[0] (a): budget_approved: 2026 approved on 2020-02-10"},
		"override basis": {base + "    overrides:\n      - {obligation: CN-R19-AR-DEPT, fixed: {year_offset: 1, month: 1, day: 28}}\n", "r.yaml:8: override of CN-R19-AR-DEPT: basis missing"},
		"waiver expiry":  {base + "    waivers:\n      - {obligation: CN-R19-AR-DEPT, period: \"2025\", reason: x}\n", "r.yaml:8: waiver of CN-R19-AR-DEPT: expires missing"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Parse("r.yaml", []byte(c.in))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v\nwant %q", err, c.want)
			}
		})
	}
}
