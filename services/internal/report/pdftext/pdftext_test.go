package pdftext

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "testdata", filepath.FromSlash(name)))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestInspect(t *testing.T) {
	for s, ok := range map[string]bool{
		"一、本年新收政府信息公开申请数量 3001 53": true,
		"":                  true,
		"温度 30°C · 约 5×6":   true,
		"9\x00Vd\\*65":      false,
		"\x11\x14S M-CM-^N": false,
		"Ã\u008e":           false,
		"\ufffd\ufffd":      false,
		"!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!": false,
	} {
		if got := Inspect(s).OK(); got != ok {
			t.Errorf("Inspect(%q).OK() = %v, want %v (%s)", s, got, ok, Inspect(s))
		}
	}
	if got := Clean("好\n\x009\n3001"); got != "好\n3001" {
		t.Errorf("Clean dropped the wrong lines: %q", got)
	}
}

func TestLedongthucOnly(t *testing.T) {
	e := New(Options{Backend: Ledongthuc})
	defer e.Close()
	tx, err := e.Extract(context.Background(), fixture(t, "pdf/cn-huaian-2024.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	if len(tx.Pages) != 6 || tx.NoTextLayer {
		t.Fatalf("%d pages, no text %v", len(tx.Pages), tx.NoTextLayer)
	}
	all := ""
	for _, p := range tx.Pages {
		all += p.Text + "\n"
		if p.Backend != Ledongthuc {
			t.Errorf("page %d read by %s", p.Number, p.Backend)
		}
	}
	// Split digits ("35" + "1") are joined, cells stay apart.
	for _, want := range []string{"一、本年新收政府信息公开申请数量 3001 53 0 0 61 4 3119", "行政复议351", "规章 1 0 11"} {
		if !strings.Contains(strings.ReplaceAll(all, "\n", " "), want) {
			t.Errorf("missing %q", want)
		}
	}
	if e.PDFiumStarted() {
		t.Error("PDFium started for an ordinary document")
	}
}

func TestGarbledPageWithoutFallback(t *testing.T) {
	e := New(Options{NoPDFium: true, PdftotextPath: "off"})
	defer e.Close()
	tx, err := e.Extract(context.Background(), fixture(t, "pdf/cn-huaian-hongze-2024.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	p := tx.Pages[2]
	if !strings.Contains(p.Note, "garbage") || !Inspect(p.Text).OK() {
		t.Errorf("page 3: note %q, quality %s", p.Note, Inspect(p.Text))
	}
}

func TestNoTextLayer(t *testing.T) {
	e := New(Options{NoPDFium: true, PdftotextPath: "off"})
	defer e.Close()
	tx, err := e.Extract(context.Background(), fixture(t, "generated/scan-2024.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	if !tx.NoTextLayer {
		t.Errorf("a scanned page has text: %+v", tx.Pages)
	}
}

func TestPdftotextFallback(t *testing.T) {
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Skip("pdftotext not installed")
	}
	e := New(Options{NoPDFium: true})
	defer e.Close()
	tx, err := e.Extract(context.Background(), fixture(t, "pdf/cn-huaian-hongze-2024.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	if got := tx.Pages[2].Backend; got != Pdftotext {
		t.Errorf("page 3 read by %s (%s)", got, tx.Pages[2].Note)
	}
	if tx.Pages[0].Backend != Ledongthuc {
		t.Errorf("page 1 read by %s", tx.Pages[0].Backend)
	}
}

// TestPDFiumFallback starts PDFium (seconds of CPU and ~300 MB without a
// warm cache); -short skips it.
func TestPDFiumFallback(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PDFium")
	}
	e := New(Options{PdftotextPath: "off", CacheDir: t.TempDir()})
	defer e.Close()
	tx, err := e.Extract(context.Background(), fixture(t, "pdf/cn-huaian-hongze-2024.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	p := tx.Pages[2]
	if p.Backend != PDFium || !strings.Contains(p.Text, "三") || !strings.Contains(p.Note, "used pdfium") {
		t.Errorf("page 3: %s, note %q", p.Backend, p.Note)
	}
	if !e.PDFiumStarted() {
		t.Error("PDFium not started")
	}
	// A cancelled context stops PDFium.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	e2 := New(Options{Backend: PDFium})
	defer e2.Close()
	if _, err := e2.Extract(ctx, fixture(t, "pdf/gen-2024.pdf")); err == nil {
		t.Error("no error with a cancelled context")
	}
}

func TestMalformed(t *testing.T) {
	e := New(Options{NoPDFium: true, PdftotextPath: "off"})
	defer e.Close()
	data := fixture(t, "pdf/gen-2024.pdf")
	for name, b := range map[string][]byte{
		"truncated": data[:len(data)/2],
		"header":    []byte("%PDF-1.4\n%%EOF\n"),
		"empty":     nil,
	} {
		if _, err := e.Extract(context.Background(), b); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Extract(context.Background(), data); err != ErrClosed {
		t.Errorf("after Close: %v", err)
	}
}
