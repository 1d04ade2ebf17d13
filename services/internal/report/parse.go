package report

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// headingBodies are the wordings accepted for each heading, after the
// numeral (folded, white space removed). The first alternative of each is
// the 2021 wording; others are the 2019 and 2008-era wordings and variants
// seen in published reports.
var headingBodies = [6]string{
	`(?:总体情况|概述|基本情况|总体工作情况)`,
	`(?:主动公开政府信息(?:的)?情况|主动公开(?:政府信息)?工作情况)`,
	`(?:收到和处理政府信息公开申请(?:的)?情况|依申请公开政府信息(?:的)?情况|依申请公开(?:工作)?情况)`,
	`(?:(?:因)?政府信息公开(?:工作)?(?:被申请|申请)?(?:的)?行政复议[、,和及与]?(?:提起)?行政诉讼(?:的)?情况|政府信息公开(?:方面的)?行政复议(?:和|、)行政诉讼情况)`,
	`(?:(?:政府信息公开工作)?存在(?:的)?(?:主要)?问题(?:及|和|与)(?:改进|整改)(?:情况|措施)?)`,
	`(?:其他需要报告的(?:事项|情况))`,
}

// headingRes match a heading line: numbered (the numeral and a separator,
// optionally with text following) or bare (the wording alone on its line).
var headingRes = func() (out [6]struct{ numbered, bare *regexp.Regexp }) {
	for i, body := range headingBodies {
		out[i].numbered = regexp.MustCompile(`^(?:第)?` + numerals[i] + `(?:部分)?[、.,:]` + body + `[:。.]?(.*)$`)
		out[i].bare = regexp.MustCompile(`^` + body + `[:。.]?$`)
	}
	return out
}()

// tocLeaderRe matches a table-of-contents entry ("一、总体情况……1").
var tocLeaderRe = regexp.MustCompile(`(?:\.{3,}|…{2,}|·{3,}|-{4,})\s*\d*$`)

var markupPrefixRe = regexp.MustCompile(`^[#*>\s]+`)

// headingLineText returns the folded, space-free text of line i usable for
// heading detection, or ok == false.
func headingLineText(d *Document, i int) (string, bool) {
	l := d.Lines[i]
	if l.Furniture {
		return "", false
	}
	text := l.Text
	if l.IsRow() {
		n := 0
		for _, c := range l.Cells {
			if !c.Merged && strings.TrimSpace(c.Text) != "" {
				n++
				text = c.Text
			}
		}
		if n != 1 {
			return "", false
		}
	}
	s := stripSpace(fold(text))
	s = markupPrefixRe.ReplaceAllString(s, "")
	s = strings.TrimRight(s, "*")
	return s, s != ""
}

// mayBeHeading is a cheap filter before the heading expressions: every
// heading wording contains one of these words.
func mayBeHeading(s string) bool {
	return strings.Contains(s, "情况") || strings.Contains(s, "概述") || strings.Contains(s, "事项") || strings.Contains(s, "措施")
}

type headingCand struct {
	line, span int
	text, rest string
	numbered   bool
}

// findHeadingCandidates returns, for each heading, the lines where it
// may start. A heading may be split over up to three short lines.
func findHeadingCandidates(d *Document) [6][]headingCand {
	var out [6][]headingCand
	texts := make([]string, len(d.Lines))
	oks := make([]bool, len(d.Lines))
	for i := range d.Lines {
		texts[i], oks[i] = headingLineText(d, i)
	}
	for i := 0; i < len(d.Lines); i++ {
		first, ok := texts[i], oks[i]
		if !ok || utf8.RuneCountInString(first) > 80 || tocLeaderRe.MatchString(first) {
			continue
		}
	spans:
		for span := 1; span <= 3 && i+span <= len(d.Lines); span++ {
			var b strings.Builder
			for k := 0; k < span; k++ {
				s, ok := texts[i+k], oks[i+k]
				if !ok || (span > 1 && utf8.RuneCountInString(s) > 30) {
					break spans
				}
				b.WriteString(s)
			}
			joined := b.String()
			if !mayBeHeading(joined) {
				continue
			}
			first, _ := utf8.DecodeRuneInString(joined)
			numbered := strings.ContainsRune("一二三四五六第", first)
			bare := utf8.RuneCountInString(joined) <= 40
			for h := range headingRes {
				if !numbered && !bare {
					break
				}
				if !numbered {
					if headingRes[h].bare.MatchString(joined) {
						out[h] = append(out[h], headingCand{line: i, span: span, text: joined})
						break spans
					}
					continue
				}
				if m := headingRes[h].numbered.FindStringSubmatch(joined); m != nil {
					if span > 1 && m[1] != "" {
						continue
					}
					out[h] = append(out[h], headingCand{line: i, span: span, text: strings.TrimSuffix(joined, m[1]), rest: m[1], numbered: true})
					break spans
				}
				if headingRes[h].bare.MatchString(joined) {
					out[h] = append(out[h], headingCand{line: i, span: span, text: joined})
					break spans
				}
			}
		}
	}
	return out
}

