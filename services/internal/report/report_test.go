package report

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gongkai/gongkai/services/internal/report/pdftext"
)

// pureGo configures a Checker that needs nothing outside the Go binary:
// no pdftotext and no PDFium, so tests behave the same on every machine.
var pureGo = Options{PDF: pdftext.Options{Backend: pdftext.Auto, NoPDFium: true, PdftotextPath: "off"}}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", filepath.FromSlash(name)))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// check extracts, parses and checks the bytes of a fixture.
func check(t testing.TB, c *Checker, name string, data []byte, prev *Report) (*Report, *Result) {
	t.Helper()
	rep, err := c.Read(context.Background(), name, data)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return rep, Check(rep, prev)
}

func checkFixture(t testing.TB, c *Checker, name string) (*Report, *Result) {
	t.Helper()
	return check(t, c, name, readFixture(t, name), nil)
}

// fixtureCase is the expected result of one fixture.
type fixtureCase struct {
	file                        string
	outcome                     Outcome
	format                      Format
	year                        int
	organ                       string
	pass, fail, warn, uncertain int
	want                        map[string]Status // by RuleResult.Name()
}

// The real reports and their expected results (fixtures/reports/README.md),
// their HTML, GBK, PDF and DOCX versions, and the documents that are not
// reports.
var fixtureCases = []fixtureCase{
	{file: "text/cn-2021fmt-huaian-2024.txt", outcome: Checked, format: Format2021, year: 2024, organ: "淮安市人民政府", pass: 55,
		want: map[string]Status{"T3-ID[TOT]": Pass, "N-T3[新收]": Pass, "N-T3[结转下年]": Pass, "N-T4[行政复议]": Pass, "N-T4[行政诉讼]": Pass, "S-FEE": Pass}},
	{file: "text/cn-2021fmt-hongze-2024.txt", outcome: Checked, format: Format2021, year: 2024, organ: "淮安市洪泽区人民政府", pass: 49, warn: 1,
		want: map[string]Status{"N-T3[新收]": Warn, "T3-SUB": Pass, "T3-ROW[六]": Pass, "T3-ROW[6]": Pass, "T4-SUM[复议]": Pass}},
	// The re-keyed Suqian text has no 统计期限 sentence: S-PERIOD warns.
	{file: "text/cn-2021fmt-suqian-2023.md", outcome: Checked, format: Format2021, year: 2023, organ: "宿迁市", pass: 58, warn: 1,
		want: map[string]Status{"S-PERIOD": Warn, "N-T3[新收]": Pass, "N-T3[其他处理]": Pass, "T3-ROW[21]": Pass, "T3-ROW[22]": Pass}},
	// A synthetic report in the 2019 trial format (no published one is at
	// hand): its table 2 columns and rows, the （九） block, a single
	// （六） row. Everything passes; S-FEE is not a rule of that format.
	{file: "text/cn-2019fmt-synthetic-2019.txt", outcome: Checked, format: Format2019, year: 2019, organ: "测试县人民政府", pass: 56,
		want: map[string]Status{"S-SECT": Pass, "S-PERIOD": Pass, "T2-NN": Pass, "T3-SUB": Pass, "T3-ROW[六]": Pass, "T3-ID[TOT]": Pass,
			"T3-RES[TOT]": Pass, "T4-SUM[复议]": Pass, "N-T3[新收]": Pass, "N-T3[结转下年]": Pass, "N-T4[行政复议]": Pass}},
	// A synthetic report under the 2008 regulations: no tables, the six
	// topics of art. 32 mentioned, the period stated.
	{file: "text/cn-2008rules-synthetic-2016.txt", outcome: Checked, format: FormatPre2019, year: 2016, organ: "测试县人民政府", pass: 2,
		want: map[string]Status{"S-SECT": Pass, "S-PERIOD": Pass}},
	{file: "html/cn-2021fmt-html-layout-sample.html", outcome: Checked, format: Format2021, year: 2025, organ: "测试市", pass: 52},
	{file: "html/gbk-meta-2025.html", outcome: Checked, format: Format2021, year: 2025, organ: "测试市", pass: 52},
	{file: "html/gbk-nometa-2025.html", outcome: Checked, format: Format2021, year: 2025, organ: "测试市", pass: 52},
	{file: "pdf/cn-huaian-2024.pdf", outcome: Checked, format: Format2021, year: 2024, organ: "淮安市人民政府", pass: 55},
	{file: "pdf/cn-huaian-hongze-2024.pdf", outcome: Checked, format: Format2021, year: 2024, organ: "淮安市洪泽区人民政府", pass: 49, warn: 1,
		want: map[string]Status{"N-T3[新收]": Warn}},
	{file: "generated/lo-huaian-2024.pdf", outcome: Checked, format: Format2021, year: 2024, organ: "淮安市人民政府", pass: 55},
	{file: "generated/lo-huaian-2024.docx", outcome: Checked, format: Format2021, year: 2024, organ: "淮安市人民政府", pass: 55},
	{file: "generated/lo-sample-2025.pdf", outcome: Checked, format: Format2021, year: 2025, organ: "测试市", pass: 52},
	{file: "generated/lo-sample-2025.docx", outcome: Checked, format: Format2021, year: 2025, organ: "测试市", pass: 52},
	// The official template: six headings, empty tables. No table rule
	// may PASS; they are UNCERTAIN (and T3-BLANK warns).
	{file: "docx/cn-template-format.docx", outcome: Checked, format: Format2021, pass: 4, warn: 2, uncertain: 46,
		want: map[string]Status{"S-SECT": Pass, "T3-ID[TOT]": Uncertain, "T3-ROW[1]": Uncertain, "T3-NN": Uncertain, "T3-BLANK": Warn,
			"T4-SUM[复议]": Uncertain, "T4-NN": Uncertain, "T2-NN": Uncertain, "S-PERIOD": Warn}},
	// The short LibreOffice document of the bake-off: 2019 wording of
	// heading 五, only three rows of table 3.
	{file: "pdf/gen-2024.pdf", outcome: Checked, format: Format2021, year: 2024, organ: "某某区人民政府",
		pass: 7, warn: 3, uncertain: 42, want: map[string]Status{"S-SECT": Pass, "T3-ROW[1]": Pass, "T3-ROW[25]": Pass, "T3-ID[TOT]": Uncertain}},
	{file: "docx/gen-2024.docx", outcome: Checked, format: Format2021, year: 2024, organ: "某某区人民政府",
		pass: 7, warn: 3, uncertain: 42, want: map[string]Status{"S-SECT": Pass, "T3-ROW[1]": Pass, "T3-ROW[25]": Pass, "T3-ID[TOT]": Uncertain}},
	{file: "generated/notice-2024.pdf", outcome: NotAReport},
	{file: "generated/scan-2024.pdf", outcome: NoText},
}

