package report

import (
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"
)

// numberRe matches a number as printed in a table cell: an optional sign,
// digits with optional thousands separators and an optional decimal part.
var numberRe = regexp.MustCompile(`^[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?$`)

// unitSuffixRe matches a unit printed after a number in a cell.
var unitSuffixRe = regexp.MustCompile(`(?:件|个|条|项|次|万元|元)$`)

// isPlaceholder reports whether a cell or field says "nothing printed".
func isPlaceholder(s string) bool {
	switch s {
	case "-", "--", "—", "——", "–", "/", "\\", "─", "无", "空":
		return true
	}
	return false
}

type tokKind uint8

const (
	tokLabel tokKind = iota
	tokNum
	tokBlank
)

// token is one unit of the stream the table parser works on: a piece of
// label text, a number, or an explicit blank (an empty grid cell or a
// placeholder such as "—").
type token struct {
	kind tokKind
	text string
	line int  // 1-based line in the document
	brk  bool // last token of a table row: value runs do not continue past it
	grid bool // comes from a table row, so blank positions are exact
}

// stream is the token sequence of a range of lines, plus the concatenation
// of its label tokens (label), in which row labels are searched. Deleting
// the white space between label pieces joins labels that wrap inside their
// cell; numbers never join because they are separate tokens.
type stream struct {
	toks       []token
	label      string
	labelStart []int // offset in label of each label token, increasing
	labelTok   []int // index in toks of each label token
}

// newStream tokenises lines [from, to) of d (0-based), skipping furniture.
func newStream(d *Document, from, to int) *stream {
	st := &stream{}
	addLabel := func(text string, line int) {
		if text != "" {
			st.toks = append(st.toks, token{kind: tokLabel, text: text, line: line})
		}
	}
	from = max(from, 0)
	to = min(to, len(d.Lines))
	for i := from; i < to; i++ {
		l := d.Lines[i]
		if l.Furniture {
			continue
		}
		if l.IsRow() {
			st.addRow(l, i+1, addLabel)
			continue
		}
		for _, f := range strings.Fields(fold(l.Text)) {
			switch {
			case numberRe.MatchString(f):
				st.toks = append(st.toks, token{kind: tokNum, text: f, line: i + 1})
			case isPlaceholder(f) && f != "无" && f != "空":
				st.toks = append(st.toks, token{kind: tokBlank, text: f, line: i + 1})
			default:
				label, num := splitTrailingNumber(f)
				addLabel(label, i+1)
				if num != "" {
					st.toks = append(st.toks, token{kind: tokNum, text: num, line: i + 1})
				}
			}
		}
	}
	st.mergeListNumbers()
	st.index()
	return st
}

// mergeListNumbers turns a small number followed by a label starting with
// "、" or "." back into list numbering ("1" + "、申请人…"), which PDF text
// extraction splits into separate fragments. Grid tokens are exact and are
// left alone.
func (st *stream) mergeListNumbers() {
	out := st.toks[:0]
	for i := 0; i < len(st.toks); i++ {
		t := st.toks[i]
		if t.kind == tokNum && !t.grid && len(t.text) <= 2 && i+1 < len(st.toks) {
			next := st.toks[i+1]
			if next.kind == tokLabel && !next.grid && (strings.HasPrefix(next.text, "、") || strings.HasPrefix(next.text, ".")) {
				next.text = t.text + next.text
				out = append(out, next)
				i++
				continue
			}
		}
		out = append(out, t)
	}
	st.toks = out
}

// index builds the label text and its offsets from the tokens.
func (st *stream) index() {
	var lb strings.Builder
	st.labelStart, st.labelTok = st.labelStart[:0], st.labelTok[:0]
	for i, t := range st.toks {
		if t.kind != tokLabel {
			continue
		}
		st.labelStart = append(st.labelStart, lb.Len())
		st.labelTok = append(st.labelTok, i)
		lb.WriteString(t.text)
	}
	st.label = lb.String()
}

