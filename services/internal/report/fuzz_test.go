package report

import (
	"context"
	"runtime"
	"testing"
	"time"
)

// watchdog fails the fuzz input (so that the engine saves it) when one
// execution takes longer than limit, with the stacks of all goroutines.
func watchdog(t *testing.T, limit time.Duration) func() {
	done := make(chan struct{})
	go func() {
		select {
		case <-done:
		case <-time.After(limit):
			buf := make([]byte, 1<<20)
			n := runtime.Stack(buf, true)
			panic("fuzz input took longer than " + limit.String() + "\n" + string(buf[:n]))
		}
	}()
	return func() { close(done) }
}

// fuzzOptions keep each run small and pure Go.
var fuzzOptions = ExtractOptions{
	Timeout:              5 * time.Second,
	MaxBytes:             4 << 20,
	MaxUncompressedBytes: 16 << 20,
	MaxTableCells:        20_000,
	PDFOptions:           pureGo.PDF,
}

// fuzzExtract runs the whole chain on one input: it must never panic,
// whatever the bytes.
func fuzzExtract(t *testing.T, name string, data []byte) {
	defer watchdog(t, 10*time.Second)()
	doc, err := Extract(context.Background(), name, data, fuzzOptions)
	if err != nil {
		return
	}
	rep, err := Parse(doc)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	res := Check(rep, rep)
	if res.Outcome == Checked && len(res.Rules) == 0 {
		t.Fatal("a checked report without rules")
	}
	_ = doc.Text()
}

func addSeeds(f *testing.F, files ...string) {
	for _, name := range files {
		f.Add(readFixture(f, name))
	}
}

func FuzzText(f *testing.F) {
	addSeeds(f, huaianText, hongzeText, "text/cn-2021fmt-suqian-2023.md")
	f.Add([]byte("一、总体情况\n| a | 1 |\n|---|---|\n\f-1-\n"))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzExtract(t, "f.txt", data) })
}

func FuzzHTML(f *testing.F) {
	addSeeds(f, sampleHTML, "html/gbk-nometa-2025.html")
	f.Add([]byte(`<table><tr><td rowspan="3" colspan="2">x</td><td>1</td></tr><tr><td>2</td></tr></table>`))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzExtract(t, "f.html", data) })
}

func FuzzDOCX(f *testing.F) {
	addSeeds(f, "docx/gen-2024.docx", "generated/lo-sample-2025.docx")
	f.Fuzz(func(t *testing.T, data []byte) { fuzzExtract(t, "f.docx", data) })
}

func FuzzPDF(f *testing.F) {
	addSeeds(f, "pdf/gen-2024.pdf")
	f.Add([]byte("%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[2 0 R]/Count 1>>endobj\ntrailer<</Root 1 0 R>>\nstartxref\n0\n%%EOF\n"))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzExtract(t, "f.pdf", data) })
}

// FuzzTables feeds text straight to the table parsers and the rules.
func FuzzTables(f *testing.F) {
	for _, name := range []string{huaianText, hongzeText} {
		doc, err := Extract(context.Background(), name, readFixture(f, name), ExtractOptions{})
		if err != nil {
			f.Fatal(err)
		}
		rep, _ := Parse(doc)
		from, to := region(rep.Headings, 2, len(doc.Lines))
		var s string
		for _, l := range doc.Lines[from:to] {
			s += l.Text + "\n"
		}
		f.Add(s)
	}
	f.Add("一、本年新收政府信息公开申请数量 1 2 3\n（六）其他处理 — 1 / 0\n3、其他 1.5 -2\n（七）总计\n")
	f.Fuzz(func(t *testing.T, s string) {
		defer watchdog(t, 10*time.Second)()
		doc, err := Extract(context.Background(), "t.txt", []byte(s), ExtractOptions{})
		if err != nil {
			return
		}
		t3 := parseTable3(doc, 0, len(doc.Lines))
		for _, r := range t3.Rows {
			if t3.Found && len(r.Cells) != 7 {
				t.Fatalf("row with %d cells", len(r.Cells))
			}
		}
		_ = parseTable4(doc, 0, len(doc.Lines))
		_ = parseTable2(doc, 0, len(doc.Lines), Format2021)
		_ = parseTable2(doc, 0, len(doc.Lines), Format2019)
		rep, _ := Parse(doc)
		_ = Check(rep, nil)
	})
}
