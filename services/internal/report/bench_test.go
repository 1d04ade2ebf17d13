package report

import (
	"context"
	"os/exec"
	"testing"

	"github.com/gongkai/gongkai/services/internal/report/pdftext"
)

// The benchmarks come in pairs with a baseline in the same run, so that
// docs/benchmarks.md can report ratios rather than absolute times from a
// noisy shared machine:
//
//	BenchmarkReadText   extract only (decode, split lines, mark page numbers)
//	BenchmarkCheckText  extract + Parse + Check: text to verdict
//	BenchmarkParseCheck Parse + Check of an already extracted document
//	BenchmarkPDFPlainText  ledongthuc's own Page.GetPlainText over every page (baseline)
//	BenchmarkCheckPDF   extract (layered, pure Go) + Parse + Check
//
// go test ./internal/report/ -run '^$' -bench . -benchmem -count 5

func benchCheck(b *testing.B, c *Checker, name string) {
	data := readFixture(b, name)
	ctx := context.Background()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		rep, err := c.Read(ctx, name, data)
		if err != nil {
			b.Fatal(err)
		}
		if res := Check(rep, nil); res.Outcome != Checked {
			b.Fatal(res.Outcome)
		}
	}
}

func BenchmarkReadText(b *testing.B) {
	data := readFixture(b, huaianText)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Extract(context.Background(), huaianText, data, ExtractOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCheckText(b *testing.B) {
	c := NewChecker(pureGo)
	defer c.Close()
	benchCheck(b, c, huaianText)
}

func BenchmarkParseCheck(b *testing.B) {
	doc, err := Extract(context.Background(), huaianText, readFixture(b, huaianText), ExtractOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		rep, _ := Parse(doc)
		_ = Check(rep, nil)
	}
}

func BenchmarkCheckHTML(b *testing.B) {
	c := NewChecker(pureGo)
	defer c.Close()
	benchCheck(b, c, sampleHTML)
}

func BenchmarkCheckDOCX(b *testing.B) {
	c := NewChecker(pureGo)
	defer c.Close()
	benchCheck(b, c, "generated/lo-huaian-2024.docx")
}

func BenchmarkPDFPlainText(b *testing.B) {
	data := readFixture(b, "pdf/cn-huaian-2024.pdf")
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if err := plainTextBaseline(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCheckPDF(b *testing.B) {
	c := NewChecker(pureGo)
	defer c.Close()
	b.Run("huaian", func(b *testing.B) { benchCheck(b, c, "pdf/cn-huaian-2024.pdf") })
	b.Run("hongze", func(b *testing.B) { benchCheck(b, c, "pdf/cn-huaian-hongze-2024.pdf") })
}

// BenchmarkCheckPDFPdftotext is the same with pdftotext -raw as the only
// back end (a process per document), when it is installed.
func BenchmarkCheckPDFPdftotext(b *testing.B) {
	if _, err := exec.LookPath("pdftotext"); err != nil {
		b.Skip("pdftotext not installed")
	}
	c := NewChecker(Options{PDF: pdftext.Options{Backend: pdftext.Pdftotext}})
	defer c.Close()
	benchCheck(b, c, "pdf/cn-huaian-2024.pdf")
}
