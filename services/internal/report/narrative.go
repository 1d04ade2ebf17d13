package report

import (
	"regexp"
	"strconv"
	"strings"
)

// gap is the text allowed between a keyword and its figure: no sentence
// or clause break and no other digit.
const gap = `[^。；;，,\d]`

// statementRes find figures in section 一. Each has one capturing group,
// the figure; zero-valued statements ("未发生…行政复议") have none.
var statementRes = []struct {
	key  string
	re   *regexp.Regexp
	zero bool
}{
	// (The literal each expression needs is checked first; see need.)
	{"新收", regexp.MustCompile(`(?:新收|收到|受理|收办|接收|共收)` + gap + `{0,24}?申请` + gap + `{0,8}?(\d+)件`), false},
	{"上年结转", regexp.MustCompile(`(?:上年度?|上一年度?)结转` + gap + `{0,12}?(\d+)件`), false},
	{"予以公开", regexp.MustCompile(`予以公开` + gap + `{0,4}?(\d+)件`), false},
	{"部分公开", regexp.MustCompile(`部分公开` + gap + `{0,4}?(\d+)件`), false},
	{"不予公开", regexp.MustCompile(`不予公开` + gap + `{0,4}?(\d+)件`), false},
	{"无法提供", regexp.MustCompile(`无法提供` + gap + `{0,4}?(\d+)件`), false},
	{"不予处理", regexp.MustCompile(`不予处理` + gap + `{0,4}?(\d+)件`), false},
	{"其他处理", regexp.MustCompile(`其他处理` + gap + `{0,24}?(\d+)件`), false},
	{"结转下年", regexp.MustCompile(`(?:结转|转|顺延)(?:到|至|入)?下一?年度?` + gap + `{0,10}?(\d+)件`), false},
	{"结转下年", regexp.MustCompile(`(\d+)件` + gap + `{0,6}?(?:结转|顺延|转)(?:到|至|入)?下一?年`), false},
	{"行政复议", regexp.MustCompile(`行政复议(?:案件|申请)?` + gap + `{0,6}?(\d+)件`), false},
	{"行政诉讼", regexp.MustCompile(`行政诉讼(?:案件)?` + gap + `{0,6}?(\d+)件`), false},
	{"行政复议", regexp.MustCompile(`(?:未发生|没有发生|未收到|无)` + gap + `{0,20}?行政复议`), true},
	{"行政诉讼", regexp.MustCompile(`(?:未发生|没有发生|未收到|无)` + gap + `{0,20}?行政诉讼`), true},
}

// need is a literal every expression of a key requires.
var need = map[string]string{
	"新收": "申请", "上年结转": "结转", "予以公开": "予以公开", "部分公开": "部分公开", "不予公开": "不予公开",
	"无法提供": "无法提供", "不予处理": "不予处理", "其他处理": "其他处理", "结转下年": "下", "行政复议": "行政复议", "行政诉讼": "行政诉讼",
}

// findStatements returns the first figure stated for each key in lines
// [from, to), in key order.
func findStatements(d *Document, from, to int) []Statement {
	j := joinLines(d, from, to)
	text := j.text
	lineOf := j.lineAt
	seen := map[string]bool{}
	var out []Statement
	for _, s := range statementRes {
		if seen[s.key] {
			continue
		}
		if !strings.Contains(text, need[s.key]) {
			continue
		}
		m := s.re.FindStringSubmatchIndex(text)
		if m == nil {
			continue
		}
		var v int64
		if !s.zero {
			n, err := strconv.ParseInt(text[m[2]:m[3]], 10, 64)
			if err != nil {
				continue
			}
			v = n
		}
		seen[s.key] = true
		out = append(out, Statement{Key: s.key, Value: v, Text: text[m[0]:m[1]], Line: lineOf(m[0])})
	}
	return out
}
