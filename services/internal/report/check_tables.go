package report

import (
	"fmt"
	"strconv"
	"strings"
)

func t3Loc(row int, col int, line int) Location {
	l := Location{Section: "三", Table: "表三", Line: line}
	switch {
	case row == 25:
		l.Row = T3OtherLabel
	case row >= 0:
		l.Row = T3Rows[row].Label
	}
	if col >= 0 {
		l.Column = T3Columns[col].Label
	}
	return l
}

// singleOther reports whether （六）其他处理 is printed as one row instead
// of rows 21–23.
func (t *Table3) singleOther() bool {
	return t.Other.Found && !t.Rows[20].Found && !t.Rows[21].Found && !t.Rows[22].Found
}

// t3Row returns row idx (0–24), or the single （六） row for idx 25.
func (t *Table3) row(idx int) Row {
	if idx == 25 {
		return t.Other
	}
	return t.Rows[idx]
}

func (c *checker) t3term(idx, col int) term {
	t := &c.rep.Table3
	row := t.row(idx)
	label := T3OtherLabel
	if idx < 25 {
		label = T3Rows[idx].Label
	}
	n := Number{}
	if col < len(row.Cells) {
		n = row.Cells[col]
	}
	line := n.Line
	if line == 0 {
		line = row.Line
	}
	return term{name: fmt.Sprintf("表三 %s × %s", label, T3Columns[col].Label), n: n, loc: t3Loc(idx, col, line)}
}

// t3Rows returns the row indexes whose values make up （一）–（六): 3–23,
// or 3–20 plus the single （六） row.
func (c *checker) t3Rows() []int {
	var rows []int
	for i := 2; i < 23; i++ {
		if i >= 20 && c.rep.Table3.singleOther() {
			rows = append(rows, 25)
			break
		}
		rows = append(rows, i)
	}
	return rows
}

// table3 checks T3-ID, T3-RES, T3-ROW, T3-SUB, T3-NN and T3-BLANK.
func (c *checker) table3() {
	t := &c.rep.Table3
	if !t.Found {
		why := Message{ZH: "未找到表三（收到和处理政府信息公开申请情况）", EN: "table 3 (applications received and handled) not found"}
		for _, id := range []string{"T3-ID", "T3-RES", "T3-ROW", "T3-SUB", "T3-NN", "T3-BLANK"} {
			c.missing(id, "三", why, Location{Section: "三", Table: "表三", Line: c.rep.Headings[2].Line})
		}
		return
	}
	for col := range 7 {
		code := T3Columns[col].Code
		name := T3Columns[col].Label
		c.eq("T3-ID", code, "三",
			Message{
				ZH: fmt.Sprintf("表三「%s」列：第一项加第二项之和应等于第三项（七）总计加第四项之和", name),
				EN: fmt.Sprintf("table 3, column %s: 一 + 二 must equal （七）总计 + 四", name),
			},
			[]term{c.t3term(0, col), c.t3term(1, col)},
			[]term{c.t3term(23, col), c.t3term(24, col)},
			Fail, t3Loc(23, col, t.Rows[23].Line))
	}
	for col := range 7 {
		var parts []term
		for _, r := range c.t3Rows() {
			parts = append(parts, c.t3term(r, col))
		}
		name := T3Columns[col].Label
		c.eq("T3-RES", T3Columns[col].Code, "三",
			Message{
				ZH: fmt.Sprintf("表三「%s」列：（七）总计应等于（一）至（六）各项之和", name),
				EN: fmt.Sprintf("table 3, column %s: （七）总计 must equal the sum of （一） to （六）", name),
			},
			parts, []term{c.t3term(23, col)}, Fail, t3Loc(23, col, t.Rows[23].Line))
	}
	rows := make([]int, 0, 26)
	for i := range 25 {
		if i >= 20 && i <= 22 && t.singleOther() {
			if i == 20 {
				rows = append(rows, 25)
			}
			continue
		}
		rows = append(rows, i)
	}
	for _, r := range rows {
		var parts []term
		for col := 0; col < ColTOT; col++ {
			parts = append(parts, c.t3term(r, col))
		}
		key := strconv.Itoa(r + 1)
		label := T3OtherLabel
		if r < 25 {
			label = T3Rows[r].Label
		} else {
			key = "六"
		}
		subject := Message{
			ZH: fmt.Sprintf("表三「%s」行：总计应等于自然人与法人或其他组织各列之和", label),
			EN: fmt.Sprintf("table 3, row %s: 总计 must equal 自然人 plus the five 法人或其他组织 columns", label),
		}
		if row := t.row(r); !row.Found {
			subject.ZH += "（未找到该行）"
			subject.EN += " (row not found)"
		}
		c.eq("T3-ROW", key, "三", subject, parts, []term{c.t3term(r, ColTOT)}, Fail, t3Loc(r, ColTOT, t.row(r).Line))
	}
	c.table3Sub()
	var cells []term
	for _, r := range rows {
		for col := range 7 {
			cells = append(cells, c.t3term(r, col))
		}
	}
	c.nonNegative("T3-NN", "三", "表三", cells, nil)
	c.blanks("T3-BLANK", "三", "表三", cells)
}

