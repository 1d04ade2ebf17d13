package report

import (
	"strings"
)

// Kind is the source format of a document.
type Kind string

// The source formats Extract understands.
const (
	KindText Kind = "text"
	KindHTML Kind = "html"
	KindDOCX Kind = "docx"
	KindPDF  Kind = "pdf"
)

// Document is the text of one source document as a sequence of lines, some
// of which are table rows with their cells laid out on a true grid (merged
// cells expanded). Line numbers used in locations are 1-based indexes into
// Lines.
type Document struct {
	// Name is the name the document was extracted under (usually a file
	// name or URL).
	Name string
	// Kind is the detected source format.
	Kind Kind
	// Title is a title carried by the container (HTML <title> or the
	// ArticleTitle meta tag), or empty.
	Title string
	// Lines holds the text lines and table rows in document order.
	Lines []Line
	// Pages is the number of pages of a PDF, or 0.
	Pages int
	// Extractor names the PDF back ends used, such as "ledongthuc" or
	// "ledongthuc+pdftotext"; empty for other kinds.
	Extractor string
	// NoTextLayer is true for a PDF whose pages carry no text (a scan).
	NoTextLayer bool
	// Notes are remarks from extraction, such as pages that needed a
	// fallback back end or an input that was truncated.
	Notes []string
}

// Line is one line of text or one table row.
type Line struct {
	// Text is the line's text. For a table row it is the cells joined by
	// " | ".
	Text string
	// Cells holds the cells of a table row, one per grid column; nil for a
	// text line.
	Cells []Cell
	// Table is the 1-based number of the table a row belongs to, or 0.
	Table int
	// Page is the 1-based page of a PDF line, or 0.
	Page int
	// Furniture marks page furniture, such as a page number, that is not
	// part of the report's content.
	Furniture bool
}

// Cell is one grid cell of a table row.
type Cell struct {
	// Text is the cell text with runs of white space collapsed.
	Text string
	// Merged is true for a grid position covered by a cell that spans
	// several rows or columns and starts elsewhere; its Text is empty.
	Merged bool
}

// IsRow reports whether the line is a table row.
func (l Line) IsRow() bool { return l.Cells != nil }

// Text returns the document as plain text: one line per Line, table rows
// rendered as cells joined by " | ".
func (d *Document) Text() string {
	var b strings.Builder
	for i, l := range d.Lines {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(l.Text)
	}
	return b.String()
}

// addText appends the lines of s as text lines.
func (d *Document) addText(s string, page int) {
	for _, ln := range strings.Split(s, "\n") {
		d.Lines = append(d.Lines, Line{Text: strings.TrimRight(ln, " \t\r"), Page: page})
	}
}

// addRow appends a table row.
func (d *Document) addRow(cells []Cell, table int) {
	texts := make([]string, len(cells))
	for i, c := range cells {
		texts[i] = c.Text
	}
	if cells == nil {
		cells = []Cell{}
	}
	d.Lines = append(d.Lines, Line{Text: strings.Join(texts, " | "), Cells: cells, Table: table})
}