// findHeadings picks one candidate per heading: the first after the
// previous heading, or the first anywhere (then out of order). When the
// six headings found are bunched together at the start of a long
// document, they are a table of contents and the search starts again
// after them.
func findHeadings(d *Document) [6]Heading {
	cands := findHeadingCandidates(d)
	pick := func(after int) ([6]Heading, int) {
		var hs [6]Heading
		prev := after
		n := 0
		for h := range hs {
			hs[h].Number = numerals[h]
			var chosen *headingCand
			for k := range cands[h] {
				if cands[h][k].line > prev {
					chosen = &cands[h][k]
					break
				}
			}
			if chosen == nil {
				for k := range cands[h] {
					if cands[h][k].line > after {
						chosen = &cands[h][k]
						hs[h].OutOfOrder = true
						break
					}
				}
			}
			if chosen == nil {
				continue
			}
			n++
			hs[h].Found = true
			hs[h].Text, hs[h].Line, hs[h].Span = chosen.text, chosen.line+1, chosen.span
			hs[h].Numbered, hs[h].rest = chosen.numbered, chosen.rest
			if !hs[h].OutOfOrder {
				prev = chosen.line
			}
		}
		return hs, n
	}
	hs, n := pick(-1)
	if n >= 4 && len(d.Lines) > 100 {
		lo, hi := len(d.Lines), 0
		for _, h := range hs {
			if h.Found {
				lo, hi = min(lo, h.Line), max(hi, h.Line)
			}
		}
		if hi-lo <= 15 {
			if hs2, n2 := pick(hi - 1 + 1); n2 >= n {
				hs = hs2
			}
		}
	}
	// Section bodies run to the next heading found, in document order.
	for h := range hs {
		if !hs[h].Found {
			continue
		}
		from := hs[h].Line - 1 + hs[h].Span
		to := len(d.Lines)
		for k := range hs {
			if hs[k].Found && hs[k].Line-1 >= from && hs[k].Line-1 < to {
				to = hs[k].Line - 1
			}
		}
		hs[h].bodyFrom, hs[h].bodyTo = from, to
		hs[h].Empty = strings.TrimSpace(hs[h].rest) == "" && !hasContent(d, from, to)
	}
	return hs
}

func hasContent(d *Document, from, to int) bool {
	for i := from; i < to; i++ {
		if !d.Lines[i].Furniture && strings.TrimSpace(d.Lines[i].Text) != "" {
			return true
		}
	}
	return false
}

// titleRes match a report title: organ then year, or year then organ.
var (
	titleKind        = `(?:政府信息公开(?:工作)?年度报告|政府信息公开(?:工作)?年报|政务公开(?:工作)?年度报告|政府信息公开工作报告)`
	titleOrganYearRe = regexp.MustCompile(`^(.{2,40}?)((?:19|20)\d{2})年(?:度)?(?:的)?` + titleKind)
	titleYearOrganRe = regexp.MustCompile(`^((?:19|20)\d{2})年(?:度)?(.{2,40}?)` + titleKind)
)

// findTitle looks for the report title in the first lines (before heading
// 一), joining up to three short lines, then in the container's title.
func findTitle(d *Document, limit int) (title, organ string, year, line int) {
	seen := 0
	for i := 0; i < len(d.Lines) && i < limit && seen < 25; i++ {
		first, ok := headingLineText(d, i)
		if !ok {
			continue
		}
		seen++
		var b strings.Builder
		for span := 1; span <= 6 && i+span <= len(d.Lines); span++ {
			s, ok := headingLineText(d, i+span-1)
			if !ok || utf8.RuneCountInString(s) > 60 {
				break
			}
			b.WriteString(s)
			if t, o, y := matchTitle(b.String()); y > 0 {
				return t, o, y, i + 1
			}
		}
		_ = first
	}
	if d.Title != "" {
		for _, part := range strings.FieldsFunc(d.Title, func(r rune) bool { return r == '_' || r == '|' || r == '－' }) {
			if t, o, y := matchTitle(stripSpace(fold(part))); y > 0 {
				return t, o, y, 0
			}
		}
	}
	return "", "", 0, 0
}