func TestFixtures(t *testing.T) {
	c := NewChecker(pureGo)
	defer c.Close()
	for _, tc := range fixtureCases {
		t.Run(tc.file, func(t *testing.T) {
			_, res := checkFixture(t, c, tc.file)
			if res.Outcome != tc.outcome {
				t.Fatalf("outcome %s, want %s (reason %v)", res.Outcome, tc.outcome, res.Reason)
			}
			if tc.outcome != Checked {
				if len(res.Rules) != 0 || res.Reason == nil {
					t.Errorf("a %s document must have a reason and no rules, got %d rules", tc.outcome, len(res.Rules))
				}
				return
			}
			if res.Format != tc.format || res.Year != tc.year || res.Organ != tc.organ {
				t.Errorf("format/year/organ = %s/%d/%q, want %s/%d/%q", res.Format, res.Year, res.Organ, tc.format, tc.year, tc.organ)
			}
			got := res.Summary
			if got.Pass != tc.pass || got.Fail != tc.fail || got.Warn != tc.warn || got.Uncertain != tc.uncertain {
				t.Errorf("summary %+v, want pass %d fail %d warn %d uncertain %d", got, tc.pass, tc.fail, tc.warn, tc.uncertain)
				for _, r := range res.Rules {
					if r.Status != Pass {
						t.Logf("  %s %s: %s", r.Status, r.Name(), r.Message.EN)
					}
				}
				for _, n := range res.Notes {
					t.Logf("  note: %s", n)
				}
			}
			for name, want := range tc.want {
				if r := findRule(res, name); r == nil {
					t.Errorf("%s: not evaluated", name)
				} else if r.Status != want {
					t.Errorf("%s = %s, want %s: %s", name, r.Status, want, r.Message.EN)
				}
			}
		})
	}
}

func findRule(res *Result, name string) *RuleResult {
	for i := range res.Rules {
		if res.Rules[i].Name() == name {
			return &res.Rules[i]
		}
	}
	return nil
}

