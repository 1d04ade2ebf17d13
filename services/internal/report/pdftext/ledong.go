package pdftext

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/ledongthuc/pdf"
)

// ledongSource reads pages with github.com/ledongthuc/pdf, one page at a
// time with Page.GetPlainText(nil): the Reader-wide variant caches fonts by
// resource name across pages and garbles documents that reuse names.
type ledongSource struct {
	maxPages int
}

func (ledongSource) name() Backend { return Ledongthuc }

func (s ledongSource) pages(ctx context.Context, data []byte, want []int) (out map[int]pageOut, n int, err error) {
	defer func() {
		if x := recover(); x != nil {
			out, n, err = nil, 0, fmt.Errorf("malformed PDF: %v", x)
		}
	}()
	r, err := pdf.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, 0, err
	}
	n = r.NumPage()
	if n <= 0 {
		return nil, 0, fmt.Errorf("no pages (page count %d)", n)
	}
	if want == nil {
		for p := 1; p <= min(n, s.maxPages); p++ {
			want = append(want, p)
		}
	}
	out = make(map[int]pageOut, len(want))
	for _, p := range want {
		if err := ctx.Err(); err != nil {
			return nil, 0, err
		}
		out[p] = ledongPage(r, p)
	}
	return out, n, nil
}

func ledongPage(r *pdf.Reader, num int) (po pageOut) {
	defer func() {
		if x := recover(); x != nil {
			po = pageOut{problem: fmt.Sprintf("parser panic: %v", x)}
		}
	}()
	p := r.Page(num)
	if p.V.IsNull() {
		return pageOut{problem: "page not found"}
	}
	text, err := safeLayoutText(p)
	if err != nil {
		// Fall back to the library's own reader.
		text, err = p.GetPlainText(nil)
		if err != nil {
			return pageOut{problem: err.Error()}
		}
	}
	if strings.TrimSpace(text) == "" && (len(p.Fonts()) > 0 || hasFormXObject(p)) {
		// The page has fonts (or forms that may hold text) but nothing
		// came out: the parser probably failed silently. An image-only
		// page has neither.
		return pageOut{problem: "no text although the page has fonts or forms"}
	}
	return pageOut{text: text}
}

func safeLayoutText(p pdf.Page) (text string, err error) {
	defer func() {
		if x := recover(); x != nil {
			text, err = "", fmt.Errorf("layout: %v", x)
		}
	}()
	return layoutText(p), nil
}

// hasFormXObject reports whether the page's resources include a form
// XObject, whose text this reader does not descend into.
func hasFormXObject(p pdf.Page) bool {
	xo := p.Resources().Key("XObject")
	for _, k := range xo.Keys() {
		if xo.Key(k).Key("Subtype").Name() == "Form" {
			return true
		}
	}
	return false
}

// infoTitle returns the /Title of the document information dictionary,
// or "" when there is none or the file cannot be parsed.
func infoTitle(data []byte) (title string) {
	defer func() {
		if recover() != nil {
			title = ""
		}
	}()
	r, err := pdf.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(r.Trailer().Key("Info").Key("Title").Text())
}