// table3Sub checks T3-SUB.
func (c *checker) table3Sub() {
	t := &c.rep.Table3
	loc := t3Loc(25, -1, t.Other.Line)
	printed := false
	for _, r := range t.Rows[20:23] {
		for _, n := range r.Cells {
			printed = printed || !n.Blank()
		}
	}
	switch {
	case !t.Other.Found && !printed:
		c.add(RuleResult{ID: "T3-SUB", Status: Uncertain, Section: "三", Location: t3Loc(20, -1, t.Rows[20].Line),
			Message: Message{ZH: "（六）其他处理及其子项均无数值", EN: "neither （六）其他处理 nor its sub-rows have values"}})
	case !t.Other.Found:
		c.add(RuleResult{ID: "T3-SUB", Status: Pass, Section: "三", Location: t3Loc(20, -1, t.Rows[20].Line),
			Message: Message{ZH: "（六）其他处理按三个子项分列", EN: "（六）其他处理 is printed as its three sub-rows"}})
	case t.singleOther():
		c.add(RuleResult{ID: "T3-SUB", Status: Pass, Section: "三", Location: loc,
			Message: Message{ZH: "（六）其他处理只列一行（2019 年格式），以其代替三个子项", EN: "（六）其他处理 is printed as one row (2019 layout); it stands for its three sub-rows"}})
	default:
		worst := Pass
		var bad []string
		r := RuleResult{ID: "T3-SUB", Section: "三", Location: loc}
		for col := range 7 {
			exp := []term{c.t3term(20, col), c.t3term(21, col), c.t3term(22, col)}
			act := []term{c.t3term(25, col)}
			e := evalEq(exp, act, Fail)
			if e.status.rank() < worst.rank() {
				worst = e.status
			}
			if e.status != Pass {
				bad = append(bad, fmt.Sprintf("%s %d≠%d", T3Columns[col].Label, e.exp, e.act))
			}
			if col == ColTOT {
				r.Expected, r.Actual = i64(e.exp), i64(e.act)
			}
			for _, t := range append(exp, act...) {
				r.Operands = append(r.Operands, t.operand())
			}
		}
		r.Status = worst
		if worst == Pass {
			r.Message = Message{ZH: "（六）其他处理合计行等于三个子项之和", EN: "the （六）其他处理 total row equals the sum of its three sub-rows"}
		} else {
			r.Message = Message{
				ZH: "（六）其他处理合计行与三个子项之和不符：" + strings.Join(bad, "，"),
				EN: "the （六）其他处理 total row differs from the sum of its sub-rows: " + strings.Join(bad, ", "),
			}
		}
		c.add(r)
	}
}

// nonNegative checks that every printed value is a non-negative integer,
// or a non-negative number for the terms decimal accepts (amounts).
func (c *checker) nonNegative(id, section, table string, cells []term, decimal func(term) bool) {
	r := RuleResult{ID: id, Section: section, Location: Location{Section: section, Table: table}}
	values := 0
	for _, t := range cells {
		if t.n.Blank() {
			continue
		}
		values++
		var bad bool
		if decimal != nil && decimal(t) {
			v, ok := t.n.Decimal()
			bad = !ok || v < 0
		} else {
			v, ok := t.n.Int()
			bad = !ok || v < 0
		}
		if bad {
			r.Operands = append(r.Operands, t.operand())
		}
	}
	switch {
	case len(r.Operands) > 0:
		r.Status = Fail
		var list []string
		for _, op := range r.Operands {
			list = append(list, fmt.Sprintf("%s = %q", op.Name, op.Text))
		}
		r.Location = r.Operands[0].Location
		r.Message = Message{
			ZH: fmt.Sprintf("%s有 %d 个数值不是非负整数：%s", table, len(r.Operands), strings.Join(list, "；")),
			EN: fmt.Sprintf("%s has %d values that are not non-negative integers: %s", table, len(r.Operands), strings.Join(list, "; ")),
		}
	case values == 0:
		r.Status = Uncertain
		r.Message = Message{ZH: table + "没有填写任何数值", EN: table + " has no values"}
	default:
		r.Status = Pass
		r.Message = msg("%s的 %d 个数值均为非负数", "all %[2]d values of %[1]s are non-negative", table, values)
	}
	c.add(r)
}