// splitTrailingNumber splits "数量3001" into "数量" and "3001" when the
// digits follow a CJK character; other fields are returned whole.
func splitTrailingNumber(f string) (string, string) {
	end := len(f)
	i := end
	for i > 0 && f[i-1] >= '0' && f[i-1] <= '9' {
		i--
	}
	if i == end || i == 0 {
		return f, ""
	}
	r, _ := utf8.DecodeLastRuneInString(f[:i])
	if r < 0x2e80 {
		return f, ""
	}
	return f[:i], f[i:]
}

// cellValue classifies a grid cell: its number tokens, whether it is an
// explicit blank, or (ok == false) that it is label text.
func cellValue(text string) (nums []string, blank, ok bool) {
	t := strings.TrimSpace(fold(text))
	if t == "" || isPlaceholder(stripSpace(t)) {
		return nil, true, true
	}
	for _, f := range strings.Fields(t) {
		f = unitSuffixRe.ReplaceAllString(f, "")
		if !numberRe.MatchString(f) {
			return nil, false, false
		}
		nums = append(nums, f)
	}
	return nums, false, true
}

// addRow tokenises a table row: the label is the text of the label cells;
// the values are the cells after the last label cell, one token per
// position (numbers, or blanks for empty cells). Cells covered by a span
// are skipped. A row with no text at all yields nothing.
func (st *stream) addRow(l Line, line int, addLabel func(string, int)) {
	lastLabel := -1
	empty := true
	for j, c := range l.Cells {
		if c.Merged {
			continue
		}
		if strings.TrimSpace(c.Text) != "" {
			empty = false
		}
		if _, _, ok := cellValue(c.Text); !ok {
			lastLabel = j
		}
	}
	if empty {
		return
	}
	var label strings.Builder
	for j := 0; j <= lastLabel; j++ {
		if c := l.Cells[j]; !c.Merged {
			if _, _, ok := cellValue(c.Text); !ok {
				label.WriteString(stripSpace(fold(c.Text)))
			}
		}
	}
	addLabel(label.String(), line)
	for j := lastLabel + 1; j < len(l.Cells); j++ {
		c := l.Cells[j]
		if c.Merged {
			continue
		}
		nums, blank, _ := cellValue(c.Text)
		if blank {
			st.toks = append(st.toks, token{kind: tokBlank, text: strings.TrimSpace(c.Text), line: line, grid: true})
			continue
		}
		for _, v := range nums {
			st.toks = append(st.toks, token{kind: tokNum, text: v, line: line, grid: true})
		}
	}
	if len(st.toks) > 0 {
		st.toks[len(st.toks)-1].brk = true
	}
}

// find returns the earliest offset in label[from:to] where one of keys
// starts, or -1.
func (st *stream) find(keys []string, from, to int) int {
	from = max(from, 0)
	to = min(to, len(st.label))
	if from >= to {
		return -1
	}
	best := -1
	for _, k := range keys {
		if i := strings.Index(st.label[from:to], k); i >= 0 && (best < 0 || from+i < best) {
			if from+i+len(k) <= to {
				best = from + i
			}
		}
	}
	return best
}

// tokAt returns the index in toks of the label token containing offset
// off, or len(toks) when off is at or past the end of the label text.
func (st *stream) tokAt(off int) int {
	if off >= len(st.label) {
		return len(st.toks)
	}
	k := sort.Search(len(st.labelStart), func(i int) bool { return st.labelStart[i] > off }) - 1
	if k < 0 {
		return 0
	}
	return st.labelTok[k]
}

// lineAt returns the line of the label token containing offset off.
func (st *stream) lineAt(off int) int {
	i := st.tokAt(off)
	if i < len(st.toks) {
		return st.toks[i].line
	}
	return 0
}

// run is a maximal sequence of value tokens (numbers and blanks).
type run []token

func (r run) grid() bool { return len(r) > 0 && r[0].grid }

// runs returns the value runs among toks[a:b]. A run ends at a label token
// and after the last token of a table row.
func (st *stream) runs(a, b int) []run {
	var out []run
	var cur run
	for i := max(a, 0); i < min(b, len(st.toks)); i++ {
		t := st.toks[i]
		if t.kind == tokLabel {
			if len(cur) > 0 {
				out = append(out, cur)
				cur = nil
			}
			continue
		}
		cur = append(cur, t)
		if t.brk {
			out = append(out, cur)
			cur = nil
		}
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}
