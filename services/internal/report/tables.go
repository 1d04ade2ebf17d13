package report

import (
	"fmt"
	"sort"
	"strings"
)

// locate finds the label offset of each key set in st.label[from:to],
// keeping only positions that increase in spec order (the longest such
// chain), then searches again for the missing ones between their found
// neighbours, with fallback keys where given. -1 marks a spec not found.
func locate(st *stream, specs [][]string, fallback map[int][]string, from, to int) []int {
	n := len(specs)
	pos := make([]int, n)
	for i, keys := range specs {
		pos[i] = st.find(keys, from, to)
	}
	keepLIS(pos)
	for pass := 0; pass < 2; pass++ {
		for i := range pos {
			if pos[i] >= 0 {
				continue
			}
			lo, hi := from, to
			for j := i - 1; j >= 0; j-- {
				if pos[j] >= 0 {
					lo = pos[j] + 1
					break
				}
			}
			for j := i + 1; j < n; j++ {
				if pos[j] >= 0 {
					hi = pos[j]
					break
				}
			}
			keys := specs[i]
			if pass == 1 {
				keys = fallback[i]
			}
			if len(keys) > 0 {
				pos[i] = st.find(keys, lo, hi)
			}
		}
	}
	return pos
}

// keepLIS sets to -1 every position that is not part of the longest
// strictly increasing subsequence of the found positions.
func keepLIS(pos []int) {
	n := len(pos)
	best := make([]int, n)
	prev := make([]int, n)
	end := -1
	for i := range pos {
		prev[i] = -1
		if pos[i] < 0 {
			continue
		}
		best[i] = 1
		for j := 0; j < i; j++ {
			if pos[j] >= 0 && pos[j] < pos[i] && best[j]+1 > best[i] {
				best[i] = best[j] + 1
				prev[i] = j
			}
		}
		if end < 0 || best[i] > best[end] {
			end = i
		}
	}
	keep := make([]bool, n)
	for i := end; i >= 0; i = prev[i] {
		keep[i] = true
	}
	for i := range pos {
		if !keep[i] {
			pos[i] = -1
		}
	}
}

func numbers(r run) []Number {
	out := make([]Number, len(r))
	for i, t := range r {
		if t.kind == tokNum {
			out[i] = Number{Text: t.text, Line: t.line}
		} else {
			out[i] = Number{Line: t.line}
		}
	}
	return out
}

func blanks(width, line int) []Number {
	out := make([]Number, width)
	for i := range out {
		out[i].Line = line
	}
	return out
}

// t3Slot is one boundary of table 3: a found row (index 0–24) or the
// single （六） row (index 25).
type t3Slot struct {
	row int
	pos int
}

