package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// crFixture returns the path of a fixture of package report.
func crFixture(name string) string {
	return filepath.Join("..", "..", "internal", "report", "testdata", filepath.FromSlash(name))
}

// crRun runs check-report with pure-Go PDF reading (no pdftotext, no
// PDFium), so that the results do not depend on the machine.
func crRun(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	args = append([]string{"--no-pdfium", "--pdf-backend", "ledongthuc"}, args...)
	code := cmdCheckReport(t.Context(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestCheckReportExitCodes(t *testing.T) {
	huaian := crFixture("text/cn-2021fmt-huaian-2024.txt")
	broken := filepath.Join(t.TempDir(), "broken.txt")
	data, err := os.ReadFile(huaian)
	if err != nil {
		t.Fatal(err)
	}
	bad := regexp.MustCompile(`72(\s+)64(\s+)178(\s+)37(\s+)351`).ReplaceAll(data, []byte("72${1}64${2}178${3}37${4}350"))
	if err := os.WriteFile(broken, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	doc := filepath.Join(t.TempDir(), "old.doc")
	if err := os.WriteFile(doc, []byte("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		code int
		out  string // substring of stdout
		err  string // substring of stderr
	}{
		{"clean report", []string{huaian}, 0, "FAIL 0 · WARN 0 · UNCERTAIN 0 · PASS 55", ""},
		{"warnings only", []string{crFixture("text/cn-2021fmt-hongze-2024.txt")}, 0, "N-T3[新收]", ""},
		{"a failure", []string{broken}, 1, "T4-SUM[复议]", ""},
		{"failure first in the output", []string{broken, "--lang", "en"}, 1, "FAIL 1 · WARN 1", ""},
		{"not a report", []string{crFixture("generated/notice-2024.pdf")}, 1, "不是年度报告", ""},
		{"no text layer", []string{crFixture("generated/scan-2024.pdf")}, 2, "没有文字", ""},
		{"missing file", []string{"/nonexistent/report.pdf"}, 2, "", "no such file"},
		{"legacy .doc", []string{doc}, 2, "", "convert it to DOCX"},
		{"worst exit wins", []string{huaian, broken, "/nonexistent"}, 2, "FAIL 1", ""},
		{"bad language", []string{huaian, "--lang", "fr"}, 2, "", "--lang"},
		{"no files", nil, 2, "", "usage"},
		{"help", []string{"-h"}, 0, "", "usage"},
		{"unknown flag", []string{"--frobnicate", huaian}, 2, "", "frobnicate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := crRun(t, tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, out, errs)
			}
			if !strings.Contains(out, tc.out) {
				t.Errorf("stdout lacks %q:\n%s", tc.out, out)
			}
			if !strings.Contains(errs, tc.err) {
				t.Errorf("stderr lacks %q:\n%s", tc.err, errs)
			}
		})
	}
}

func TestCheckReportFailuresFirst(t *testing.T) {
	hongze := crFixture("text/cn-2021fmt-hongze-2024.txt")
	_, out, _ := crRun(t, "--lang", "en", hongze)
	warn := strings.Index(out, "WARN      N-T3[新收]")
	pass := strings.Index(out, "PASS      S-SECT")
	if warn < 0 || pass < 0 || warn > pass {
		t.Errorf("the section with the warning should come first:\n%s", out)
	}
	if !strings.Contains(out, "exp 95") || !strings.Contains(out, "act 17") || !strings.Contains(out, "L26") {
		t.Errorf("the warning should show expected, actual and line:\n%s", out)
	}
}

func TestCheckReportJSONAndFlagsAnywhere(t *testing.T) {
	huaian := crFixture("text/cn-2021fmt-huaian-2024.txt")
	hongze := crFixture("text/cn-2021fmt-hongze-2024.txt")
	for _, args := range [][]string{
		{"--json", huaian, hongze},
		{huaian, "--json", hongze},
		{huaian, hongze, "--json", "--lang=en"},
		{"--lang", "en", huaian, "--json", "--", hongze},
	} {
		code, out, errs := crRun(t, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errs)
		}
		var doc struct {
			Schema  string `json:"schema"`
			Reports []struct {
				File    string `json:"file"`
				Outcome string `json:"outcome"`
				Summary struct{ Pass, Fail, Warn, Uncertain int }
				Rules   []struct {
					ID       string `json:"id"`
					Key      string `json:"key"`
					Status   string `json:"status"`
					Expected *int64 `json:"expected"`
					Actual   *int64 `json:"actual"`
					Location struct {
						Line int `json:"line"`
					} `json:"location"`
				} `json:"rules"`
			} `json:"reports"`
		}
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
		if doc.Schema != "gongkai.check-report/v1" || len(doc.Reports) != 2 {
			t.Fatalf("%v: schema %q, %d reports", args, doc.Schema, len(doc.Reports))
		}
		if r := doc.Reports[1]; r.Summary.Warn != 1 || r.Summary.Pass != 49 {
			t.Errorf("%v: hongze summary %+v", args, r.Summary)
		}
		found := false
		for _, r := range doc.Reports[1].Rules {
			if r.ID == "N-T3" && r.Key == "新收" {
				found = r.Status == "WARN" && *r.Expected == 95 && *r.Actual == 17 && r.Location.Line == 26
			}
		}
		if !found {
			t.Errorf("%v: N-T3[新收] not WARN 95/17 at line 26", args)
		}
	}
}

func TestCheckReportPrevious(t *testing.T) {
	huaian := crFixture("text/cn-2021fmt-huaian-2024.txt")
	// The same report as its own predecessor: wrong year, so the
	// cross-year rules are UNCERTAIN and say why.
	code, out, errs := crRun(t, huaian, "--previous", huaian, "--lang", "en")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.Contains(out, "X-T3-CARRY") || !strings.Contains(out, "the previous report is for 2024, not 2023") {
		t.Errorf("cross-year rules missing:\n%s", out)
	}
	if code, _, errs := crRun(t, huaian, "--previous", "/nonexistent"); code != 2 || !strings.Contains(errs, "previous report") {
		t.Errorf("unreadable previous report: exit %d, %s", code, errs)
	}
}

func TestCheckReportDumpText(t *testing.T) {
	code, out, _ := crRun(t, "--dump-text", crFixture("html/cn-2021fmt-html-layout-sample.html"))
	if code != 0 || !strings.Contains(out, "|") || !strings.Contains(out, "一、总体情况") {
		t.Errorf("exit %d:\n%s", code, out)
	}
}

func TestCheckReportStdin(t *testing.T) {
	data, err := os.ReadFile(crFixture("text/cn-2021fmt-hongze-2024.txt"))
	if err != nil {
		t.Fatal(err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		w.Write(data)
		w.Close()
	}()
	old := os.Stdin
	os.Stdin = r
	defer func() { os.Stdin = old }()
	code, out, _ := crRun(t, "-")
	if code != 0 || !strings.Contains(out, "淮安市洪泽区人民政府") {
		t.Errorf("exit %d:\n%s", code, out)
	}
}
