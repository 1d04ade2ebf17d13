package report

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// readDOCX reads word/document.xml of a DOCX archive with a streaming XML
// decoder. Table cells are laid out on the table grid: w:gridSpan and
// w:gridBefore/w:gridAfter widen a row, and w:vMerge continuation cells
// become merged cells, so every row of a table has the same width.
func readDOCX(ctx context.Context, data []byte, opts ExtractOptions) (*Document, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("open archive: %w: %w", err, ErrMalformed)
	}
	var part, core *zip.File
	for _, f := range zr.File {
		switch f.Name {
		case "word/document.xml":
			part = f
		case "docProps/core.xml":
			core = f
		}
	}
	if part == nil {
		return nil, fmt.Errorf("no word/document.xml in the archive: %w", ErrMalformed)
	}
	if part.UncompressedSize64 > uint64(opts.MaxUncompressedBytes) {
		return nil, fmt.Errorf("word/document.xml declares %d bytes, limit %d: %w", part.UncompressedSize64, opts.MaxUncompressedBytes, ErrTooLarge)
	}
	if part.UncompressedSize64 > 1<<20 && part.UncompressedSize64/max(part.CompressedSize64, 1) > uint64(opts.MaxCompressionRatio) {
		return nil, fmt.Errorf("word/document.xml compression ratio %d exceeds %d (zip bomb?): %w",
			part.UncompressedSize64/max(part.CompressedSize64, 1), opts.MaxCompressionRatio, ErrTooLarge)
	}
	rc, err := part.Open()
	if err != nil {
		return nil, fmt.Errorf("open word/document.xml: %w: %w", err, ErrMalformed)
	}
	defer rc.Close()
	guard := &bombGuard{r: rc, limit: opts.MaxUncompressedBytes, compressed: int64(part.CompressedSize64), ratio: opts.MaxCompressionRatio}
	r := &docxReader{d: &Document{}, maxCells: opts.MaxTableCells}
	if err := r.read(ctx, guard); err != nil {
		if guard.err != nil {
			return nil, guard.err
		}
		return nil, err
	}
	if core != nil {
		r.d.Title = coreTitle(core)
	}
	return r.d, nil
}

// coreTitle returns dc:title from docProps/core.xml (read up to 256 KiB),
// or "".
func coreTitle(f *zip.File) string {
	rc, err := f.Open()
	if err != nil {
		return ""
	}
	defer rc.Close()
	dec := xml.NewDecoder(io.LimitReader(rc, 256<<10))
	inTitle := false
	var b strings.Builder
	for {
		tok, err := dec.RawToken()
		if err != nil {
			break
		}
		switch t := tok.(type) {
		case xml.StartElement:
			inTitle = t.Name.Local == "title"
		case xml.EndElement:
			if inTitle {
				return collapseSpace(b.String())
			}
		case xml.CharData:
			if inTitle {
				b.Write(t)
			}
		}
	}
	return ""
}

// bombGuard stops reading when the data expands beyond limit bytes or
// beyond ratio times its compressed size (after the first MiB), whatever
// the archive's headers claim.
type bombGuard struct {
	r          io.Reader
	n          int64
	limit      int64
	compressed int64
	ratio      int64
	err        error
}

func (g *bombGuard) Read(p []byte) (int, error) {
	if g.err != nil {
		return 0, g.err
	}
	n, err := g.r.Read(p)
	g.n += int64(n)
	switch {
	case g.n > g.limit:
		g.err = fmt.Errorf("word/document.xml expands beyond %d bytes: %w", g.limit, ErrTooLarge)
	case g.n > 1<<20 && g.n/max(g.compressed, 1) > g.ratio:
		g.err = fmt.Errorf("word/document.xml expands more than %d times (zip bomb?): %w", g.ratio, ErrTooLarge)
	}
	if g.err != nil {
		return n, g.err
	}
	return n, err
}

// docxTable is a table being read.
type docxTable struct {
	rows       [][]Cell
	row        []Cell
	cell       strings.Builder
	inCell     bool
	span       int
	vcont      bool
	gridBefore int
	gridAfter  int
}

type docxReader struct {
	d        *Document
	body     strings.Builder
	stack    []*docxTable
	tables   int
	maxCells int
	cells    int
	inText   bool
	skip     int // depth inside an element whose content is skipped
}

func (r *docxReader) target() *strings.Builder {
	if n := len(r.stack); n > 0 && r.stack[n-1].inCell {
		return &r.stack[n-1].cell
	}
	return &r.body
}

func (r *docxReader) flushBody() {
	t := strings.TrimRight(r.body.String(), " \t")
	r.body.Reset()
	if strings.TrimSpace(t) != "" {
		for _, ln := range strings.Split(t, "\n") {
			r.d.Lines = append(r.d.Lines, Line{Text: strings.TrimSpace(strings.ReplaceAll(ln, "\t", " "))})
		}
	}
}