// parseTable3 reads table 3 from the lines [from, to).
func parseTable3(d *Document, from, to int) Table3 {
	var t Table3
	st := newStream(d, from, to)
	start := st.find(T3Rows[0].keys, 0, len(st.label))
	if start < 0 {
		start = 0
	}
	specs := make([][]string, 25)
	for i, r := range T3Rows {
		specs[i] = r.keys
	}
	pos := locate(st, specs, nil, start, len(st.label))
	found := 0
	for _, p := range pos {
		if p >= 0 {
			found++
		}
	}
	if pos[0] < 0 && found < 5 {
		return t
	}
	t.Found = true

	neighbours := func(i int) (int, int) {
		lo, hi := start, len(st.label)
		for j := i - 1; j >= 0; j-- {
			if pos[j] >= 0 {
				lo = pos[j] + 1
				break
			}
		}
		for j := i + 1; j < 25; j++ {
			if pos[j] >= 0 {
				hi = pos[j]
				break
			}
		}
		return lo, hi
	}
	// The single （六） row: between row 20 (or the last row found before
	// it) and the next row found after it.
	lo, hi := neighbours(20)
	if pos[20] >= 0 {
		lo, _ = neighbours(20)
		hi = pos[20]
	}
	otherPos := st.find(t3OtherKeys, lo, hi)
	otherEnd := -1
	if otherPos >= 0 {
		for _, k := range t3OtherKeys {
			if strings.HasPrefix(st.label[otherPos:], k) {
				otherEnd = otherPos + len(k)
				break
			}
		}
	}
	// Generic words ("其他", "总计") only between the neighbours of a row
	// still missing, and never inside the （六）其他处理 label.
	for _, i := range []int{22, 23} {
		if pos[i] >= 0 {
			continue
		}
		lo, hi := neighbours(i)
		if otherEnd > lo && otherPos < hi {
			lo = otherEnd
		}
		pos[i] = st.find(t3FallbackKeys[i], lo, hi)
	}
	subRows := pos[20] >= 0 || pos[21] >= 0 || pos[22] >= 0

	// Boundaries in document order: rows 1–20, （六）, rows 21–25.
	var slots []t3Slot
	for i := 0; i < 25; i++ {
		if i == 20 && otherPos >= 0 {
			slots = append(slots, t3Slot{row: 25, pos: otherPos})
		}
		if pos[i] >= 0 {
			slots = append(slots, t3Slot{row: i, pos: pos[i]})
		}
	}
	for si, s := range slots {
		a := st.tokAt(s.pos)
		b := len(st.toks)
		if si+1 < len(slots) {
			b = st.tokAt(slots[si+1].pos)
		}
		// Rows missing between this boundary and the next, which may be
		// placed by position.
		var missing []int
		if s.row < 25 {
			next := 25
			if si+1 < len(slots) {
				next = slots[si+1].row
				if next == 25 {
					next = 20
				}
			}
			for r := s.row + 1; r < next; r++ {
				if r >= 20 && r <= 22 && otherPos >= 0 && !subRows {
					continue
				}
				missing = append(missing, r)
			}
		}
		label := st.labelFrom(s.pos)
		line := st.lineAt(s.pos)
		rows := assignRuns(st.runs(a, b), 7, len(missing)+1, line)
		set := func(idx int, r Row) {
			if idx == 25 {
				t.Other = r
			} else {
				t.Rows[idx] = r
			}
		}
		first := rows[0]
		first.Found, first.Label, first.Line = true, trimLabel(label), line
		if s.row == 25 && len(st.runs(a, b)) == 0 {
			// The group label of the 2021 layout, not a row of its own.
			continue
		}
		set(s.row, first)
		for k, r := range missing {
			if k+1 < len(rows) && rows[k+1].Cells != nil {
				placed := rows[k+1]
				placed.Found = true
				placed.Line = placed.Cells[0].Line
				placed.Note = "label not recognised; placed by position"
				set(r, placed)
			}
		}
	}
	for i := range t.Rows {
		if t.Rows[i].Cells == nil {
			t.Rows[i].Cells = blanks(7, 0)
			if !(i >= 20 && i <= 22 && t.Other.Found && !subRows) {
				t.Rows[i].Note = "row not found"
			}
		}
	}
	if t.Other.Found && t.Other.Cells == nil {
		t.Other.Cells = blanks(7, t.Other.Line)
	}
	return t
}

// labelFrom returns the label text from offset off to the next value
// token.
func (st *stream) labelFrom(off int) string {
	k := st.tokAt(off)
	if k >= len(st.toks) {
		return ""
	}
	var b strings.Builder
	first := sort.Search(len(st.labelStart), func(i int) bool { return st.labelStart[i] > off }) - 1
	if first >= 0 {
		b.WriteString(st.label[off:min(len(st.label), st.labelStart[first]+len(st.toks[k].text))])
	}
	for i := k + 1; i < len(st.toks) && st.toks[i].kind == tokLabel; i++ {
		b.WriteString(st.toks[i].text)
	}
	return b.String()
}

// trimLabel shortens a label taken from the label stream to its first 40
// characters.
func trimLabel(s string) string {
	r := []rune(s)
	if len(r) > 40 {
		r = r[:40]
	}
	return string(r)
}

