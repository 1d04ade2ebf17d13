package report

import (
	"context"
	"fmt"
	"strings"

	"github.com/gongkai/gongkai/services/internal/report/pdftext"
)

// readPDF extracts the text layer of a PDF page by page.
func readPDF(ctx context.Context, data []byte, ext *pdftext.Extractor) (*Document, error) {
	t, err := ext.Extract(ctx, data)
	if err != nil {
		if ctx.Err() != nil {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %w", err, ErrMalformed)
	}
	d := &Document{Pages: len(t.Pages), NoTextLayer: t.NoTextLayer, Title: t.Title}
	var names []string
	for _, b := range t.Backends() {
		names = append(names, string(b))
	}
	d.Extractor = strings.Join(names, "+")
	for _, p := range t.Pages {
		d.addText(strings.TrimRight(p.Text, "\n"), p.Number)
		if p.Note != "" {
			d.Notes = append(d.Notes, fmt.Sprintf("page %d: %s", p.Number, p.Note))
		}
	}
	if t.Truncated {
		d.Notes = append(d.Notes, "PDF truncated at the page or text limit")
	}
	return d, nil
}
