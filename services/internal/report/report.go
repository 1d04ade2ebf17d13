package report

import (
	"strconv"
	"strings"
)

// Format is the generation of the annual report format a report follows.
type Format string

// The formats Parse recognises.
const (
	// Format2021 is the unified format of 国办公开办函〔2021〕30号, used
	// for the reports on 2021 and later years.
	Format2021 Format = "2021"
	// Format2019 is the trial format of 国办公开办函〔2019〕60号 (reports
	// on 2019 and 2020): the same headings and table 3 except a single
	// （六）其他处理 row, and different table 2 columns.
	Format2019 Format = "2019"
	// FormatPre2019 covers reports under the 2008 regulations, which had
	// no national template; only the structural rules apply.
	FormatPre2019 Format = "pre-2019"
)

// Number is one table cell as printed. A blank cell is not a zero.
type Number struct {
	// Text is the cell's text as printed (folded to ASCII digits), or ""
	// when nothing was printed or its position could not be determined.
	Text string
	// Line is the 1-based document line the value (or, for a blank, its
	// row) is on; 0 when unknown.
	Line int
}

// Blank reports whether no value was printed.
func (n Number) Blank() bool {
	t := strings.TrimSpace(n.Text)
	return t == "" || isPlaceholder(t)
}

// Int returns the cell as an integer. Thousands separators are accepted,
// and so is a decimal part of zeros ("12.00"); ok is false for blanks and
// for anything else.
func (n Number) Int() (v int64, ok bool) {
	if n.Blank() {
		return 0, false
	}
	t := strings.ReplaceAll(strings.TrimSpace(n.Text), ",", "")
	if i := strings.IndexByte(t, '.'); i >= 0 {
		if strings.Trim(t[i+1:], "0") != "" {
			return 0, false
		}
		t = t[:i]
	}
	v, err := strconv.ParseInt(strings.TrimPrefix(t, "+"), 10, 64)
	if err != nil {
		return 0, false
	}
	return v, true
}

// Decimal returns the cell as a decimal number; ok is false for blanks and
// non-numbers.
func (n Number) Decimal() (float64, bool) {
	if n.Blank() {
		return 0, false
	}
	t := strings.ReplaceAll(strings.TrimSpace(n.Text), ",", "")
	if !numberRe.MatchString(t) {
		return 0, false
	}
	v, err := strconv.ParseFloat(t, 64)
	return v, err == nil
}

// Row is one table row found in a report.
type Row struct {
	// Found is true when the row's label was found.
	Found bool
	// Label is the label as printed (folded, white space removed).
	Label string
	// Line is the 1-based line of the label.
	Line int
	// Cells holds the row's values, blank when not printed.
	Cells []Number
	// Note explains values that could not be placed, or a row placed by
	// position because its label was unreadable.
	Note string
}

// Table2 is table 2, 主动公开政府信息情况.
type Table2 struct {
	// Found is true when at least one row was found.
	Found bool
	// Rows are the rows in the order of T2Rows; rows the format lacks
	// stay not found.
	Rows [len(T2Rows)]Row
}

// Table3 is table 3, 收到和处理政府信息公开申请情况.
type Table3 struct {
	// Found is true when the table was found (its first row or at least
	// five rows).
	Found bool
	// Rows are the 25 numeric rows of the 2021 format, in order (index 0 is
	// row 1, 一、本年新收政府信息公开申请数量); each has 7 cells in the
	// order of T3Columns.
	Rows [25]Row
	// Other is a single （六）其他处理 row with values, as in the 2019
	// format (and in some later reports that kept it).
	Other Row
	// Notes are remarks from parsing.
	Notes []string
}

// Table4 is table 4, 政府信息公开行政复议、行政诉讼情况: 15 cells in one
// row, in the order of T4Cells.
type Table4 struct {
	// Found is true when a row of values was found.
	Found bool
	// Cells holds the 15 values.
	Cells [15]Number
	// Line is the line of the values.
	Line int
	// Note explains values that could not be placed.
	Note string
}

// Heading is one of the six section headings.
type Heading struct {
	// Number is the heading's numeral, 一 to 六.
	Number string
	// Found is true when the heading was found.
	Found bool
	// Text is the heading as printed (folded, white space removed).
	Text string
	// Line is the 1-based line of the heading; Span the number of lines
	// it was split over.
	Line, Span int
	// Numbered is false when the heading was printed without its numeral.
	Numbered bool
	// OutOfOrder is true when the heading comes before the one preceding
	// it in the format.
	OutOfOrder bool
	// Empty is true when nothing follows the heading before the next one.
	Empty bool
	// bodyFrom and bodyTo delimit the section body as 0-based line
	// indexes [bodyFrom, bodyTo); rest is text after the heading on its own
	// line.
	bodyFrom, bodyTo int
	rest             string
}

// Period is the 统计期限 a report states.
type Period struct {
	// Found is true when a full-year period was stated.
	Found bool
	// From and To are the years of its first and last day (To equals
	// From when the text omits the second year).
	From, To int
	// Text is the matched text; Line its line.
	Text string
	Line int
}

// Statement is a figure stated in the narrative of section 一.
type Statement struct {
	// Key names what the figure counts: one of 新收, 上年结转, 予以公开,
	// 部分公开, 不予公开, 无法提供, 不予处理, 其他处理, 结转下年, 行政复议,
	// 行政诉讼.
	Key string
	// Value is the figure.
	Value int64
	// Text is the matched text; Line its line.
	Text string
	Line int
}

// Report is what Parse found in a document.
type Report struct {
	// Doc is the source document.
	Doc *Document
	// IsReport is false when the document does not look like an annual
	// report at all; NotReportReason then says why.
	IsReport        bool
	NotReportReason string
	// NoText is true when the document has (almost) no text, such as a
	// scanned PDF.
	NoText bool
	// Title, Organ and Year come from the title, such as
	// 淮安市人民政府2024年政府信息公开工作年度报告; Year falls back to the
	// stated 统计期限.
	Title, Organ string
	Year         int
	// TitleLine is the line of the title, 0 when none was found.
	TitleLine int
	// Format is the format generation, and FormatReason what decided it.
	Format       Format
	FormatReason string
	// Headings are the six section headings, 一 to 六.
	Headings [6]Heading
	// Period is the stated 统计期限.
	Period Period
	// Tables 2, 3 and 4.
	Table2 Table2
	Table3 Table3
	Table4 Table4
	// Narrative holds the figures stated in section 一.
	Narrative []Statement
	// Notes are remarks from parsing.
	Notes []string

	// work is the folded copy of Doc that line numbers and section
	// bounds refer to.
	work *Document
}

// text returns the folded document (Doc itself for reports parsed before
// folding, such as those with no text).
func (r *Report) text() *Document {
	if r.work != nil {
		return r.work
	}
	return r.Doc
}