// assignRuns distributes the value runs found after a row label over want
// rows of width values each: the row itself and the rows that follow it
// without a recognisable label. The first element is always set (blank
// cells with a note when the values cannot be placed); later elements have
// nil Cells when nothing could be placed.
func assignRuns(runs []run, width, want, line int) []Row {
	out := make([]Row, want)
	if len(runs) == 0 {
		out[0] = Row{Cells: blanks(width, line), Note: "no values printed"}
		return out
	}
	all := true
	total := 0
	for _, r := range runs {
		total += len(r)
		if len(r) != width {
			all = false
		}
	}
	switch {
	case want > 1 && len(runs) == want && all:
		for i, r := range runs {
			out[i] = Row{Cells: numbers(r)}
		}
		return out
	case want > 1 && !runs[0].grid() && total == width*want:
		var flat run
		for _, r := range runs {
			flat = append(flat, r...)
		}
		for i := range want {
			out[i] = Row{Cells: numbers(flat[i*width : (i+1)*width])}
		}
		return out
	}
	for _, r := range runs {
		if len(r) == width {
			out[0] = Row{Cells: numbers(r)}
			if len(runs) > 1 {
				out[0].Note = fmt.Sprintf("%d runs of values after the label; used the first with %d values", len(runs), width)
			}
			return out
		}
	}
	r := runs[0]
	if r.grid() && len(r) > width {
		out[0] = Row{Cells: numbers(r[len(r)-width:]), Note: fmt.Sprintf("%d cells; used the last %d", len(r), width)}
		return out
	}
	out[0] = Row{Cells: blanks(width, r[0].line),
		Note: fmt.Sprintf("%d values where %d were expected; their columns are unknown", len(r), width)}
	return out
}

// parseTable4 reads table 4 from the lines [from, to): the run of 15
// values (or the longest run) after the table's headings.
func parseTable4(d *Document, from, to int) Table4 {
	var t Table4
	st := newStream(d, from, to)
	start := st.find([]string{"行政复议"}, 0, len(st.label))
	if start < 0 {
		return t
	}
	runs := st.runs(st.tokAt(start), len(st.toks))
	var best run
	for _, r := range runs {
		if len(r) == 15 {
			best = r
			break
		}
		if len(r) > len(best) {
			best = r
		}
	}
	if best == nil {
		return t
	}
	t.Found = true
	t.Line = best[0].line
	switch {
	case len(best) == 15:
		copy(t.Cells[:], numbers(best))
	case len(best) > 15:
		copy(t.Cells[:], numbers(best[:15]))
		t.Note = fmt.Sprintf("%d values after the headings; used the first 15", len(best))
		if best.grid() {
			copy(t.Cells[:], numbers(best[len(best)-15:]))
			t.Note = fmt.Sprintf("%d cells; used the last 15", len(best))
		}
	default:
		copy(t.Cells[:], blanks(15, t.Line))
		t.Note = fmt.Sprintf("%d values where 15 were expected; their columns are unknown", len(best))
	}
	return t
}

// parseTable2 reads table 2 from the lines [from, to).
func parseTable2(d *Document, from, to int, f Format) Table2 {
	var t Table2
	st := newStream(d, from, to)
	start := st.find([]string{"第二十条"}, 0, len(st.label))
	if start < 0 {
		start = st.find([]string{"信息内容"}, 0, len(st.label))
	}
	if start < 0 {
		start = 0
	}
	specs := make([][]string, len(T2Rows))
	for i, r := range T2Rows {
		if (f == Format2019 && r.Columns2019 == nil) || (f != Format2019 && r.Columns2021 == nil) {
			continue
		}
		specs[i] = r.keys
	}
	pos := locate(st, specs, nil, start, len(st.label))
	var order []int
	for i, p := range pos {
		if p >= 0 {
			order = append(order, i)
		}
	}
	for k, i := range order {
		cols := T2Rows[i].Columns2021
		if f == Format2019 {
			cols = T2Rows[i].Columns2019
		}
		a := st.tokAt(pos[i])
		b := len(st.toks)
		if k+1 < len(order) {
			b = st.tokAt(pos[order[k+1]])
		}
		line := st.lineAt(pos[i])
		row := Row{Found: true, Label: T2Rows[i].Key, Line: line}
		runs := st.runs(a, b)
		switch {
		case len(runs) == 0:
			row.Cells = blanks(len(cols), line)
			row.Note = "no values printed"
		case len(runs[0]) == len(cols):
			row.Cells = numbers(runs[0])
		case runs[0].grid() && len(runs[0]) > len(cols):
			row.Cells = numbers(runs[0][:len(cols)])
			row.Note = fmt.Sprintf("%d cells; used the first %d", len(runs[0]), len(cols))
		default:
			row.Cells = blanks(len(cols), line)
			row.Note = fmt.Sprintf("%d values where %d were expected; their columns are unknown", len(runs[0]), len(cols))
		}
		t.Rows[i] = row
		t.Found = true
	}
	return t
}