// blanks checks that no cell is blank (T3-BLANK): a blank is not a zero.
func (c *checker) blanks(id, section, table string, cells []term) {
	r := RuleResult{ID: id, Section: section, Location: Location{Section: section, Table: table}}
	rows := map[string]bool{}
	for _, t := range cells {
		if t.n.Blank() {
			r.Operands = append(r.Operands, t.operand())
			rows[t.loc.Row] = true
		}
	}
	if len(r.Operands) == 0 {
		r.Status = Pass
		r.Message = msg("%s没有空白单元格", "%s has no blank cells", table)
	} else {
		r.Status = Warn
		r.Location = r.Operands[0].Location
		r.Message = Message{
			ZH: fmt.Sprintf("%s有 %d 个空白单元格（涉及 %d 行）；空白不等于 0，无数据时应填 0", table, len(r.Operands), len(rows)),
			EN: fmt.Sprintf("%s has %d blank cells in %d rows; a blank is not a zero (print 0 when there is nothing)", table, len(r.Operands), len(rows)),
		}
	}
	c.add(r)
}

func (c *checker) t4term(i int) term {
	t := &c.rep.Table4
	b := T4Blocks[i/5]
	n := t.Cells[i]
	line := n.Line
	if line == 0 {
		line = t.Line
	}
	return term{
		name: fmt.Sprintf("表四 %s × %s", b.Label, T4Labels[i%5]),
		n:    n,
		loc:  Location{Section: "四", Table: "表四", Row: b.Label, Column: T4Labels[i%5], Line: line},
	}
}

// table4 checks T4-SUM and T4-NN.
func (c *checker) table4() {
	t := &c.rep.Table4
	if !t.Found {
		why := Message{ZH: "未找到表四（行政复议、行政诉讼情况）的数值", EN: "the values of table 4 (reconsideration and litigation) not found"}
		loc := Location{Section: "四", Table: "表四", Line: c.rep.Headings[3].Line}
		for _, b := range T4Blocks {
			c.add(RuleResult{ID: "T4-SUM", Key: b.Key, Status: Uncertain, Section: "四", Message: why, Location: loc})
		}
		c.missing("T4-NN", "四", why, loc)
		return
	}
	var all []term
	for bi, b := range T4Blocks {
		var parts []term
		for k := range 4 {
			parts = append(parts, c.t4term(bi*5+k))
		}
		tot := c.t4term(bi*5 + 4)
		c.eq("T4-SUM", b.Key, "四",
			Message{
				ZH: fmt.Sprintf("表四「%s」：结果维持、结果纠正、其他结果、尚未审结之和应等于总计", b.Label),
				EN: fmt.Sprintf("table 4, %s: 结果维持 + 结果纠正 + 其他结果 + 尚未审结 must equal 总计", b.Label),
			},
			parts, []term{tot}, Fail, tot.loc)
		all = append(all, parts...)
		all = append(all, tot)
	}
	c.nonNegative("T4-NN", "四", "表四", all, nil)
}

// table2 checks T2-NN.
func (c *checker) table2() {
	t := &c.rep.Table2
	if !t.Found {
		c.missing("T2-NN", "二", Message{ZH: "未找到表二（主动公开政府信息情况）", EN: "table 2 (proactive disclosure) not found"},
			Location{Section: "二", Table: "表二", Line: c.rep.Headings[1].Line})
		return
	}
	var cells []term
	for i, row := range t.Rows {
		if !row.Found {
			continue
		}
		cols := T2Rows[i].Columns2021
		if c.rep.Format == Format2019 {
			cols = T2Rows[i].Columns2019
		}
		for j, n := range row.Cells {
			col := ""
			if j < len(cols) {
				col = cols[j]
			}
			if strings.Contains(col, "增/减") {
				continue // a change may be negative
			}
			line := n.Line
			if line == 0 {
				line = row.Line
			}
			cells = append(cells, term{name: fmt.Sprintf("表二 %s × %s", T2Rows[i].Key, col), n: n,
				loc: Location{Section: "二", Table: "表二", Row: T2Rows[i].Key, Column: col, Line: line}})
		}
	}
	// Amounts (万元) may have decimals; counts may not.
	c.nonNegative("T2-NN", "二", "表二", cells, func(t term) bool { return strings.Contains(t.loc.Column, "金额") })
}

