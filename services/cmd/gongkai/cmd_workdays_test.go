package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// wdRun runs a command function with buffers and returns its exit code,
// stdout and stderr.
func wdRun(t *testing.T, cmd func(context.Context, []string, io.Writer, io.Writer) int, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := cmd(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestWorkdaysCommand(t *testing.T) {
	overlay := filepath.Join(t.TempDir(), "xj.csv")
	if err := os.WriteFile(overlay, []byte("date,kind\n2025-03-31,holiday\n2025-04-01,holiday\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string // exact, unless empty
		inOut  string // contained in stdout
		inErr  string // contained in stderr
	}{
		{"add", []string{"--calendar", "cn", "--from", "2026-01-30", "--add", "20"}, 0, "2026-03-05\n", "", ""},
		{"add extended", []string{"--from", "2026-01-30", "--add", "40"}, 0, "2026-04-02\n", "", ""},
		{"add negative", []string{"--from", "2026-03-05", "--add", "-20"}, 0, "2026-01-30\n", "", ""},
		{"next", []string{"--from", "2026-02-13", "--next"}, 0, "2026-02-14\n", "", ""},
		{"between", []string{"--between", "2024-12-31", "2025-12-31"}, 0, "248\n", "", ""},
		{"between dots", []string{"--between", "2026-01-30..2026-03-05"}, 0, "20\n", "", ""},
		{"between flag after dates", []string{"--between", "2019-12-31", "2020-12-31", "--calendar", "cn"}, 0, "249\n", "", ""},
		{"provisional", []string{"--from", "2026-12-15", "--add", "20"}, 0, "", "2027-01-12 (provisional: calendar cn has data for 2016-01-01..2026-12-31", ""},
		{"is workday", []string{"--is-workday", "2026-02-14"}, 0, "2026-02-14 Saturday, working day (workday-adjusted)\n", "", ""},
		{"us observed holiday", []string{"--calendar", "us", "--is-workday", "2021-12-31"}, 0, "2021-12-31 Friday, rest day (holiday)\n", "", ""},
		{"us juneteenth", []string{"--calendar", "us", "--from", "2022-06-17", "--next"}, 0, "2022-06-21\n", "", ""},
		{"overlay", []string{"--overlay", overlay, "--between", "2024-12-31", "2025-12-31"}, 0, "246\n", "", ""},
		{"bad date", []string{"--from", "2026-02-30", "--add", "1"}, 2, "", "", `gongkai workdays: --from: invalid date "2026-02-30": day 30 out of range for 2026-02`},
		{"no mode", []string{"--from", "2026-02-03"}, 2, "", "", "give exactly one of --add, --next, --between, --is-workday"},
		{"two modes", []string{"--from", "2026-02-03", "--add", "1", "--next"}, 2, "", "", "give exactly one of"},
		{"missing from", []string{"--add", "3"}, 2, "", "", "--from is required with --add and --next"},
		{"between one date", []string{"--between", "2026-01-01"}, 2, "", "", "--between needs two dates"},
		{"unknown calendar", []string{"--calendar", "jp", "--is-workday", "2026-01-01"}, 2, "", "", `--calendar jp: load calendar "jp": unknown calendar (embedded: cn, us, us-dc)`},
		{"bad overlay", []string{"--overlay", "/nonexistent.csv", "--is-workday", "2026-01-01"}, 2, "", "", "no such file"},
		{"huge add", []string{"--from", "2026-01-01", "--add", "99999999"}, 2, "", "", "out of range"},
		{"unknown flag", []string{"--frm", "2026-01-01"}, 2, "", "", "flag provided but not defined: -frm"},
		{"stray argument", []string{"--from", "2026-01-01", "--add", "1", "extra"}, 2, "", "", `unexpected argument "extra"`},
		{"help", []string{"-h"}, 0, "", "", "--between counts the days d with A < d <= B"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := wdRun(t, cmdWorkdays, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, tt.code, errs)
			}
			if tt.stdout != "" && out != tt.stdout {
				t.Errorf("stdout %q, want %q", out, tt.stdout)
			}
			if !strings.Contains(out, tt.inOut) {
				t.Errorf("stdout %q lacks %q", out, tt.inOut)
			}
			if !strings.Contains(errs, tt.inErr) {
				t.Errorf("stderr %q lacks %q", errs, tt.inErr)
			}
		})
	}
}

func TestWorkdaysJSON(t *testing.T) {
	code, out, errs := wdRun(t, cmdWorkdays, "--from", "2026-12-15", "--add", "20", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var got struct {
		Calendar        string `json:"calendar"`
		CalendarVersion string `json:"calendar_version"`
		Date            string `json:"date"`
		Add             int    `json:"add"`
		Provisional     bool   `json:"provisional"`
		Reason          string `json:"reason"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if got.Calendar != "cn" || len(got.CalendarVersion) != 12 || got.Date != "2027-01-12" || got.Add != 20 || !got.Provisional || got.Reason == "" {
		t.Errorf("json %+v", got)
	}
	code, out, _ = wdRun(t, cmdWorkdays, "--between", "2025-12-31", "2026-12-31", "--json")
	if code != 0 || !strings.Contains(out, `"days": 248`) || !strings.Contains(out, `"counting": "working days d with from < d <= to`) {
		t.Errorf("between json: %s", out)
	}
}
