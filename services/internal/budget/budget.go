// Package budget finds, in the text of a published department budget (部门预算)
// or final accounts (部门决算), the titles of the standard tables and the
// explanations that art. 14 of the Budget Law (预算法) asks for.
//
// Budget Law art. 14 ¶2 requires departments to publish their budgets and
// final accounts "及报表" and to explain 机关运行经费 and other important
// matters; in practice (财预〔2016〕143号 and the provincial templates) a
// department budget consists of eight standard tables, listed by
// BudgetTables. The number and names of the final-accounts tables are not
// settled in gongkai's reference (obligations.md §3 marks them uncertain);
// FinalAccountsTables lists the nine tables of the usual template, for
// recording what a document contains, not for judging it.
//
// Find is a pure function of the text. Titles vary between portals and
// extraction back ends, so it is tolerant: white space and quotation marks
// are ignored (“三公”, "三公", 「三公」 and 三公 are the same), full-width
// letters and digits are folded, and a title may carry a prefix (部门, 单位,
// the organ's name, the year, a number such as 表1 or 一、) and the word 预算
// (收支预算总表 is 收支总表). It keeps the tables apart: 一般公共预算支出表 is
// not found inside 一般公共预算基本支出表, nor 收支总表 inside 财政拨款收支总表.
// A title mentioned in a table of contents or in the narrative counts as
// found: the finder records what the text names, it does not verify the
// numbers under a title.
package budget

import (
	"cmp"
	"regexp"
	"slices"
	"strings"
	"unicode"

	"golang.org/x/text/width"

	"github.com/gongkai/gongkai/pkg/events"
)

// Kind is what a document is: a budget or final accounts.
type Kind string

// Kinds of budget documents, with the values of the observation's
// budget.kind.
const (
	// KindBudget is a budget (预算).
	KindBudget Kind = events.BudgetKindBudget
	// KindFinalAccounts is final accounts (决算).
	KindFinalAccounts Kind = events.BudgetKindFinalAccounts
)

// KindOf returns the kind of document a title names: final accounts when it
// says 决算, a budget when it says 预算, and "" when it says neither or both
// (a 预决算 notice).
func KindOf(title string) Kind {
	t := strings.ReplaceAll(title, "预决算", "")
	bud, fin := strings.Contains(t, "预算"), strings.Contains(t, "决算")
	switch {
	case fin && !bud:
		return KindFinalAccounts
	case bud && !fin:
		return KindBudget
	}
	return ""
}

// The explanations the law asks for (预算法 art. 14 ¶2: 机关运行经费; the
// 143号 rules: 三公经费).
const (
	// ExplainOperatingCosts is the explanation of the organs' operating
	// costs.
	ExplainOperatingCosts = "机关运行经费"
	// ExplainThreePublic is the explanation of the "three public"
	// expenses (official travel abroad, official vehicles, receptions).
	ExplainThreePublic = "三公经费"
)

// table is one standard table: its name as usually printed, the pattern its
// titles match (on normalized text) and what may not precede a match (RE2
// has no look-behind).
type table struct {
	name     string
	en       string
	kind     Kind
	re       *regexp.Regexp
	notAfter []string
}

// otherBudgets are the words that make a 收入/支出 title another budget's.
var otherBudgets = []string{"拨款", "公共", "公共预算", "基金", "基金预算", "经营", "经营预算"}

func def(kind Kind, name, en, pattern string, notAfter ...string) table {
	return table{name: name, en: en, kind: kind, re: regexp.MustCompile(pattern), notAfter: notAfter}
}

