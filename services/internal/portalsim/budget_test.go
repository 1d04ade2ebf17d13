package portalsim

import (
	"archive/zip"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gongkai/gongkai/services/internal/budget"
)

// The embedded PDF was made from BudgetHTML's page; they must not drift
// apart (regenerate the PDF when the content changes: see budgetPDF).
func TestBudgetPDFSource(t *testing.T) {
	src, err := os.ReadFile("content/budget-2025.html")
	if err != nil {
		t.Fatal(err)
	}
	if string(src) != BudgetHTML() {
		t.Fatal("content/budget-2025.html is not what BudgetHTML writes; write it again and regenerate the PDF")
	}
	if !strings.HasPrefix(string(budgetPDF), "%PDF-") {
		t.Fatal("the embedded budget is not a PDF")
	}
}

func TestBudgetDocuments(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	asOf := time.Date(2026, 2, 10, 9, 0, 0, 0, cst)
	pub := time.Date(2026, 2, 6, 0, 0, 0, 0, cst)
	f, err := Start(Spec{AsOf: asOf, Sites: []Site{
		{AgencyID: "h", Name: "甲局", Budgets: []Budget{{Year: 2026, Published: pub}, {Year: 2024, Final: true, Published: pub.AddDate(0, 0, -200)}}},
		{AgencyID: "d", Name: "乙局", Budgets: []Budget{{Year: 2026, Published: pub, Format: FormatDOCX, Omit: []string{BudgetTables[6], BudgetTables[7]}}}},
		{AgencyID: "p", Name: "丙局", Budgets: []Budget{{Year: 2026, Published: pub, Format: FormatPDF}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := Budget{Year: 2026, Published: pub}
	_, page := get(t, f.URL("h")+"zfxxgk/yjs/"+b.slug())
	if got := budget.Find(page).Tables; len(got) != 8 || strings.Count(page, "<table") != 8 || !strings.Contains(page, "机关运行经费") {
		t.Fatalf("HTML budget: tables %q\n%.500s", got, page)
	}
	fin := Budget{Year: 2024, Final: true, Published: pub.AddDate(0, 0, -200)}
	if _, page := get(t, f.URL("h")+"zfxxgk/yjs/"+fin.slug()); len(budget.Find(page).Tables) != 9 {
		t.Fatalf("final accounts: %q", budget.Find(page).Tables)
	}
	d := Budget{Year: 2026, Published: pub, Format: FormatDOCX}
	if _, page := get(t, f.URL("d")+"zfxxgk/yjs/"+d.slug()); !strings.Contains(page, d.attachment()) || strings.Contains(page, "<table") {
		t.Fatalf("DOCX budget detail page:\n%s", page)
	}
	code, docx := get(t, f.URL("d")+"zfxxgk/yjs/"+d.attachment())
	zr, err := zip.NewReader(strings.NewReader(docx), int64(len(docx)))
	if code != 200 || err != nil {
		t.Fatalf("docx: %d %v", code, err)
	}
	rc, _ := zr.Open("word/document.xml")
	xml, _ := io.ReadAll(rc)
	if strings.Count(string(xml), "<w:tbl>") != 6 || strings.Contains(string(xml), "三公”经费支出") || !strings.Contains(string(xml), "三公") {
		t.Fatalf("DOCX without the 三公 and 政府性基金 tables: %d tables", strings.Count(string(xml), "<w:tbl>"))
	}
	p := Budget{Year: 2026, Published: pub, Format: FormatPDF}
	if code, pdf := get(t, f.URL("p")+"zfxxgk/yjs/"+p.attachment()); code != 200 || !strings.HasPrefix(pdf, "%PDF-") {
		t.Fatalf("PDF budget: %d", code)
	}
	// The baseline lists the budget pages an audit reads.
	var n int
	for _, u := range f.Pages() {
		if strings.Contains(u, "/yjs/") && strings.HasSuffix(u, ".html") && !strings.Contains(u, "index") {
			n++
		}
	}
	if n != 4 {
		t.Errorf("%d budget detail pages listed, want 4", n)
	}
}

func TestGenerateBudgets(t *testing.T) {
	spec := Generate(GenOptions{Agencies: 400, Seed: 42})
	formats := map[string]int{}
	omitted := 0
	for _, s := range spec.Sites {
		for _, b := range s.Budgets {
			if !b.Final {
				formats[b.Format]++
			}
			if len(b.Omit) > 0 {
				omitted++
				if b.Final || b.Format == FormatPDF {
					t.Errorf("%s: tables omitted from %+v", s.AgencyID, b)
				}
			}
		}
	}
	if formats[FormatDOCX] < 80 || formats[FormatPDF] < 40 || formats[FormatHTML] < 250 {
		t.Errorf("budget formats %v", formats)
	}
	if omitted == 0 {
		t.Error("no agency's budget misses tables")
	}
}