// narrativeKeys maps N-T3 statement keys to the table 3 rows they sum.
var narrativeKeys = []struct {
	key  string
	rows []int
}{
	{"新收", []int{0}},
	{"上年结转", []int{1}},
	{"予以公开", []int{2}},
	{"部分公开", []int{3}},
	{"不予公开", []int{4, 5, 6, 7, 8, 9, 10, 11}},
	{"无法提供", []int{12, 13, 14}},
	{"不予处理", []int{15, 16, 17, 18, 19}},
	{"其他处理", []int{20, 21, 22}},
	{"结转下年", []int{24}},
}

func (c *checker) statement(key string) *Statement {
	for i := range c.rep.Narrative {
		if c.rep.Narrative[i].Key == key {
			return &c.rep.Narrative[i]
		}
	}
	return nil
}

func stmtTerm(s *Statement) term {
	return term{name: "第一部分 " + s.Text, n: Number{Text: strconv.FormatInt(s.Value, 10), Line: s.Line},
		loc: Location{Section: "一", Line: s.Line}}
}

// narrativeT3 checks N-T3: figures stated in section 一 against table 3.
func (c *checker) narrativeT3() {
	t := &c.rep.Table3
	n := 0
	for _, nk := range narrativeKeys {
		s := c.statement(nk.key)
		if s == nil {
			continue
		}
		n++
		rows := nk.rows
		if nk.key == "其他处理" && t.singleOther() {
			rows = []int{25}
		}
		var parts []term
		for _, r := range rows {
			parts = append(parts, c.t3term(r, ColTOT))
		}
		subject := Message{
			ZH: fmt.Sprintf("第一部分所述“%s”件数应与表三总计列一致", nk.key),
			EN: fmt.Sprintf("the %s figure in section 一 must match table 3's 总计 column", nk.key),
		}
		loc := Location{Section: "一", Line: s.Line}
		if !t.Found {
			c.add(RuleResult{ID: "N-T3", Key: nk.key, Status: Uncertain, Section: "一", Actual: i64(s.Value), Location: loc,
				Operands: []Operand{stmtTerm(s).operand()},
				Message:  Message{ZH: subject.ZH + "：未找到表三", EN: subject.EN + ": table 3 not found"}})
			continue
		}
		if nk.key == "新收" {
			// The figure often includes the applications carried over.
			with := append(append([]term(nil), parts...), c.t3term(1, ColTOT))
			if e := evalEq(with, []term{stmtTerm(s)}, Warn); e.status == Pass {
				subject.ZH += "（所述件数含上年结转）"
				subject.EN += " (the figure includes the applications carried over)"
				parts = with
			}
		}
		c.eq("N-T3", nk.key, "一", subject, parts, []term{stmtTerm(s)}, Warn, loc)
	}
	if n == 0 {
		c.add(RuleResult{ID: "N-T3", Status: Pass, Section: "一", Location: Location{Section: "一", Line: c.rep.Headings[0].Line},
			Message: Message{ZH: "第一部分没有可与表三核对的申请件数", EN: "section 一 states no application figures to compare with table 3"}})
	}
}

// narrativeT4 checks N-T4: reconsideration and litigation counts stated in
// section 一 against table 4's totals.
func (c *checker) narrativeT4() {
	n := 0
	for _, k := range []struct {
		key   string
		cells []int
		zh    string
	}{{"行政复议", []int{4}, "行政复议总计"}, {"行政诉讼", []int{9, 14}, "未经复议直接起诉总计与复议后起诉总计之和"}} {
		s := c.statement(k.key)
		if s == nil {
			continue
		}
		n++
		loc := Location{Section: "一", Line: s.Line}
		subject := Message{
			ZH: fmt.Sprintf("第一部分所述%s件数应等于表四%s", k.key, k.zh),
			EN: fmt.Sprintf("the %s count in section 一 must equal table 4's total", k.key),
		}
		if !c.rep.Table4.Found {
			c.add(RuleResult{ID: "N-T4", Key: k.key, Status: Uncertain, Section: "一", Actual: i64(s.Value), Location: loc,
				Operands: []Operand{stmtTerm(s).operand()},
				Message:  Message{ZH: subject.ZH + "：未找到表四", EN: subject.EN + ": table 4 not found"}})
			continue
		}
		var parts []term
		for _, i := range k.cells {
			parts = append(parts, c.t4term(i))
		}
		c.eq("N-T4", k.key, "一", subject, parts, []term{stmtTerm(s)}, Warn, loc)
	}
	if n == 0 {
		c.add(RuleResult{ID: "N-T4", Status: Pass, Section: "一", Location: Location{Section: "一", Line: c.rep.Headings[0].Line},
			Message: Message{ZH: "第一部分没有可与表四核对的复议、诉讼件数", EN: "section 一 states no reconsideration or litigation counts to compare with table 4"}})
	}
}

