package report

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// term is one operand of an equality rule, with its sign.
type term struct {
	name string
	n    Number
	loc  Location
	neg  bool
}

func (t term) operand() Operand {
	op := Operand{Name: t.name, Text: strings.TrimSpace(t.n.Text), Location: t.loc}
	if t.neg {
		op.Name = "− " + op.Name
	}
	if v, ok := t.n.Int(); ok {
		op.Value = &v
	}
	if op.Location.Line == 0 {
		op.Location.Line = t.n.Line
	}
	return op
}

func i64(v int64) *int64 { return &v }

// equality is the evaluation of Σexpected == Σactual.
type equality struct {
	status   Status
	exp, act int64
	unknown  int // blank or unreadable operands, counted as 0
}

// evalEq evaluates an equality between signed sums. Blank and unreadable
// operands count as 0 for the figures shown; the verdict is PASS when the
// equality holds with no unknowns, miss (FAIL or WARN) when it cannot hold
// for any non-negative values of the unknowns, and UNCERTAIN otherwise.
func evalEq(exp, act []term, miss Status) equality {
	var e equality
	hasPos, hasNeg := false, false
	add := func(ts []term, side int64) (sum int64) {
		for _, t := range ts {
			sign := int64(1)
			if t.neg {
				sign = -1
			}
			v, ok := t.n.Int()
			if !ok {
				e.unknown++
				// Coefficient of this unknown in (exp − act).
				if sign*side > 0 {
					hasPos = true
				} else {
					hasNeg = true
				}
				continue
			}
			sum += sign * v
		}
		return sum
	}
	e.exp = add(exp, 1)
	e.act = add(act, -1)
	d := e.exp - e.act
	switch {
	case e.unknown == 0 && d == 0:
		e.status = Pass
	case e.unknown == 0:
		e.status = miss
	case d == 0 || (d < 0 && hasPos) || (d > 0 && hasNeg):
		e.status = Uncertain
	default:
		e.status = miss
	}
	return e
}

// checker accumulates rule results for one report.
type checker struct {
	rep *Report
	res *Result
}

func (c *checker) add(r RuleResult) { c.res.Rules = append(c.res.Rules, r) }

// eq evaluates an equality rule and records it.
func (c *checker) eq(id, key, section string, subject Message, exp, act []term, miss Status, loc Location) {
	e := evalEq(exp, act, miss)
	r := RuleResult{ID: id, Key: key, Status: e.status, Section: section, Expected: i64(e.exp), Actual: i64(e.act), Location: loc}
	for _, t := range exp {
		r.Operands = append(r.Operands, t.operand())
	}
	for _, t := range act {
		r.Operands = append(r.Operands, t.operand())
	}
	switch {
	case e.status == Pass:
		r.Message = Message{
			ZH: fmt.Sprintf("%s：%d = %d", subject.ZH, e.exp, e.act),
			EN: fmt.Sprintf("%s: %d = %d", subject.EN, e.exp, e.act),
		}
	case e.status == Uncertain:
		r.Message = Message{
			ZH: fmt.Sprintf("%s：有 %d 个空白或无法读取的单元格，按 0 计算时应为 %d，实为 %d，结论取决于空白单元格", subject.ZH, e.unknown, e.exp, e.act),
			EN: fmt.Sprintf("%s: %d blank or unreadable cells; counting them as 0 gives expected %d, found %d; the verdict depends on the blanks", subject.EN, e.unknown, e.exp, e.act),
		}
	default:
		r.Message = Message{
			ZH: fmt.Sprintf("%s：应为 %d，实为 %d（相差 %d）", subject.ZH, e.exp, e.act, e.act-e.exp),
			EN: fmt.Sprintf("%s: expected %d, found %d (off by %d)", subject.EN, e.exp, e.act, e.act-e.exp),
		}
		if e.unknown > 0 {
			r.Message.ZH += fmt.Sprintf("；%d 个空白单元格无论填入什么非负数都不能使其成立", e.unknown)
			r.Message.EN += fmt.Sprintf("; no non-negative values of the %d blank cells can make it hold", e.unknown)
		}
	}
	c.add(r)
}

// missing records one UNCERTAIN result for a rule whose table was not found.
func (c *checker) missing(id, section string, why Message, loc Location) {
	c.add(RuleResult{ID: id, Status: Uncertain, Section: section, Message: why, Location: loc})
}

