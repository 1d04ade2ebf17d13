package report

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"
)

func extract(t *testing.T, name string, data []byte, opts ExtractOptions) *Document {
	t.Helper()
	if opts.PDF == nil {
		opts.PDFOptions = pureGo.PDF
	}
	d, err := Extract(context.Background(), name, data, opts)
	if err != nil {
		t.Fatalf("extract %s: %v", name, err)
	}
	return d
}

func rows(d *Document, table int) [][]Cell {
	var out [][]Cell
	for _, l := range d.Lines {
		if l.Table == table {
			out = append(out, l.Cells)
		}
	}
	return out
}

func TestHTMLGrid(t *testing.T) {
	d := extract(t, "x.html", readFixture(t, sampleHTML), ExtractOptions{})
	if d.Kind != KindHTML || d.Title != "测试市2025年政府信息公开工作年度报告" {
		t.Fatalf("kind %s title %q", d.Kind, d.Title)
	}
	t3 := rows(d, 2)
	if len(t3) != 28 {
		t.Fatalf("table 3 has %d rows, want 28", len(t3))
	}
	for i, r := range t3 {
		if len(r) != 10 {
			t.Errorf("row %d has %d cells, want 10 (a true grid)", i, len(r))
		}
	}
	// Row 4 of the grid: 三、本年度办理结果 (rowspan 22) then （一）予以公开
	// (colspan 2) then 7 numbers.
	r := t3[5]
	if r[0].Text != "三、本年度办理结果" || r[1].Text != "（一）予以公开" || !r[2].Merged || r[3].Text != "5345" || r[9].Text != "5548" {
		t.Errorf("row 6 = %+v", r)
	}
	// The next row has the rowspan continuation in column 0.
	if !t3[6][0].Merged || t3[6][1].Text == "" {
		t.Errorf("row 7 = %+v", t3[6])
	}
}

func TestHTMLCharsets(t *testing.T) {
	page := `<html><head><meta charset="gb2312"><title>标题</title></head><body><p>一、总体情况</p><p>二、主动公开政府信息情况</p></body></html>`
	gbk, err := simplifiedchinese.GBK.NewEncoder().String(page)
	if err != nil {
		t.Fatal(err)
	}
	utf16, err := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().String(strings.Replace(page, "gb2312", "utf-16", 1))
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string]string{
		"declared gb2312, GBK bytes":   gbk,
		"no declaration, GBK bytes":    strings.Replace(gbk, `<meta charset="gb2312">`, "", 1),
		"declared gb2312, UTF-8 bytes": page,
		"UTF-8 with BOM":               "\xef\xbb\xbf" + page,
		"UTF-16 with BOM":              utf16,
		"http-equiv content-type gbk":  strings.Replace(gbk, `<meta charset="gb2312">`, `<meta http-equiv="Content-Type" content="text/html; charset=GBK">`, 1),
	} {
		t.Run(name, func(t *testing.T) {
			d := extract(t, "page.htm", []byte(data), ExtractOptions{})
			if !strings.Contains(d.Text(), "一、总体情况") || d.Title != "标题" {
				t.Errorf("decoded text %q title %q", d.Text(), d.Title)
			}
		})
	}
}

func TestHTMLLayoutTablesAndHidden(t *testing.T) {
	page := `<html><body><table><tr><td><div style="display:none">隐藏文字</div><p>一、总体情况</p>
<table><tr><td>规章</td><td>1</td></tr></table><script>var x = "二、主动公开政府信息情况";</script></td></tr></table></body></html>`
	d := extract(t, "p.html", []byte(page), ExtractOptions{})
	text := d.Text()
	if strings.Contains(text, "隐藏") || strings.Contains(text, "var x") {
		t.Errorf("hidden or script text kept: %q", text)
	}
	var tables, lines int
	for _, l := range d.Lines {
		if l.IsRow() {
			tables++
			if len(l.Cells) != 2 || l.Cells[1].Text != "1" {
				t.Errorf("inner table row %+v", l.Cells)
			}
		} else if strings.Contains(l.Text, "一、总体情况") {
			lines++
		}
	}
	if tables != 1 || lines != 1 {
		t.Errorf("layout table: %d rows, %d heading lines in %q", tables, lines, text)
	}
}

