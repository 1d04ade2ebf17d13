package report

import (
	"fmt"
	"sort"
	"strings"
)

// SchemaVersion identifies the JSON form of Result (its field names and
// meanings). It changes only when a field is removed or changes meaning;
// added fields keep the version.
const SchemaVersion = "gongkai.check-report/v1"

// Status is the verdict of one rule instance.
type Status string

// The verdicts, from worst to best.
const (
	// Fail: the rule does not hold, whatever blank cells stand for.
	Fail Status = "FAIL"
	// Warn: a rule of warning severity does not hold (narrative and
	// cross-year rules, blank cells, missing fee or period statements).
	Warn Status = "WARN"
	// Uncertain: the verdict depends on blank cells or on values that
	// could not be read.
	Uncertain Status = "UNCERTAIN"
	// Pass: the rule holds.
	Pass Status = "PASS"
)

// rank orders statuses from worst (0) to best.
func (s Status) rank() int {
	switch s {
	case Fail:
		return 0
	case Warn:
		return 1
	case Uncertain:
		return 2
	}
	return 3
}

// Message is a text in Chinese and English.
type Message struct {
	// ZH is the Chinese text.
	ZH string `json:"zh"`
	// EN is the English text.
	EN string `json:"en"`
}

// In returns the text in lang ("zh" or "en"; anything else gives zh).
func (m Message) In(lang string) string {
	if lang == "en" {
		return m.EN
	}
	return m.ZH
}

func msg(zh, en string, args ...any) Message {
	return Message{ZH: fmt.Sprintf(zh, args...), EN: fmt.Sprintf(en, args...)}
}

// Location says where a rule's subject or operand was found.
type Location struct {
	// Document is "previous" for an operand from the previous year's
	// report; empty for the report checked.
	Document string `json:"document,omitempty"`
	// Section is the section numeral, 一 to 六.
	Section string `json:"section,omitempty"`
	// Table is 表二, 表三 or 表四.
	Table string `json:"table,omitempty"`
	// Row is the row label of the 2021 format.
	Row string `json:"row,omitempty"`
	// Column is the column heading.
	Column string `json:"column,omitempty"`
	// Line is the 1-based line in the extracted text (Document.Text), 0
	// when unknown.
	Line int `json:"line,omitempty"`
}

// String renders the location compactly, for human output.
func (l Location) String() string {
	var parts []string
	if l.Document != "" {
		parts = append(parts, l.Document)
	}
	if l.Table != "" {
		parts = append(parts, l.Table)
	} else if l.Section != "" {
		parts = append(parts, "第"+l.Section+"部分")
	}
	if l.Row != "" {
		parts = append(parts, l.Row)
	}
	if l.Column != "" {
		parts = append(parts, l.Column)
	}
	if l.Line > 0 {
		parts = append(parts, fmt.Sprintf("line %d", l.Line))
	}
	return strings.Join(parts, " / ")
}

// Operand is one number a rule used.
type Operand struct {
	// Name says what the number is, such as "表三 （一）予以公开 × 总计".
	Name string `json:"name"`
	// Text is the value as printed; empty when blank.
	Text string `json:"text"`
	// Value is the value as an integer; nil when blank or not an integer.
	Value *int64 `json:"value"`
	// Location is where the value was found.
	Location Location `json:"location"`
}

// RuleResult is the verdict of one rule instance.
type RuleResult struct {
	// ID is the rule identifier of obligations.md §2.5, such as "T3-ROW".
	ID string `json:"id"`
	// Key distinguishes the instances of a rule: a column code (T3-ID,
	// T3-RES, X-T3-CARRY), a row number (T3-ROW), a table 4 block, a
	// table 2 row or a narrative key. Empty for single-instance rules.
	Key string `json:"key,omitempty"`
	// Status is the verdict.
	Status Status `json:"status"`
	// Section is the section the rule concerns (一 to 六), empty for the
	// whole document.
	Section string `json:"section,omitempty"`
	// Message explains the verdict with its numbers.
	Message Message `json:"message"`
	// Expected is the value the rule derives (a sum, the previous year's
	// figure, the table's figure); nil when not numeric or unknown.
	Expected *int64 `json:"expected"`
	// Actual is the value printed; nil when not numeric or unknown.
	Actual *int64 `json:"actual"`
	// Operands are the numbers that decided the verdict.
	Operands []Operand `json:"operands,omitempty"`
	// Location is where the rule's subject was found.
	Location Location `json:"location"`
}

