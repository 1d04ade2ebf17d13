package report

import (
	"regexp"
	"strings"
	"testing"
)

// mutate applies a regular-expression replacement that must match.
func mutate(t *testing.T, s, pattern, repl string) string {
	t.Helper()
	re := regexp.MustCompile(pattern)
	if !re.MatchString(s) {
		t.Fatalf("mutation pattern %q does not match", pattern)
	}
	return re.ReplaceAllString(s, repl)
}

// mutation changes a fixture and names rules that must then have a given
// status (every other rule may change too).
type mutation struct {
	name    string
	base    string
	edits   [][2]string // pattern, replacement
	want    map[string]Status
	outcome Outcome
}

const (
	huaianText = "text/cn-2021fmt-huaian-2024.txt"
	sampleHTML = "html/cn-2021fmt-html-layout-sample.html"
	hongzeText = "text/cn-2021fmt-hongze-2024.txt"
	trialText  = "text/cn-2019fmt-synthetic-2019.txt"
	rules2008  = "text/cn-2008rules-synthetic-2016.txt"
)

var mutations = []mutation{
	{name: "T3 cell changed: row and column sums fail", base: huaianText,
		edits: [][2]string{{`（一）予以公开(\s+)1288`, "（一）予以公开${1}1289"}},
		want:  map[string]Status{"T3-ROW[3]": Fail, "T3-RES[NP]": Fail, "T3-RES[TOT]": Pass, "T3-ID[NP]": Pass}},
	{name: "T3 carried-forward total changed: T3-ID fails", base: huaianText,
		edits: [][2]string{{`(四、结转下年度继续办理\s+103(?:\s+0){5}\s+)103`, "${1}104"}},
		want:  map[string]Status{"T3-ID[TOT]": Fail, "T3-ROW[25]": Fail, "T3-ID[NP]": Pass}},
	{name: "T3 grand total changed: T3-RES fails", base: huaianText,
		edits: [][2]string{{`(（七）总计\s+2932\s+53\s+0\s+0\s+61\s+4\s+)3050`, "${1}3051"}},
		want:  map[string]Status{"T3-RES[TOT]": Fail, "T3-ID[TOT]": Fail, "T3-ROW[24]": Fail}},
	{name: "T3 negative cell: T3-NN fails", base: huaianText,
		edits: [][2]string{{`(3\.要求提供公开出版物\s+)0`, "${1}-1"}},
		want:  map[string]Status{"T3-NN": Fail, "T3-ROW[18]": Fail}},
	{name: "T3 decimal cell: T3-NN fails, sums uncertain", base: sampleHTML,
		edits: [][2]string{{`<td>13</td>`, "<td>13.5</td>"}},
		want:  map[string]Status{"T3-NN": Fail, "T3-ROW[5]": Uncertain}},
	{name: "T3 blank cell: T3-BLANK warns, its sums are uncertain", base: sampleHTML,
		edits: [][2]string{{`<td>1\.属于国家秘密</td><td>13</td>`, "<td>1.属于国家秘密</td><td></td>"}},
		want:  map[string]Status{"T3-BLANK": Warn, "T3-ROW[5]": Uncertain, "T3-RES[NP]": Uncertain, "T3-NN": Pass}},
	{name: "T3 blank part under a total too small for the rest: FAIL whatever the blank", base: sampleHTML,
		edits: [][2]string{{`<td>147</td><td>0</td><td>0</td><td>0</td><td>1</td><td>2</td><td>150</td>`, "<td>147</td><td>0</td><td>0</td><td>0</td><td></td><td>2</td><td>100</td>"}},
		want:  map[string]Status{"T3-ROW[12]": Fail, "T3-BLANK": Warn}},
	{name: "T3 placeholder dash is blank, not zero", base: sampleHTML,
		edits: [][2]string{{`<td>3\.要求提供公开出版物</td><td>0</td>`, "<td>3.要求提供公开出版物</td><td>—</td>"}},
		want:  map[string]Status{"T3-BLANK": Warn, "T3-ROW[18]": Uncertain}},
	{name: "（六） printed as a total and as sub-rows that agree", base: huaianText,
		edits: [][2]string{{`(具已获取信息\n)`, "${1}     （六）其他处理 181 5 0 0 1 0 187\n"}},
		want:  map[string]Status{"T3-SUB": Pass, "T3-ROW[21]": Pass, "T3-RES[TOT]": Pass}},
	{name: "（六） printed as a total that disagrees with its sub-rows: T3-SUB fails", base: huaianText,
		edits: [][2]string{{`(具已获取信息\n)`, "${1}     （六）其他处理 181 5 0 0 1 0 188\n"}},
		want:  map[string]Status{"T3-SUB": Fail, "T3-RES[TOT]": Pass}},
	{name: "T4 total changed: T4-SUM and N-T4 fail/warn", base: huaianText,
		edits: [][2]string{{`72(\s+)64(\s+)178(\s+)37(\s+)351`, "72${1}64${2}178${3}37${4}350"}},
		want:  map[string]Status{"T4-SUM[复议]": Fail, "T4-SUM[直接起诉]": Pass, "N-T4[行政复议]": Warn}},
	{name: "T4 negative cell: T4-NN fails", base: sampleHTML,
		edits: [][2]string{{`<td>16</td><td>1</td><td>12</td><td>27</td><td>56</td>`, "<td>16</td><td>-1</td><td>14</td><td>27</td><td>56</td>"}},
		want:  map[string]Status{"T4-NN": Fail, "T4-SUM[直接起诉]": Pass}},
	{name: "T4 blank cell: T4-SUM uncertain", base: sampleHTML,
		edits: [][2]string{{`<td>376</td>`, "<td></td>"}},
		want:  map[string]Status{"T4-SUM[复议]": Uncertain}},
	{name: "T2 negative count: T2-NN fails", base: huaianText,
		edits: [][2]string{{`规章(\s+)1(\s+)0`, "规章${1}-1${2}0"}},
		want:  map[string]Status{"T2-NN": Fail}},
	{name: "T2 negative fee: T2-NN fails", base: sampleHTML,
		edits: [][2]string{{`316441`, "-316441"}},
		want:  map[string]Status{"T2-NN": Fail}},
	{name: "heading removed: S-SECT fails", base: huaianText,
		edits: [][2]string{{`五、存在的主要问题及改进情况`, ""}},
		want:  map[string]Status{"S-SECT": Fail}},
	{name: "headings out of order: S-SECT fails", base: sampleHTML,
		edits: [][2]string{{`<p>五、存在问题及改进情况</p>`, "<p>改进</p>"}, {`<p>一、总体情况</p>`, "<p>五、存在问题及改进情况</p>"}},
		want:  map[string]Status{"S-SECT": Fail}},
	{name: "section 六 empty: S-SECT warns, S-FEE warns", base: sampleHTML,
		edits: [][2]string{{`<p>依据《政府信息公开信息处理费管理办法》[^<]*</p>`, ""}},
		want:  map[string]Status{"S-SECT": Warn, "S-FEE": Warn}},
	{name: "heading 四 without its numeral still found", base: huaianText,
		edits: [][2]string{{`四、政府信息公开行政复议、行政诉讼情况`, "政府信息公开行政复议、行政诉讼情况"}},
		want:  map[string]Status{"S-SECT": Pass, "T4-SUM[复议]": Pass}},
	{name: "heading 四 split over two lines still found", base: huaianText,
		edits: [][2]string{{`四、政府信息公开行政复议、行政诉讼情况`, "四、政府信息公开行政复议、\n行政诉讼情况"}},
		want:  map[string]Status{"S-SECT": Pass, "T4-SUM[复议]": Pass}},
	{name: "heading numeral on its own line", base: huaianText,
		edits: [][2]string{{`二、主动公开政府信息情况`, "二、\n主动公开政府信息情况"}},
		want:  map[string]Status{"S-SECT": Pass, "T2-NN": Pass}},
	{name: "2019 wording of heading 五 accepted", base: huaianText,
		edits: [][2]string{{`五、存在的主要问题及改进情况`, "五、政府信息公开工作存在的主要问题及改进情况"}},
		want:  map[string]Status{"S-SECT": Pass}},
	{name: "half-width brackets and stray spaces in labels", base: huaianText,
		edits: [][2]string{{`（一）予以公开`, "(一) 予以 公开"}, {`（七）总计`, "(七)总 计"}, {`第二十条 第（一）项`, "第二十条 第 (一) 项"}},
		want:  map[string]Status{"T3-ROW[3]": Pass, "T3-RES[TOT]": Pass, "T3-ID[TOT]": Pass}},
	{name: "short labels 逾期不补正 / 逾期不缴费", base: sampleHTML,
		edits: [][2]string{{`1\.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请`, "1.逾期不补正"}, {`2\.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请`, "2.逾期不缴费"}},
		want:  map[string]Status{"T3-ROW[21]": Pass, "T3-ROW[22]": Pass, "T3-RES[TOT]": Pass}},
	{name: "2019 format: a negative count fails T2-NN (a negative 本年增/减 does not)", base: trialText,
		edits: [][2]string{{`行政强制 5 0 12`, "行政强制 5 0 -12"}},
		want:  map[string]Status{"T2-NN": Fail}},
	{name: "2019 format: the single （六） row counts in the results", base: trialText,
		edits: [][2]string{{`（六）其他处理 0 0 0 0 0 0 0`, "（六）其他处理 1 0 0 0 0 0 1"}},
		want:  map[string]Status{"T3-RES[NP]": Fail, "T3-RES[TOT]": Fail, "T3-ROW[六]": Pass, "T3-ID[NP]": Pass}},
	{name: "2019 format: carried-forward changed, T3-ID fails", base: trialText,
		edits: [][2]string{{`四、结转下年度继续办理 2 0 0 0 0 0 2`, "四、结转下年度继续办理 3 0 0 0 0 0 3"}},
		want:  map[string]Status{"T3-ID[NP]": Fail, "T3-ID[TOT]": Fail, "N-T3[结转下年]": Warn}},
	{name: "2008 rules: the fees part missing, S-SECT warns", base: rules2008,
		edits: [][2]string{{`四、政府信息公开的收费及减免情况\n\n全年未收取政府信息公开相关费用。\n\n`, ""}},
		want:  map[string]Status{"S-SECT": Warn, "S-PERIOD": Pass}},
	{name: "no 信息处理费 in section 六: S-FEE warns", base: huaianText,
		edits: [][2]string{{`信息处理费`, "费用"}},
		want:  map[string]Status{"S-FEE": Warn}},
	{name: "period of another year: S-PERIOD warns", base: huaianText,
		edits: [][2]string{{`自 2024 年 1 月 1 日至 2024 年 12 月 31 日`, "自 2023 年 1 月 1 日至 2023 年 12 月 31 日"}},
		want:  map[string]Status{"S-PERIOD": Warn}},
	{name: "no period: S-PERIOD warns", base: huaianText,
		edits: [][2]string{{`报告所列统计期限自 2024 年 1 月 1 日至 2024 年 12 月 31 日。`, ""}},
		want:  map[string]Status{"S-PERIOD": Warn}},
	{name: "narrative received figure differs: N-T3 warns", base: huaianText,
		edits: [][2]string{{`受理政府信息公开申请 3119 件`, "受理政府信息公开申请 3100 件"}},
		want:  map[string]Status{"N-T3[新收]": Warn, "N-T3[上年结转]": Pass}},
	{name: "narrative carried-forward figure differs: N-T3 warns", base: huaianText,
		edits: [][2]string{{`另有 103 件`, "另有 13 件"}},
		want:  map[string]Status{"N-T3[结转下年]": Warn}},
	{name: "narrative litigation figure differs: N-T4 warns", base: huaianText,
		edits: [][2]string{{`政府信息公开行政诉讼 46 件`, "政府信息公开行政诉讼 45 件"}},
		want:  map[string]Status{"N-T4[行政诉讼]": Warn, "N-T4[行政复议]": Pass}},
	{name: "no reconsideration in the narrative counts as zero", base: hongzeText,
		edits: [][2]string{{`均已在法定期限内予以答复。`, "均已在法定期限内予以答复。全年未发生政府信息公开行政复议案件。"}},
		want:  map[string]Status{"N-T4[行政复议]": Warn}},
	{name: "table of contents before the headings is skipped", base: huaianText,
		edits: [][2]string{{`(\n\s+本报告由淮安市人民政府办公室)`, "\n目录\n一、总体情况……1\n二、主动公开政府信息情况……3\n三、收到和处理政府信息公开申请情况……4\n四、政府信息公开行政复议、行政诉讼情况……5\n五、存在的主要问题及改进情况……5\n六、其他需要报告的事项……6${1}"}},
		want:  map[string]Status{"S-SECT": Pass, "N-T3[新收]": Pass}},
	{name: "not a report", base: huaianText,
		edits:   [][2]string{{`(?s)^.*$`, "关于做好2025年元旦春节期间安全生产工作的通知\n各县区人民政府：元旦春节将至，为切实做好节日期间安全生产工作，确保人民群众度过欢乐祥和的节日，现就有关事项通知如下。"}},
		outcome: NotAReport},
}