// cross checks X-T3-CARRY and X-T2-STOCK against the previous year.
func (c *checker) cross(prev *Report) {
	rep := c.rep
	name := ""
	if prev.Doc != nil {
		name = prev.Doc.Name
	}
	c.res.Previous = &Previous{Name: name, Year: prev.Year, Organ: prev.Organ}
	var why *Message
	switch {
	case prev.NoText || !prev.IsReport:
		why = &Message{ZH: "上一年度报告无法读取或不是年度报告", EN: "the previous report has no text or is not an annual report"}
	case prev.Year != 0 && rep.Year != 0 && prev.Year != rep.Year-1:
		m := msg("上一年度报告的年度为 %d，应为 %d", "the previous report is for %d, not %d", prev.Year, rep.Year-1)
		why = &m
	}
	if prev.Organ != "" && rep.Organ != "" && prev.Organ != rep.Organ {
		c.res.Notes = append(c.res.Notes, fmt.Sprintf("previous report is by %s, this one by %s", prev.Organ, rep.Organ))
	}
	if why != nil {
		c.missing("X-T3-CARRY", "三", *why, Location{Section: "三", Table: "表三"})
		c.missing("X-T2-STOCK", "二", *why, Location{Section: "二", Table: "表二"})
		return
	}
	pc := &checker{rep: prev, res: &Result{}}
	for col := range 7 {
		prevTerm := pc.t3term(24, col)
		prevTerm.loc.Document = "previous"
		prevTerm.name = "上年报告 " + prevTerm.name
		cur := c.t3term(1, col)
		label := T3Columns[col].Label
		c.eq("X-T3-CARRY", T3Columns[col].Code, "三",
			Message{
				ZH: fmt.Sprintf("「%s」列：本年“上年结转”应等于上年报告“结转下年度继续办理”", label),
				EN: fmt.Sprintf("column %s: this year's 上年结转 must equal last year's 结转下年度继续办理", label),
			},
			[]term{prevTerm}, []term{cur}, Warn, cur.loc)
	}
	if rep.Format != Format2021 || prev.Format != Format2021 {
		c.missing("X-T2-STOCK", "二", Message{
			ZH: "两份报告须均为 2021 年格式（有“现行有效件数”）才能核对",
			EN: "both reports must use the 2021 format (with 现行有效件数) for this check",
		}, Location{Section: "二", Table: "表二"})
		return
	}
	for i := 0; i < 2; i++ {
		key := T2Rows[i].Key
		cell := func(r *Report, j int, doc string) term {
			row := r.Table2.Rows[i]
			n := Number{Line: row.Line}
			if j < len(row.Cells) {
				n = row.Cells[j]
			}
			col := T2Rows[i].Columns2021[j]
			t := term{name: fmt.Sprintf("表二 %s × %s", key, col), n: n,
				loc: Location{Document: doc, Section: "二", Table: "表二", Row: key, Column: col, Line: n.Line}}
			if doc != "" {
				t.name = "上年报告 " + t.name
			}
			return t
		}
		abolished := cell(rep, 1, "")
		abolished.neg = true
		c.eq("X-T2-STOCK", key, "二",
			Message{
				ZH: fmt.Sprintf("「%s」：现行有效件数应等于上年现行有效件数加本年制发件数减本年废止件数", key),
				EN: fmt.Sprintf("%s: 现行有效 must equal last year's 现行有效 + 本年制发 − 本年废止", key),
			},
			[]term{cell(prev, 2, "previous"), cell(rep, 0, ""), abolished},
			[]term{cell(rep, 2, "")}, Warn, cell(rep, 2, "").loc)
	}
}
