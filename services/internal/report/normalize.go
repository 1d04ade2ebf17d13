package report

import (
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// fold maps text to the form used for matching: NFKC (full-width letters,
// digits and brackets become ASCII, the ideographic space a space, Kangxi
// radicals such as ⼀ the ordinary ideographs) with white space kept.
func fold(s string) string {
	if isASCIIorHanOnly(s) {
		return s
	}
	return norm.NFKC.String(s)
}

// isASCIIorHanOnly is a fast path: NFKC leaves ASCII, unified ideographs
// and the CJK and general punctuation that folded report text keeps alone.
func isASCIIorHanOnly(s string) bool {
	for _, r := range s {
		switch {
		case r < 0x80:
		case r >= 0x4e00 && r <= 0x9fff:
		case r >= 0x3001 && r <= 0x3003, r >= 0x3008 && r <= 0x3011, r >= 0x3014 && r <= 0x301f:
			// 、。〃〈〉《》「」『』【】〔〕 and friends
		case r >= 0x2010 && r <= 0x2023, r == 0x00b7, r == 0x00d7:
			// dashes, quotation marks, daggers, ·, ×
		default:
			return false
		}
	}
	return true
}

// foldDocument returns a copy of d with every line and cell folded, so
// that the parser folds each string once.
func foldDocument(d *Document) *Document {
	c := *d
	c.Lines = make([]Line, len(d.Lines))
	for i, l := range d.Lines {
		l.Text = fold(l.Text)
		if l.Cells != nil {
			cells := make([]Cell, len(l.Cells))
			for j, cell := range l.Cells {
				cell.Text = fold(cell.Text)
				cells[j] = cell
			}
			l.Cells = cells
		}
		c.Lines[i] = l
	}
	return &c
}

// stripSpace removes all white space.
func stripSpace(s string) string {
	if !strings.ContainsFunc(s, unicode.IsSpace) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if !unicode.IsSpace(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// squeeze deletes white space except between two digits, where a single
// space is kept so that adjacent numbers never fuse: "3119 件" becomes
// "3119件" and "2024 年 1 月" becomes "2024年1月", while "3 0" stays "3 0".
func squeeze(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	var prev rune = -1 // last rune written
	pendingSpace := false
	for _, r := range s {
		if unicode.IsSpace(r) {
			pendingSpace = true
			continue
		}
		if pendingSpace && isDigit(prev) && isDigit(r) {
			b.WriteByte(' ')
		}
		pendingSpace = false
		b.WriteRune(r)
		prev = r
	}
	return b.String()
}

func isDigit(r rune) bool { return r >= '0' && r <= '9' }

// pageNumberRe matches a line that is only a page number in one of the
// decorated forms ("-3-", "- 3 -", "第3页", "3/6", "第 3 页 共 6 页").
var pageNumberRe = regexp.MustCompile(`^(?:[-—–_~]+\s*\d{1,4}\s*[-—–_~]+|第\s*\d{1,4}\s*页(?:\s*[,，]?\s*共\s*\d{1,4}\s*页)?|\d{1,4}\s*/\s*\d{1,4})$`)

func isPageNumber(s string) bool {
	s = strings.TrimSpace(fold(s))
	return s != "" && pageNumberRe.MatchString(s)
}

// markFurniture marks page numbers: decorated forms ("-3-", "第3页")
// anywhere, also when a PDF page splits them over up to three lines at its
// start or end, and, on a PDF page without a decorated number, a bare
// number alone on the first or last line when it is a plausible page
// number and not next to other numbers.
func markFurniture(d *Document) {
	for i := range d.Lines {
		l := &d.Lines[i]
		if !l.IsRow() && isPageNumber(l.Text) {
			l.Furniture = true
		}
	}
	if d.Kind != KindPDF {
		return
	}
	start := 0
	for start < len(d.Lines) {
		end := start
		for end < len(d.Lines) && d.Lines[end].Page == d.Lines[start].Page {
			end++
		}
		a := markPageEdge(d, start, end, true)
		b := markPageEdge(d, start, end, false)
		if !a && !b && !pageHasFurniture(d, start, end) {
			markBarePageNumber(d, start, end)
		}
		start = end
	}
}

func pageHasFurniture(d *Document, start, end int) bool {
	for i := start; i < end; i++ {
		if d.Lines[i].Furniture {
			return true
		}
	}
	return false
}

// edgeLines returns up to three non-empty lines at the start (head) or
// end of the page [start, end), in document order.
func edgeLines(d *Document, start, end int, head bool) []int {
	var idx []int
	for k := 0; k < end-start && len(idx) < 3; k++ {
		i := start + k
		if !head {
			i = end - 1 - k
		}
		l := d.Lines[i]
		if l.IsRow() {
			break
		}
		if strings.TrimSpace(l.Text) == "" {
			continue
		}
		if l.Furniture {
			break
		}
		idx = append(idx, i)
	}
	if !head {
		for a, b := 0, len(idx)-1; a < b; a, b = a+1, b-1 {
			idx[a], idx[b] = idx[b], idx[a]
		}
	}
	return idx
}

// markPageEdge marks a decorated page number split over up to three lines
// at the start (or end) of the page [start, end).
func markPageEdge(d *Document, start, end int, head bool) bool {
	idx := edgeLines(d, start, end, head)
	for n := len(idx); n >= 2; n-- {
		parts := idx[:n]
		if !head {
			parts = idx[len(idx)-n:]
		}
		var b strings.Builder
		for _, i := range parts {
			b.WriteString(strings.TrimSpace(d.Lines[i].Text))
		}
		if pageNumberRe.MatchString(fold(b.String())) {
			for _, i := range parts {
				d.Lines[i].Furniture = true
			}
			return true
		}
	}
	return false
}

// markBarePageNumber marks a lone number on the first or last line of a
// page when it is close to the page's position in the document and its
// neighbour is not a number.
func markBarePageNumber(d *Document, start, end int) {
	page := d.Lines[start].Page
	for _, head := range []bool{true, false} {
		idx := edgeLines(d, start, end, head)
		if len(idx) == 0 {
			continue
		}
		i := idx[0]
		if !head {
			i = idx[len(idx)-1]
		}
		t := strings.TrimSpace(fold(d.Lines[i].Text))
		n, err := strconv.Atoi(t)
		if err != nil || n < page-2 || n > page+1 || neighbourIsNumber(d, i, start, end) {
			continue
		}
		d.Lines[i].Furniture = true
	}
}

// neighbourIsNumber reports whether a non-empty line next to i inside the
// page is a number, which makes a bare number likely table data.
func neighbourIsNumber(d *Document, i, start, end int) bool {
	for _, step := range []int{1, -1} {
		for j := i + step; j >= start && j < end; j += step {
			t := strings.TrimSpace(d.Lines[j].Text)
			if t == "" {
				continue
			}
			if numberRe.MatchString(fold(t)) {
				return true
			}
			break
		}
	}
	return false
}

// joined is the text of a range of lines folded and squeezed (see
// squeeze) into one string, with a map back to line numbers. Lines are
// joined without a separator, except for a space between two digits.
type joined struct {
	text   string
	starts []int
	lines  []int
}

func joinLines(d *Document, from, to int) joined {
	var j joined
	var b strings.Builder
	for i := max(from, 0); i < min(to, len(d.Lines)); i++ {
		l := d.Lines[i]
		if l.Furniture {
			continue
		}
		s := squeeze(fold(l.Text))
		if s == "" {
			continue
		}
		if b.Len() > 0 {
			last, _ := utf8.DecodeLastRuneInString(b.String())
			first, _ := utf8.DecodeRuneInString(s)
			if isDigit(last) && isDigit(first) {
				b.WriteByte(' ')
			}
		}
		j.starts = append(j.starts, b.Len())
		j.lines = append(j.lines, i+1)
		b.WriteString(s)
	}
	j.text = b.String()
	return j
}

// lineAt returns the 1-based line of byte offset off.
func (j joined) lineAt(off int) int {
	k := sort.SearchInts(j.starts, off+1) - 1
	if k < 0 {
		return 0
	}
	return j.lines[k]
}