// TestSameVerdicts checks that every version of a report gets the same
// verdict for every rule: the published PDFs as their pdftotext -layout
// text, and the LibreOffice PDF and DOCX as the text or HTML they were
// made from.
func TestSameVerdicts(t *testing.T) {
	c := NewChecker(pureGo)
	defer c.Close()
	for _, set := range [][]string{
		{"text/cn-2021fmt-huaian-2024.txt", "pdf/cn-huaian-2024.pdf", "generated/lo-huaian-2024.pdf", "generated/lo-huaian-2024.docx"},
		{"text/cn-2021fmt-hongze-2024.txt", "pdf/cn-huaian-hongze-2024.pdf"},
		{"html/cn-2021fmt-html-layout-sample.html", "html/gbk-meta-2025.html", "html/gbk-nometa-2025.html", "generated/lo-sample-2025.pdf", "generated/lo-sample-2025.docx"},
	} {
		_, base := checkFixture(t, c, set[0])
		for _, other := range set[1:] {
			_, res := checkFixture(t, c, other)
			if d := diffVerdicts(base, res); d != "" {
				t.Errorf("%s differs from %s:\n%s", other, set[0], d)
			}
		}
	}
}

func diffVerdicts(a, b *Result) string {
	var out []string
	got := map[string]*RuleResult{}
	for i := range b.Rules {
		got[b.Rules[i].Name()] = &b.Rules[i]
	}
	for _, r := range a.Rules {
		o := got[r.Name()]
		switch {
		case o == nil:
			out = append(out, r.Name()+": missing")
		case o.Status != r.Status:
			out = append(out, r.Name()+": "+string(o.Status)+" instead of "+string(r.Status)+": "+o.Message.EN)
		case r.ID != "S-SECT" && r.ID != "S-FEE" && r.ID != "S-PERIOD" && !sameInt(r.Expected, o.Expected):
			out = append(out, r.Name()+": different expected value")
		case r.ID != "S-SECT" && r.ID != "S-FEE" && r.ID != "S-PERIOD" && !sameInt(r.Actual, o.Actual):
			out = append(out, r.Name()+": different actual value")
		}
	}
	if len(a.Rules) != len(b.Rules) {
		out = append(out, "different number of rules")
	}
	return strings.Join(out, "\n")
}

func sameInt(a, b *int64) bool {
	return (a == nil && b == nil) || (a != nil && b != nil && *a == *b)
}

// TestTemplateNeverPasses: the official template has no numbers, so no
// table rule may PASS.
func TestTemplateNeverPasses(t *testing.T) {
	c := NewChecker(pureGo)
	defer c.Close()
	_, res := checkFixture(t, c, "docx/cn-template-format.docx")
	for _, r := range res.Rules {
		if strings.HasPrefix(r.ID, "T") && r.Status == Pass {
			t.Errorf("%s passes on an empty template: %s", r.Name(), r.Message.EN)
		}
	}
}

func TestRowLabels(t *testing.T) {
	c := NewChecker(pureGo)
	defer c.Close()
	rep, _ := checkFixture(t, c, "text/cn-2021fmt-hongze-2024.txt")
	if row := rep.Table3.Rows[5]; !row.Found || row.Label != "其他法律行政止公开" || row.Cells[ColTOT].Text != "0" {
		t.Errorf("the typo row 2.其他法律行政止公开 was not matched: %+v", row)
	}
	if !rep.Table3.Other.Found || rep.Table3.Rows[20].Found {
		t.Errorf("hongze prints （六）其他处理 as one row: Other=%+v row21=%+v", rep.Table3.Other, rep.Table3.Rows[20])
	}
	rep, _ = checkFixture(t, c, "text/cn-2021fmt-suqian-2023.md")
	for i, want := range map[int]string{20: "40", 21: "10", 22: "291"} {
		if got := rep.Table3.Rows[i].Cells[ColTOT].Text; got != want {
			t.Errorf("suqian row %d total = %q, want %q", i+1, got, want)
		}
	}
	rep, _ = checkFixture(t, c, "text/cn-2021fmt-huaian-2024.txt")
	wantRows := map[int]string{0: "3119", 3: "454", 19: "1", 20: "71", 21: "6", 22: "110", 23: "3050", 24: "103"}
	for i, want := range wantRows {
		if got := rep.Table3.Rows[i].Cells[ColTOT].Text; got != want {
			t.Errorf("huaian row %d total = %q, want %q", i+1, got, want)
		}
	}
	if got := rep.Table2.Rows[6].Cells[0].Text; got != "96171.6" {
		t.Errorf("huaian fee = %q", got)
	}
}