func TestHTMLHugeSpans(t *testing.T) {
	page := `<table><tr><td colspan="100000" rowspan="100000">x</td></tr><tr><td>1</td></tr></table>`
	start := time.Now()
	d := extract(t, "p.html", []byte(page), ExtractOptions{MaxTableCells: 5000})
	if time.Since(start) > 2*time.Second {
		t.Errorf("took %v", time.Since(start))
	}
	total := 0
	for _, l := range d.Lines {
		total += len(l.Cells)
	}
	if total > 5000*2 {
		t.Errorf("%d cells built", total)
	}
}

func TestDOCXTemplateGrid(t *testing.T) {
	d := extract(t, "t.docx", readFixture(t, "docx/cn-template-format.docx"), ExtractOptions{})
	found := false
	for tbl := 1; tbl <= 3; tbl++ {
		rs := rows(d, tbl)
		if len(rs) == 0 {
			t.Fatalf("table %d missing", tbl)
		}
		for i, r := range rs {
			if len(r) != len(rs[0]) {
				t.Errorf("table %d row %d has %d cells, row 0 has %d", tbl, i, len(r), len(rs[0]))
			}
		}
		for _, r := range rs {
			if strings.Contains(r[0].Text, "本年新收") {
				found = true
			}
		}
	}
	if !found {
		t.Error("table 3's first row not found")
	}
	merged := 0
	for _, l := range d.Lines {
		for _, c := range l.Cells {
			if c.Merged {
				merged++
			}
		}
	}
	if merged == 0 {
		t.Error("no merged cells: gridSpan/vMerge ignored")
	}
}

func zipWith(t *testing.T, name string, body []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(body); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestDOCXBombs(t *testing.T) {
	para := []byte(`<w:p><w:r><w:t>` + strings.Repeat("报", 100) + `</w:t></w:r></w:p>`)
	big := append([]byte(`<w:document xmlns:w="w"><w:body>`), bytes.Repeat(para, 20000)...) // ~6 MB
	for name, tc := range map[string]struct {
		data []byte
		opts ExtractOptions
	}{
		"expands beyond the size limit": {zipWith(t, "word/document.xml", big), ExtractOptions{MaxUncompressedBytes: 1 << 20}},
		"compression ratio of a bomb":   {zipWith(t, "word/document.xml", make([]byte, 8<<20)), ExtractOptions{}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Extract(context.Background(), "bomb.docx", tc.data, tc.opts)
			if !errors.Is(err, ErrTooLarge) {
				t.Fatalf("err = %v, want ErrTooLarge", err)
			}
			if !strings.Contains(err.Error(), "bomb.docx") {
				t.Errorf("error does not name the file: %v", err)
			}
		})
	}
}

func TestUnsupportedAndMalformed(t *testing.T) {
	for name, tc := range map[string]struct {
		file string
		data []byte
		want error
	}{
		"legacy doc":          {"a.doc", []byte("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest"), ErrUnsupported},
		"xlsx":                {"a.xlsx", zipWith(t, "xl/workbook.xml", []byte("<x/>")), ErrUnsupported},
		"rtf":                 {"a.rtf", []byte(`{\rtf1 hello}`), ErrUnsupported},
		"binary":              {"a.bin", []byte{0, 1, 2, 3, 0, 0}, ErrUnsupported},
		"pdf name, text body": {"a.pdf", []byte("just text"), ErrMalformed},
		"docx without xml":    {"a.docx", zipWith(t, "word/document.xml.bak", []byte("x")), ErrMalformed},
		"truncated docx":      {"a.docx", zipWith(t, "word/document.xml", []byte("<w:document>"))[:60], ErrMalformed},
		"too large":           {"a.txt", make([]byte, 2048), ErrTooLarge},
		"pdf garbage":         {"a.pdf", []byte("%PDF-1.4\n garbage \n%%EOF\n"), ErrMalformed},
		"pdf no eof":          {"a.pdf", []byte("%PDF-1.7\n1 0 obj << >> endobj\n"), ErrMalformed},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Extract(context.Background(), tc.file, tc.data, ExtractOptions{MaxBytes: 1024, PDFOptions: pureGo.PDF})
			if err == nil {
				t.Fatal("no error")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.file) {
				t.Errorf("error does not name the file: %v", err)
			}
		})
	}
}

func TestContextCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, f := range []string{"pdf/cn-huaian-2024.pdf", "docx/cn-template-format.docx"} {
		_, err := Extract(ctx, f, readFixture(t, f), ExtractOptions{PDFOptions: pureGo.PDF})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s: err = %v, want context.Canceled", f, err)
		}
	}
}

func TestTextEncodingsAndMarkdown(t *testing.T) {
	src := "一、总体情况\n| 行 | 自然人 |\n|---|---|\n| 一、本年新收政府信息公开申请数量 | 3 |\n\f第二页"
	gb, _ := simplifiedchinese.GB18030.NewEncoder().String(src)
	u16, _ := unicode.UTF16(unicode.BigEndian, unicode.UseBOM).NewEncoder().String(src)
	for name, data := range map[string]string{"utf-8": src, "gb18030": gb, "utf-16be": u16} {
		t.Run(name, func(t *testing.T) {
			d := extract(t, "r.txt", []byte(data), ExtractOptions{})
			var row *Line
			for i := range d.Lines {
				if d.Lines[i].IsRow() && strings.Contains(d.Lines[i].Text, "本年新收") {
					row = &d.Lines[i]
				}
			}
			if row == nil || len(row.Cells) != 2 || row.Cells[1].Text != "3" {
				t.Fatalf("markdown row not read: %+v", d.Lines)
			}
			if last := d.Lines[len(d.Lines)-1]; last.Page != 2 || last.Text != "第二页" {
				t.Errorf("form feed did not start page 2: %+v", last)
			}
		})
	}
}

func TestPageFurniture(t *testing.T) {
	d := extract(t, "r.txt", []byte("正文\n                 -1-\n  - 12 -\n第 3 页 共 6 页\n3119\n"), ExtractOptions{})
	want := []bool{false, true, true, true, false, false}
	for i, l := range d.Lines {
		if l.Furniture != want[i] {
			t.Errorf("line %d %q furniture = %v", i+1, l.Text, l.Furniture)
		}
	}
}

func TestNumberParsing(t *testing.T) {
	for text, want := range map[string]int64{"3119": 3119, "3,119": 3119, "12.00": 12, "+3": 3, "-4": -4} {
		if v, ok := (Number{Text: text}).Int(); !ok || v != want {
			t.Errorf("Int(%q) = %d, %v", text, v, ok)
		}
	}
	for _, text := range []string{"", " ", "—", "-", "/", "1.5", "约10", "abc"} {
		if _, ok := (Number{Text: text}).Int(); ok {
			t.Errorf("Int(%q) accepted", text)
		}
	}
	if !(Number{Text: "—"}).Blank() || (Number{Text: "0"}).Blank() {
		t.Error("a dash is blank, a zero is not")
	}
}

func TestEvalEq(t *testing.T) {
	n := func(s string) term { return term{n: Number{Text: s}} }
	for _, tc := range []struct {
		exp, act []term
		want     Status
	}{
		{[]term{n("1"), n("2")}, []term{n("3")}, Pass},
		{[]term{n("1"), n("2")}, []term{n("4")}, Fail},
		{[]term{n("1"), n("")}, []term{n("3")}, Uncertain}, // blank may be 2
		{[]term{n("5"), n("")}, []term{n("3")}, Fail},      // no non-negative blank helps
		{[]term{n("5")}, []term{n("")}, Uncertain},         // the total may be 5
		{[]term{n("1"), n("")}, []term{n("1")}, Uncertain}, // holds only if the blank is 0
		{[]term{n("9"), {n: Number{Text: "4"}, neg: true}, n("")}, []term{n("2")}, Fail},
		{[]term{n("9"), {n: Number{Text: ""}, neg: true}}, []term{n("2")}, Uncertain},
	} {
		if got := evalEq(tc.exp, tc.act, Fail).status; got != tc.want {
			t.Errorf("%v = %v: %s, want %s", tc.exp, tc.act, got, tc.want)
		}
	}
}