func matchTitle(s string) (title, organ string, year int) {
	if m := titleOrganYearRe.FindStringSubmatch(s); m != nil {
		y, _ := strconv.Atoi(m[2])
		return m[0], cleanOrgan(m[1]), y
	}
	if m := titleYearOrganRe.FindStringSubmatch(s); m != nil {
		y, _ := strconv.Atoi(m[1])
		return m[0], cleanOrgan(m[2]), y
	}
	return "", "", 0
}

func cleanOrgan(s string) string {
	s = strings.TrimPrefix(s, "关于")
	s = strings.TrimSuffix(s, "的")
	return strings.TrimFunc(s, func(r rune) bool { return unicode.IsPunct(r) || unicode.IsSpace(r) })
}

// periodRe matches a full-year 统计期限 ("自2024年1月1日起至2024年12月31日止",
// "2025年1月1日至12月31日", "2024.1.1-2024.12.31").
var periodRe = regexp.MustCompile(`((?:19|20)\d{2})(?:年0?1月0?1日|[./-]0?1[./-]0?1)(?:起)?(?:至|到|—|-|~|–)(?:((?:19|20)\d{2})(?:年|[./-]))?(?:12月31日|12[./-]31)`)

func findPeriod(d *Document) Period {
	// Table rows are skipped: only running text states the period.
	var text []Line
	for _, l := range d.Lines {
		if l.IsRow() {
			l = Line{Furniture: true}
		}
		text = append(text, l)
	}
	j := joinLines(&Document{Lines: text}, 0, len(text))
	// The expression runs only around each "12月31" (or "12.31").
	var m []int
	for off := 0; off < len(j.text) && m == nil; {
		k := strings.Index(j.text[off:], "12月31")
		if k2 := strings.Index(j.text[off:], "12.31"); k < 0 || (k2 >= 0 && k2 < k) {
			k = k2
		}
		if k2 := strings.Index(j.text[off:], "12-31"); k < 0 || (k2 >= 0 && k2 < k) {
			k = k2
		}
		if k < 0 {
			break
		}
		at := off + k
		lo := max(0, at-60)
		for lo > 0 && !utf8.RuneStart(j.text[lo]) {
			lo--
		}
		hi := min(len(j.text), at+12)
		for hi < len(j.text) && !utf8.RuneStart(j.text[hi]) {
			hi++
		}
		if mm := periodRe.FindStringSubmatchIndex(j.text[lo:hi]); mm != nil {
			for i := range mm {
				if mm[i] >= 0 {
					mm[i] += lo
				}
			}
			m = mm
		}
		off = at + 1
	}
	if m == nil {
		return Period{}
	}
	from, _ := strconv.Atoi(j.text[m[2]:m[3]])
	to := from
	if m[4] >= 0 {
		to, _ = strconv.Atoi(j.text[m[4]:m[5]])
	}
	return Period{Found: true, From: from, To: to, Text: j.text[m[0]:m[1]], Line: j.lineAt(m[0])}
}

// hanCount counts CJK ideographs in the document.
func hanCount(d *Document) int {
	n := 0
	for _, l := range d.Lines {
		for _, r := range l.Text {
			if unicode.Is(unicode.Han, r) {
				n++
			}
		}
	}
	return n
}

// region returns the lines [from, to) (0-based) of section h: from its
// heading to the next heading found, or, when the heading is missing, from
// the previous heading found to the next one.
func region(hs [6]Heading, h, n int) (int, int) {
	from, to := 0, n
	if hs[h].Found {
		from = hs[h].Line - 1
	} else {
		for k := h - 1; k >= 0; k-- {
			if hs[k].Found {
				from = hs[k].Line - 1
				break
			}
		}
	}
	for k := range hs {
		if k != h && hs[k].Found && hs[k].Line-1 > from && hs[k].Line-1 < to && (k > h || !hs[h].Found) {
			to = hs[k].Line - 1
		}
	}
	return from, to
}