func TestMutations(t *testing.T) {
	c := NewChecker(pureGo)
	defer c.Close()
	for _, m := range mutations {
		t.Run(m.name, func(t *testing.T) {
			s := string(readFixture(t, m.base))
			for _, e := range m.edits {
				s = mutate(t, s, e[0], e[1])
			}
			_, res := check(t, c, m.base, []byte(s), nil)
			want := m.outcome
			if want == "" {
				want = Checked
			}
			if res.Outcome != want {
				t.Fatalf("outcome %s, want %s", res.Outcome, want)
			}
			for name, st := range m.want {
				r := findRule(res, name)
				if r == nil {
					t.Errorf("%s not evaluated", name)
					continue
				}
				if r.Status != st {
					t.Errorf("%s = %s, want %s: %s", name, r.Status, st, r.Message.EN)
				}
				if st == Fail || st == Warn {
					if len(r.Operands) == 0 && r.Expected == nil && r.ID != "S-SECT" && r.ID != "S-FEE" && r.ID != "S-PERIOD" {
						t.Errorf("%s %s carries no numbers", name, st)
					}
				}
			}
			if failed := res.Failed(); len(failed) > 0 {
				for _, id := range failed {
					if !strings.Contains(strings.Join(keys(m.want), " "), id) && res.Worst(id) == Fail {
						t.Logf("also failing: %s", id)
					}
				}
			}
		})
	}
}