// tables lists the standard tables, the budget's eight first, in the order
// they are published.
var tables = []table{
	def(KindBudget, "收支总表", "summary of revenue and expenditure",
		`收支(?:预算)?总表|收入支出预算总表`),
	def(KindBudget, "收入总表", "summary of revenue",
		`收入(?:预算)?总表|收入预算表`, otherBudgets...),
	def(KindBudget, "支出总表", "summary of expenditure",
		`支出(?:预算)?总表|支出预算表`, append([]string{"基本", "项目", "经费"}, otherBudgets...)...),
	def(KindBudget, "财政拨款收支总表", "summary of revenue and expenditure of fiscal appropriations",
		`财政拨款收支(?:预算)?总表|财政拨款收入支出预算总表`),
	def(KindBudget, "一般公共预算支出表", "general public budget expenditure",
		`一般公共预算(?:财政拨款)?支出(?:预算)?表`),
	def(KindBudget, "一般公共预算基本支出表", "general public budget basic expenditure",
		`(?:一般公共预算(?:财政拨款)?)?基本支出(?:预算)?表`),
	def(KindBudget, "一般公共预算“三公”经费支出表", `general public budget expenditure on the "three public" items`,
		`(?:一般公共预算(?:财政拨款)?)?三公经费(?:支出)?(?:预算)?表`),
	def(KindBudget, "政府性基金预算支出表", "government fund budget expenditure",
		`政府性基金(?:预算)?(?:财政拨款)?支出(?:预算)?表`),

	def(KindFinalAccounts, "收入支出决算总表", "summary of final revenue and expenditure",
		`收入支出决算总表|收支决算总表`),
	def(KindFinalAccounts, "收入决算表", "final revenue",
		`收入决算表`, otherBudgets...),
	def(KindFinalAccounts, "支出决算表", "final expenditure",
		`支出决算(?:明细)?表`, append([]string{"基本", "项目", "经费", "收入"}, otherBudgets...)...),
	def(KindFinalAccounts, "财政拨款收入支出决算总表", "summary of final revenue and expenditure of fiscal appropriations",
		`财政拨款(?:收入支出|收支)决算总表`),
	def(KindFinalAccounts, "一般公共预算财政拨款支出决算表", "final general public budget expenditure",
		`一般公共预算(?:财政拨款)?支出决算(?:明细)?表`),
	def(KindFinalAccounts, "一般公共预算财政拨款基本支出决算表", "final general public budget basic expenditure",
		`(?:一般公共预算(?:财政拨款)?)?基本支出决算(?:明细)?表`),
	def(KindFinalAccounts, "一般公共预算财政拨款“三公”经费支出决算表", `final general public budget expenditure on the "three public" items`,
		`(?:一般公共预算(?:财政拨款)?)?三公经费(?:支出)?决算表`),
	def(KindFinalAccounts, "政府性基金预算财政拨款收入支出决算表", "final government fund budget revenue and expenditure",
		`政府性基金(?:预算)?(?:财政拨款)?(?:收入)?支出决算表`),
	def(KindFinalAccounts, "国有资本经营预算财政拨款支出决算表", "final state capital operation budget expenditure",
		`国有资本经营(?:预算)?(?:财政拨款)?(?:收入)?支出决算表`),
}

// Tables returns the names of the standard tables of a kind of document, in
// publication order. For KindFinalAccounts the list is the usual template's,
// not a legal requirement (see the package documentation).
func Tables(k Kind) []string {
	var out []string
	for _, t := range tables {
		if t.kind == k {
			out = append(out, t.name)
		}
	}
	return out
}

// English returns an English gloss of a standard table's name, or "" for a
// name that is not one.
func English(name string) string {
	for _, t := range tables {
		if t.name == name {
			return t.en
		}
	}
	return ""
}

// Canonical returns the standard name of the table a name or title denotes
// ("部门收支预算总表" → "收支总表"), and false when it denotes none or
// several.
func Canonical(title string) (string, bool) {
	f := Find(title)
	if len(f.Tables) != 1 {
		return "", false
	}
	return f.Tables[0], true
}

// Found is what a text shows: the standard tables whose titles appear in it
// and the explanations it contains, each in the order of Tables and of the
// Explain constants.
type Found struct {
	Tables       []string
	Explanations []string
}

// Has reports whether the table name was found.
func (f Found) Has(name string) bool { return slices.Contains(f.Tables, name) }