// Check evaluates every rule of obligations.md §2.5 that applies to rep's
// format. prev, when not nil, is the previous year's report, for the
// cross-year rules X-T3-CARRY and X-T2-STOCK. A document that is not a
// report, or has no text, gets an Outcome other than Checked and no rules.
func Check(rep *Report, prev *Report) *Result {
	res := &Result{Outcome: Checked, Rules: []RuleResult{}}
	if rep == nil || rep.Doc == nil {
		res.Outcome = NotAReport
		res.Reason = &Message{ZH: "没有文档", EN: "no document"}
		return res
	}
	d := rep.Doc
	res.Name, res.Kind, res.Extractor = d.Name, d.Kind, d.Extractor
	res.Notes = append(append(res.Notes, d.Notes...), rep.Notes...)
	switch {
	case rep.NoText:
		res.Outcome = NoText
		if d.Kind == KindPDF {
			res.Reason = &Message{ZH: "PDF 没有文字层（可能是扫描件），无法检查；需要 OCR 或可复制文字的版本", EN: "the PDF has no text layer (probably a scan); it cannot be checked without OCR or a text version"}
		} else {
			res.Reason = &Message{ZH: "文档几乎没有中文文字，无法检查", EN: "the document has almost no Chinese text to check"}
		}
		return res
	case !rep.IsReport:
		res.Outcome = NotAReport
		res.Reason = &Message{
			ZH: "不是政府信息公开工作年度报告：没有年度报告标题，六个部分标题找到不足三个，也没有表三",
			EN: "not a government information disclosure annual report: " + rep.NotReportReason,
		}
		return res
	}
	res.Format, res.Year, res.Organ, res.Title = rep.Format, rep.Year, rep.Organ, rep.Title
	c := &checker{rep: rep, res: res}
	if rep.Format == FormatPre2019 {
		c.sectPre2019()
		c.period()
		res.Notes = append(res.Notes, "pre-2019 report: the tables and rules of the unified formats do not apply")
		res.summarise()
		return res
	}
	c.sections()
	c.period()
	if rep.Format == Format2019 {
		// 信息处理费 could be charged only from 2021-01-01 (国办函〔2020〕
		// 109号), and the 2019 trial format has no line for it: reporting
		// it in section 六 is an instruction of the 2021 format.
		res.Notes = append(res.Notes, "2019 trial format: S-FEE (信息处理费 in section 六) is a rule of the 2021 format and is not checked")
	} else {
		c.fee()
	}
	c.table2()
	c.table3()
	c.table4()
	c.narrativeT3()
	c.narrativeT4()
	if prev != nil {
		c.cross(prev)
	}
	res.summarise()
	return res
}

// sections checks S-SECT.
func (c *checker) sections() {
	hs := c.rep.Headings
	var missing, order, empty, variants []string
	r := RuleResult{ID: "S-SECT", Status: Pass}
	for i, h := range hs {
		op := Operand{Name: Headings2021[i], Text: h.Text, Location: Location{Section: h.Number, Line: h.Line}}
		r.Operands = append(r.Operands, op)
		switch {
		case !h.Found:
			missing = append(missing, Headings2021[i])
		case h.OutOfOrder:
			order = append(order, Headings2021[i])
		}
		if h.Found && h.Empty && i >= 4 {
			empty = append(empty, numerals[i])
		}
		if h.Found && !h.Numbered {
			variants = append(variants, fmt.Sprintf("%s printed without its numeral", numerals[i]))
		}
		if h.Found && h.Span > 1 {
			variants = append(variants, fmt.Sprintf("%s split over %d lines", numerals[i], h.Span))
		}
	}
	switch {
	case len(missing) > 0 || len(order) > 0:
		r.Status = Fail
		var zh, en []string
		if len(missing) > 0 {
			zh = append(zh, "缺少标题："+strings.Join(missing, "；"))
			en = append(en, "missing headings: "+strings.Join(missing, "; "))
		}
		if len(order) > 0 {
			zh = append(zh, "顺序错误："+strings.Join(order, "；"))
			en = append(en, "out of order: "+strings.Join(order, "; "))
		}
		r.Message = Message{ZH: strings.Join(zh, "。"), EN: strings.Join(en, ". ")}
		for _, h := range hs {
			if !h.Found {
				r.Location = Location{Section: h.Number}
				break
			}
		}
	case len(empty) > 0:
		r.Status = Warn
		r.Message = Message{
			ZH: "第" + strings.Join(empty, "、") + "部分没有内容（无内容时应写“无”）",
			EN: "section " + strings.Join(empty, ", ") + " is empty (write 无 when there is nothing to report)",
		}
		r.Location = Location{Section: empty[0]}
	default:
		r.Message = Message{ZH: "六个部分标题齐全，顺序正确", EN: "all six section headings present, in order"}
	}
	if len(variants) > 0 {
		r.Message.EN += " (" + strings.Join(variants, "; ") + ")"
		r.Message.ZH += "（" + strings.Join(variants, "；") + "）"
	}
	c.add(r)
}

