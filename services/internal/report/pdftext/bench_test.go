package pdftext

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// BenchmarkBackends measures each back end on the real and generated PDFs,
// in process, after start-up (PDFium's pool is created before the timer,
// with a compilation cache in a temporary directory):
//
//	go test ./internal/report/pdftext/ -run '^$' -bench Backends -benchtime 20x
func BenchmarkBackends(b *testing.B) {
	docs := []string{"pdf/cn-huaian-2024.pdf", "pdf/cn-huaian-hongze-2024.pdf", "generated/lo-huaian-2024.pdf", "pdf/gen-2024.pdf"}
	backends := []struct {
		name string
		opts Options
	}{
		{"ledongthuc", Options{Backend: Ledongthuc}},
		{"auto-nopdfium", Options{NoPDFium: true}},
		{"pdftotext", Options{Backend: Pdftotext}},
		{"pdfium", Options{Backend: PDFium}},
		{"pdfium-uninterruptible", Options{Backend: PDFium, PDFiumUninterruptible: true}},
	}
	cache := b.TempDir()
	for _, be := range backends {
		if be.opts.Backend == Pdftotext {
			if _, err := exec.LookPath("pdftotext"); err != nil {
				continue
			}
		}
		if be.opts.Backend == PDFium {
			be.opts.CacheDir = filepath.Join(cache, be.name)
		}
		e := New(be.opts)
		for _, d := range docs {
			data, err := os.ReadFile(filepath.Join("..", "testdata", filepath.FromSlash(d)))
			if err != nil {
				b.Fatal(err)
			}
			b.Run(be.name+"/"+filepath.Base(d), func(b *testing.B) {
				if _, err := e.Extract(context.Background(), data); err != nil { // warm up
					b.Fatal(err)
				}
				b.ReportAllocs()
				for b.Loop() {
					if _, err := e.Extract(context.Background(), data); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
		e.Close()
	}
}