func wordAttr(e xml.StartElement, local string) (string, bool) {
	for _, a := range e.Attr {
		if a.Name.Local == local {
			return a.Value, true
		}
	}
	return "", false
}

func wordInt(e xml.StartElement, limit int) int {
	v, ok := wordAttr(e, "val")
	if !ok {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0
	}
	return min(n, limit)
}

func (r *docxReader) read(ctx context.Context, in io.Reader) error {
	dec := xml.NewDecoder(in)
	dec.Strict = false
	dec.CharsetReader = func(label string, input io.Reader) (io.Reader, error) {
		if strings.EqualFold(label, "utf-8") || strings.EqualFold(label, "utf8") {
			return input, nil
		}
		return nil, fmt.Errorf("unsupported XML encoding %q", label)
	}
	for n := 0; ; n++ {
		if n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		tok, err := dec.RawToken()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("word/document.xml: %w: %w", err, ErrMalformed)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if r.skip > 0 {
				r.skip++
				continue
			}
			if err := r.start(t); err != nil {
				return err
			}
		case xml.EndElement:
			if r.skip > 0 {
				r.skip--
				continue
			}
			r.end(t)
		case xml.CharData:
			if r.skip == 0 && r.inText {
				r.target().Write(t)
			}
		}
	}
	r.flushBody()
	return nil
}

func (r *docxReader) top() *docxTable {
	if len(r.stack) == 0 {
		return nil
	}
	return r.stack[len(r.stack)-1]
}

func (r *docxReader) start(e xml.StartElement) error {
	if e.Name.Space == "mc" && e.Name.Local == "Fallback" {
		r.skip = 1
		return nil
	}
	if e.Name.Space != "w" {
		return nil
	}
	t := r.top()
	switch e.Name.Local {
	case "t":
		r.inText = true
	case "tab", "ptab":
		r.target().WriteByte('\t')
	case "br", "cr":
		r.target().WriteByte('\n')
	case "tbl":
		if len(r.stack) == 0 {
			r.flushBody()
		}
		r.stack = append(r.stack, &docxTable{})
	case "tr":
		if t != nil {
			t.row = nil
			t.gridBefore, t.gridAfter = 0, 0
		}
	case "gridBefore":
		if t != nil {
			t.gridBefore = wordInt(e, 64)
		}
	case "gridAfter":
		if t != nil {
			t.gridAfter = wordInt(e, 64)
		}
	case "tc":
		if t == nil {
			return nil
		}
		for len(t.row) < t.gridBefore {
			t.row = append(t.row, Cell{Merged: true})
		}
		t.inCell, t.span, t.vcont = true, 1, false
		t.cell.Reset()
	case "gridSpan":
		if t != nil && t.inCell {
			t.span = max(1, wordInt(e, 64))
		}
	case "vMerge":
		if t != nil && t.inCell {
			v, _ := wordAttr(e, "val")
			t.vcont = v != "restart"
		}
	}
	return nil
}

func (r *docxReader) end(e xml.EndElement) {
	if e.Name.Space != "w" {
		return
	}
	t := r.top()
	switch e.Name.Local {
	case "t":
		r.inText = false
	case "p":
		if t != nil && t.inCell {
			t.cell.WriteByte('\n')
		} else if len(r.stack) == 0 {
			r.flushBody()
		}
	case "tc":
		if t == nil || !t.inCell {
			return
		}
		c := Cell{Text: collapseSpace(t.cell.String())}
		if t.vcont {
			c = Cell{Merged: true}
		}
		if r.cells+t.span > r.maxCells {
			t.inCell = false
			return
		}
		r.cells += t.span
		t.row = append(t.row, c)
		for range t.span - 1 {
			t.row = append(t.row, Cell{Merged: true})
		}
		t.inCell = false
	case "tr":
		if t == nil {
			return
		}
		for range t.gridAfter {
			t.row = append(t.row, Cell{Merged: true})
		}
		if t.row != nil {
			t.rows = append(t.rows, t.row)
		}
		t.row = nil
	case "tbl":
		if t == nil {
			return
		}
		r.stack = r.stack[:len(r.stack)-1]
		if parent := r.top(); parent != nil && parent.inCell {
			// A table nested in a cell: keep its text in the cell.
			for _, row := range t.rows {
				for _, c := range row {
					if c.Text != "" {
						parent.cell.WriteString(c.Text)
						parent.cell.WriteByte(' ')
					}
				}
				parent.cell.WriteByte('\n')
			}
			return
		}
		r.tables++
		width := 0
		for _, row := range t.rows {
			width = max(width, len(row))
		}
		for _, row := range t.rows {
			for len(row) < width {
				row = append(row, Cell{})
			}
			r.d.addRow(row, r.tables)
		}
	}
}