// Name returns ID[Key], or ID when Key is empty.
func (r RuleResult) Name() string {
	if r.Key == "" {
		return r.ID
	}
	return r.ID + "[" + r.Key + "]"
}

// Outcome says whether a document could be checked as a report.
type Outcome string

// The outcomes.
const (
	// Checked: the document is an annual report and its rules were
	// evaluated.
	Checked Outcome = "checked"
	// NotAReport: the document does not look like an annual report
	// (no title, fewer than three headings, no table 3). No rules were
	// evaluated.
	NotAReport Outcome = "not_a_report"
	// NoText: the document has no text layer (a scanned PDF) or almost no
	// text. No rules were evaluated.
	NoText Outcome = "no_text"
)

// Summary counts rule results by status.
type Summary struct {
	// Pass, Fail, Warn and Uncertain count the results with each status.
	Pass      int `json:"pass"`
	Fail      int `json:"fail"`
	Warn      int `json:"warn"`
	Uncertain int `json:"uncertain"`
}

// Previous identifies the previous year's report a Result was checked
// against.
type Previous struct {
	// Name is the previous report's document name; Year and Organ come
	// from its title.
	Name  string `json:"file"`
	Year  int    `json:"year,omitempty"`
	Organ string `json:"organ,omitempty"`
}

// Result is the outcome of checking one report.
type Result struct {
	// Name is the document's name.
	Name string `json:"file"`
	// Kind is the source format the text was extracted from.
	Kind Kind `json:"kind"`
	// Extractor names the PDF back ends used, if any.
	Extractor string `json:"extractor,omitempty"`
	// Outcome says whether rules were evaluated; Reason explains an
	// outcome other than Checked.
	Outcome Outcome  `json:"outcome"`
	Reason  *Message `json:"reason,omitempty"`
	// Format, Year, Organ and Title describe the report.
	Format Format `json:"format,omitempty"`
	Year   int    `json:"year,omitempty"`
	Organ  string `json:"organ,omitempty"`
	Title  string `json:"title,omitempty"`
	// Previous is the previous year's report used by the cross-year rules.
	Previous *Previous `json:"previous,omitempty"`
	// Summary counts Rules by status.
	Summary Summary `json:"summary"`
	// Rules holds one result per rule instance, in a stable order (by
	// rule, then key).
	Rules []RuleResult `json:"rules"`
	// Notes are remarks from extraction and parsing, such as values that
	// could not be placed or pages read by a fallback back end.
	Notes []string `json:"notes,omitempty"`
}

// Failed returns the distinct IDs of the rules with a FAIL instance, sorted.
func (r *Result) Failed() []string {
	seen := map[string]bool{}
	var out []string
	for _, rr := range r.Rules {
		if rr.Status == Fail && !seen[rr.ID] {
			seen[rr.ID] = true
			out = append(out, rr.ID)
		}
	}
	sort.Strings(out)
	return out
}

// Find returns the result of rule id with key, or nil.
func (r *Result) Find(id, key string) *RuleResult {
	for i := range r.Rules {
		if r.Rules[i].ID == id && r.Rules[i].Key == key {
			return &r.Rules[i]
		}
	}
	return nil
}

// Worst returns the worst status among the instances of rule id, or ""
// when the rule was not evaluated.
func (r *Result) Worst(id string) Status {
	var w Status
	for _, rr := range r.Rules {
		if rr.ID == id && (w == "" || rr.Status.rank() < w.rank()) {
			w = rr.Status
		}
	}
	return w
}

func (r *Result) summarise() {
	r.Summary = Summary{}
	for _, rr := range r.Rules {
		switch rr.Status {
		case Pass:
			r.Summary.Pass++
		case Fail:
			r.Summary.Fail++
		case Warn:
			r.Summary.Warn++
		case Uncertain:
			r.Summary.Uncertain++
		}
	}
}