// pre2019Topics are the topics of 2008 regulations art. 32.
var pre2019Topics = []struct{ zh, en string }{
	{"主动公开", "proactive disclosure"},
	{"依申请公开", "disclosure on request"},
	{"收费", "fees"},
	{"行政复议", "administrative reconsideration"},
	{"问题", "problems and improvements"},
}

// sectPre2019 checks the topics of a pre-2019 report (WARN only: there was
// no national template).
func (c *checker) sectPre2019() {
	var all strings.Builder
	for _, l := range c.rep.text().Lines {
		all.WriteString(stripSpace(fold(l.Text)))
	}
	text := all.String()
	var miss []string
	var missEN []string
	for _, t := range pre2019Topics {
		if !strings.Contains(text, t.zh) {
			miss = append(miss, t.zh)
			missEN = append(missEN, t.en)
		}
	}
	r := RuleResult{ID: "S-SECT", Status: Pass, Message: Message{ZH: "2008 年条例第三十二条规定的内容均有涉及", EN: "every topic of the 2008 regulations art. 32 is mentioned"}}
	if len(miss) > 0 {
		r.Status = Warn
		r.Message = Message{ZH: "未涉及：" + strings.Join(miss, "、"), EN: "topics not mentioned: " + strings.Join(missEN, ", ")}
	}
	c.add(r)
}

// period checks S-PERIOD.
func (c *checker) period() {
	rep := c.rep
	p := rep.Period
	r := RuleResult{ID: "S-PERIOD", Status: Pass, Location: Location{Line: p.Line}}
	titleYear := 0
	if rep.Title != "" {
		titleYear = rep.Year
		r.Expected = i64(int64(titleYear))
	}
	if p.Found {
		r.Actual = i64(int64(p.From))
	}
	switch {
	case !p.Found:
		r.Status = Warn
		r.Message = Message{ZH: "未写明统计期限（应为该年 1 月 1 日至 12 月 31 日）", EN: "no 统计期限 (reporting period, 1 January to 31 December) stated"}
	case p.From != p.To:
		r.Status = Warn
		r.Message = msg("统计期限跨年：%s", "the stated period spans years: %s", p.Text)
	case titleYear == 0:
		r.Status = Warn
		r.Message = msg("标题中没有年度（统计期限为 %d 年）", "the title states no year (the period is %d)", p.From)
	case titleYear != p.From:
		r.Status = Warn
		r.Message = msg("标题年度 %d 与统计期限 %d 年不一致", "the title says %d but the period is %d", titleYear, p.From)
	default:
		r.Message = msg("统计期限为 %d 年全年，与标题一致", "the period is the whole of %d, as in the title", p.From)
	}
	c.add(r)
}

// feeAmountRe finds the amount of 信息处理费 collected.
var feeAmountRe = regexp.MustCompile(`信息处理费[^。；;\d]{0,12}?(\d+(?:\.\d+)?)元`)

// fee checks S-FEE.
func (c *checker) fee() {
	h := c.rep.Headings[5]
	r := RuleResult{ID: "S-FEE", Section: "六", Location: Location{Section: "六", Line: h.Line}}
	d := c.rep.text()
	findIn := func(from, to int) (int, string) {
		j := joinLines(d, from, to)
		i := strings.Index(j.text, "处理费")
		if i < 0 {
			return 0, ""
		}
		return j.lineAt(i), j.text[max(0, i-12):]
	}
	if !h.Found {
		r.Status = Warn
		r.Message = Message{ZH: "未找到第六部分，无法确认是否报告了信息处理费", EN: "section 六 not found, so no 信息处理费 (processing fee) statement"}
		c.add(r)
		return
	}
	line, text := findIn(h.Line-1, h.bodyTo)
	if line == 0 {
		r.Status = Warn
		r.Message = Message{ZH: "第六部分未报告信息处理费收取情况（收取 0 元也应写明）", EN: "section 六 does not report 信息处理费 (processing fees; state 0 when none were charged)"}
		if l2, _ := findIn(0, len(d.Lines)); l2 > 0 {
			r.Message.ZH += fmt.Sprintf("；第 %d 行在其他部分提到了处理费", l2)
			r.Message.EN += fmt.Sprintf("; line %d mentions it in another section", l2)
		}
		c.add(r)
		return
	}
	r.Status = Pass
	r.Location.Line = line
	r.Message = Message{ZH: "第六部分报告了信息处理费", EN: "section 六 reports 信息处理费 (processing fees)"}
	if m := feeAmountRe.FindStringSubmatch(text); m != nil {
		r.Message.ZH += "：" + m[1] + " 元"
		r.Message.EN += ": " + m[1] + " yuan"
		if v, err := strconv.ParseInt(m[1], 10, 64); err == nil {
			r.Actual = &v
		}
	}
	c.add(r)
}