func keys(m map[string]Status) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// previousYear turns the Huai'an 2024 report into a consistent 2023
// report: its carried-forward row equals 2024's carried-over row, and its
// 现行有效 counts are 2024's minus 制发 plus 废止.
func previousYear(t *testing.T, s string) string {
	s = mutate(t, s, `2024 年政府信息公开工作年度报告`, "2023 年政府信息公开工作年度报告")
	s = mutate(t, s, `自 2024 年 1 月 1 日至 2024 年 12 月 31 日`, "自 2023 年 1 月 1 日至 2023 年 12 月 31 日")
	s = mutate(t, s, `四、结转下年度继续办理\s+103(?:\s+0){5}\s+103`, "四、结转下年度继续办理 34 0 0 0 0 0 34")
	s = mutate(t, s, `规章(\s+)1(\s+)0(\s+)11`, "规章${1}1${2}0${3}10")
	s = mutate(t, s, `行政规范性文件(\s+)8(\s+)26(\s+)66`, "行政规范性文件${1}8${2}26${3}84")
	return s
}

func TestCrossYear(t *testing.T) {
	c := NewChecker(pureGo)
	defer c.Close()
	cur := readFixture(t, huaianText)
	cases := []struct {
		name  string
		edits [][2]string
		want  map[string]Status
	}{
		{"consistent", nil, map[string]Status{"X-T3-CARRY[TOT]": Pass, "X-T3-CARRY[NP]": Pass, "X-T2-STOCK[规章]": Pass, "X-T2-STOCK[行政规范性文件]": Pass}},
		{"carry-over differs", [][2]string{{`四、结转下年度继续办理 34 0 0 0 0 0 34`, "四、结转下年度继续办理 35 0 0 0 0 0 35"}},
			map[string]Status{"X-T3-CARRY[NP]": Warn, "X-T3-CARRY[TOT]": Warn, "X-T3-CARRY[BIZ]": Pass}},
		{"stock differs", [][2]string{{`规章(\s+)1(\s+)0(\s+)10`, "规章${1}1${2}0${3}9"}},
			map[string]Status{"X-T2-STOCK[规章]": Warn, "X-T2-STOCK[行政规范性文件]": Pass}},
		{"not the year before", [][2]string{{`2023 年政府信息公开工作年度报告`, "2022 年政府信息公开工作年度报告"}},
			map[string]Status{"X-T3-CARRY": Uncertain, "X-T2-STOCK": Uncertain}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := previousYear(t, string(cur))
			for _, e := range tc.edits {
				p = mutate(t, p, e[0], e[1])
			}
			prev, err := c.Read(t.Context(), "prev.txt", []byte(p))
			if err != nil {
				t.Fatal(err)
			}
			_, res := check(t, c, huaianText, cur, prev)
			if res.Previous == nil || res.Previous.Year == 0 {
				t.Errorf("previous report not recorded: %+v", res.Previous)
			}
			for name, st := range tc.want {
				r := findRule(res, name)
				if r == nil {
					t.Errorf("%s not evaluated", name)
					continue
				}
				if r.Status != st {
					t.Errorf("%s = %s, want %s: %s", name, r.Status, st, r.Message.EN)
				}
			}
		})
	}
}