// quotes are dropped by normalize: portals print “三公”, "三公", ‘三公’,
// 「三公」 or nothing around 三公.
const quotes = "\"'“”‘’「」『』〝〞〟＂＇`´"

// normalize folds full-width letters and digits, and drops white space and
// quotation marks.
func normalize(line string) string {
	line = width.Fold.String(line)
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || strings.ContainsRune(quotes, r) {
			return -1
		}
		return r
	}, line)
}

type span struct{ start, end, table int }

// titles returns the spans of the standard titles in a normalized line: the
// matches of every table, less those preceded by a word that makes them
// another table's and those inside a longer match (支出总表 inside
// 收入支出预算总表, 收支总表 inside 财政拨款收支总表).
func titles(line string) []span {
	if !strings.Contains(line, "表") {
		return nil
	}
	var all []span
	for i, t := range tables {
		for _, m := range t.re.FindAllStringIndex(line, -1) {
			before := line[:m[0]]
			ok := true
			for _, w := range t.notAfter {
				if strings.HasSuffix(before, w) {
					ok = false
					break
				}
			}
			if ok {
				all = append(all, span{m[0], m[1], i})
			}
		}
	}
	// By start, the longer (then the earlier table) first: a span inside
	// another comes after it and ends no later than the furthest end so far.
	slices.SortFunc(all, func(a, b span) int {
		if c := cmp.Compare(a.start, b.start); c != 0 {
			return c
		}
		if c := cmp.Compare(b.end, a.end); c != 0 {
			return c
		}
		return cmp.Compare(a.table, b.table)
	})
	out := all[:0]
	end := -1
	for _, s := range all {
		if s.end > end {
			out = append(out, s)
			end = s.end
		}
	}
	return out
}

// outside returns the parts of line outside the spans, joined by "|".
func outside(line string, spans []span) string {
	if len(spans) == 0 {
		return line
	}
	covered := make([]bool, len(line))
	for _, s := range spans {
		for i := s.start; i < s.end; i++ {
			covered[i] = true
		}
	}
	var b strings.Builder
	for i := 0; i < len(line); i++ {
		switch {
		case !covered[i]:
			b.WriteByte(line[i])
		case i == 0 || !covered[i-1]:
			b.WriteByte('|')
		}
	}
	return b.String()
}

// prose reports whether a normalized line reads as narrative or a heading of
// the explanations rather than a table row: sentence punctuation, or the
// words 说明 or 情况.
func prose(line string) bool {
	return strings.ContainsAny(line, "，。；,;") || strings.Contains(line, "说明") || strings.Contains(line, "情况")
}

// Find returns the standard tables whose titles appear in text and the
// explanations it contains. An explanation of 机关运行经费 or 三公经费 is a
// line that names it outside a table title and outside a table row (cells
// joined by " | ", as report.Document.Text renders them) and reads as prose
// (with the next line, since PDF lines break mid-sentence).
func Find(text string) Found {
	lines := strings.Split(text, "\n")
	norm := make([]string, len(lines))
	for i, l := range lines {
		norm[i] = normalize(l)
	}
	seen := make([]bool, len(tables))
	explained := map[string]bool{}
	terms := []string{ExplainOperatingCosts, ExplainThreePublic}
	for i, line := range norm {
		spans := titles(line)
		for _, s := range spans {
			seen[s.table] = true
		}
		if strings.Contains(line, "|") {
			continue // a table row
		}
		rest := outside(line, spans)
		for _, term := range terms {
			if explained[term] || !strings.Contains(rest, term) {
				continue
			}
			next := ""
			if i+1 < len(norm) && !strings.Contains(norm[i+1], "|") {
				next = norm[i+1]
			}
			if prose(rest) || prose(next) {
				explained[term] = true
			}
		}
	}
	var f Found
	for i, t := range tables {
		if seen[i] {
			f.Tables = append(f.Tables, t.name)
		}
	}
	for _, term := range terms {
		if explained[term] {
			f.Explanations = append(f.Explanations, term)
		}
	}
	return f
}