// Parse finds the title, headings, tables, stated period and narrative
// figures of a document. It fails only on a nil document; problems with the
// content are recorded in the Report (IsReport, NoText, Notes, row notes).
func Parse(doc *Document) (*Report, error) {
	if doc == nil {
		return nil, errors.New("parse report: nil document")
	}
	r := &Report{Doc: doc}
	if doc.NoTextLayer || hanCount(doc) < 20 {
		r.NoText = true
		return r, nil
	}
	// Fold once; everything below reads the folded copy.
	doc = foldDocument(doc)
	r.work = doc
	r.Headings = findHeadings(doc)
	limit := len(doc.Lines)
	if r.Headings[0].Found {
		limit = r.Headings[0].Line
	}
	r.Title, r.Organ, r.Year, r.TitleLine = findTitle(doc, limit)
	r.Period = findPeriod(doc)
	if r.Year == 0 && r.Period.Found {
		r.Year = r.Period.To
	}

	n := len(doc.Lines)
	from3, to3 := region(r.Headings, 2, n)
	if !r.Headings[2].Found {
		// Find table 3 by its first row anywhere.
		st := newStream(doc, 0, n)
		if p := st.find(T3Rows[0].keys, 0, len(st.label)); p >= 0 {
			from3 = st.lineAt(p) - 1
			if from3 > to3 {
				to3 = n
			}
		}
	}
	r.Table3 = parseTable3(doc, from3, to3)

	from4, to4 := region(r.Headings, 3, n)
	if !r.Headings[3].Found && r.Table3.Rows[24].Found {
		from4 = r.Table3.Rows[24].Line
		_, to4 = region(r.Headings, 4, n)
		if r.Headings[4].Found {
			to4 = r.Headings[4].Line - 1
		}
	}
	r.Table4 = parseTable4(doc, from4, to4)

	from2, to2 := region(r.Headings, 1, n)
	if !r.Headings[2].Found && r.Table3.Found && r.Table3.Rows[0].Line > 0 {
		to2 = min(to2, r.Table3.Rows[0].Line-1)
	}
	r.Format, r.FormatReason = detectFormat(doc, r, from2, to2)
	r.Table2 = parseTable2(doc, from2, to2, r.Format)

	headings := 0
	for _, h := range r.Headings {
		if h.Found {
			headings++
		}
	}
	r.IsReport = r.Title != "" || headings >= 3 || r.Table3.Found
	if !r.IsReport {
		r.NotReportReason = fmt.Sprintf("no annual-report title, %d of 6 section headings, no table 3", headings)
		return r, nil
	}
	if r.Headings[0].Found {
		r.Narrative = findStatements(doc, r.Headings[0].Line-1, r.Headings[0].bodyTo)
	}
	for i, row := range r.Table3.Rows {
		if row.Note != "" && row.Note != "row not found" {
			r.Notes = append(r.Notes, fmt.Sprintf("table 3 row %d (%s): %s", i+1, T3Rows[i].Label, row.Note))
		}
	}
	if r.Table4.Note != "" {
		r.Notes = append(r.Notes, "table 4: "+r.Table4.Note)
	}
	for i, row := range r.Table2.Rows {
		if row.Note != "" {
			r.Notes = append(r.Notes, fmt.Sprintf("table 2 %s: %s", T2Rows[i].Key, row.Note))
		}
	}
	return r, nil
}

// detectFormat decides the format generation from table 2's column
// headings, then the year, then the shape of table 3.
func detectFormat(d *Document, r *Report, from, to int) (Format, string) {
	var b strings.Builder
	for i := max(from, 0); i < min(to, len(d.Lines)); i++ {
		b.WriteString(stripSpace(fold(d.Lines[i].Text)))
	}
	t2 := b.String()
	for _, k := range t2Header2021 {
		if strings.Contains(t2, k) {
			return Format2021, "table 2 column " + k
		}
	}
	for _, k := range t2Header2019 {
		if strings.Contains(t2, k) {
			return Format2019, "table 2 column " + k
		}
	}
	switch {
	case r.Year >= 2021:
		return Format2021, fmt.Sprintf("report year %d", r.Year)
	case r.Year == 2019 || r.Year == 2020:
		return Format2019, fmt.Sprintf("report year %d", r.Year)
	case r.Year > 0 && !r.Table3.Found:
		return FormatPre2019, fmt.Sprintf("report year %d", r.Year)
	case r.Table3.Found && (r.Table3.Rows[20].Found || r.Table3.Rows[21].Found):
		return Format2021, "table 3 has the rows under （六）其他处理"
	case r.Table3.Found:
		return Format2019, "table 3 has a single （六）其他处理 row"
	}
	return FormatPre2019, "no table of the unified formats and no year"
}
