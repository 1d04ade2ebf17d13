package report

// Headings2021 are the six section headings of the 2021 format, exactly.
var Headings2021 = [6]string{
	"一、总体情况",
	"二、主动公开政府信息情况",
	"三、收到和处理政府信息公开申请情况",
	"四、政府信息公开行政复议、行政诉讼情况",
	"五、存在的主要问题及改进情况",
	"六、其他需要报告的事项",
}

var numerals = [6]string{"一", "二", "三", "四", "五", "六"}

// Table 3 column indexes, in the printed order.
const (
	ColNP  = iota // 自然人
	ColBIZ        // 商业企业
	ColRES        // 科研机构
	ColNGO        // 社会公益组织
	ColLAW        // 法律服务机构
	ColOTH        // 其他
	ColTOT        // 总计
)

// T3Column describes one column of table 3.
type T3Column struct {
	// Code is the short code of obligations.md §2.5 (NP, BIZ, RES, NGO,
	// LAW, OTH, TOT).
	Code string
	// Label is the column heading.
	Label string
}

// T3Columns are the seven numeric columns of table 3.
var T3Columns = [7]T3Column{
	{"NP", "自然人"},
	{"BIZ", "商业企业"},
	{"RES", "科研机构"},
	{"NGO", "社会公益组织"},
	{"LAW", "法律服务机构"},
	{"OTH", "其他"},
	{"TOT", "总计"},
}

// T3Row describes one numeric row of table 3.
type T3Row struct {
	// Label is the row label of the 2021 format, with its group prefix
	// where the printed label is only a sub-item.
	Label string
	// keys are distinctive pieces of the label (after folding to
	// half-width), any of which identifies the row.
	keys []string
}

// T3Rows are the 25 numeric rows of table 3 in the 2021 format.
var T3Rows = [25]T3Row{
	{"一、本年新收政府信息公开申请数量", []string{"本年新收", "新收政府信息公开申请", "一、本年新"}},
	{"二、上年结转政府信息公开申请数量", []string{"上年结转", "上年度结转", "上一年结转", "上一年度结转"}},
	{"（一）予以公开", []string{"予以公开"}},
	{"（二）部分公开", []string{"部分公开"}},
	{"（三）不予公开 1.属于国家秘密", []string{"国家秘密"}},
	{"（三）不予公开 2.其他法律行政法规禁止公开", []string{"其他法律行政", "法律行政法规禁止", "行政法规禁止公开"}},
	{"（三）不予公开 3.危及“三安全一稳定”", []string{"三安全一稳定", "危及"}},
	{"（三）不予公开 4.保护第三方合法权益", []string{"第三方合法权益", "保护第三方"}},
	{"（三）不予公开 5.属于三类内部事务信息", []string{"三类内部事务", "内部事务信息"}},
	{"（三）不予公开 6.属于四类过程性信息", []string{"四类过程性", "过程性信息"}},
	{"（三）不予公开 7.属于行政执法案卷", []string{"行政执法案卷", "执法案卷"}},
	{"（三）不予公开 8.属于行政查询事项", []string{"行政查询"}},
	{"（四）无法提供 1.本机关不掌握相关政府信息", []string{"不掌握"}},
	{"（四）无法提供 2.没有现成信息需要另行制作", []string{"没有现成信息", "另行制作", "现成信息"}},
	{"（四）无法提供 3.补正后申请内容仍不明确", []string{"补正后申请", "补正后", "仍不明确"}},
	{"（五）不予处理 1.信访举报投诉类申请", []string{"信访举报", "信访"}},
	{"（五）不予处理 2.重复申请", []string{"重复申请"}},
	{"（五）不予处理 3.要求提供公开出版物", []string{"公开出版物", "出版物"}},
	{"（五）不予处理 4.无正当理由大量反复申请", []string{"大量反复", "反复申请"}},
	{"（五）不予处理 5.要求行政机关确认或重新出具已获取信息", []string{"要求行政机关确认", "确认或重新", "重新出具"}},
	{"（六）其他处理 1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请", []string{"逾期不补正", "无正当理由逾期"}},
	{"（六）其他处理 2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请", []string{"逾期未按收费", "收费通知", "逾期不缴费", "缴纳费用", "不缴费"}},
	{"（六）其他处理 3.其他", []string{"3.其他", "3、其他", "3其他"}},
	{"（七）总计", []string{"(七)总计", "七)总计", "七、总计"}},
	{"四、结转下年度继续办理", []string{"结转下年", "结转下一年", "转下年度", "结转至下年"}},
}

// Extra keys tried only between the neighbours of a row that its own keys
// did not find, where a generic word cannot be mistaken for another row.
var t3FallbackKeys = map[int][]string{
	22: {"其他"}, // row 23, 3.其他
	23: {"总计"}, // row 24, （七）总计
}

// t3OtherKeys identify a single （六）其他处理 row.
var t3OtherKeys = []string{"(六)其他处理", "六)其他处理", "六、其他处理"}

// T3OtherLabel is the label of the single （六）其他处理 row.
const T3OtherLabel = "（六）其他处理"

// T4Cell describes one cell of table 4.
type T4Cell struct {
	// Block is 行政复议, 未经复议直接起诉 or 复议后起诉.
	Block string
	// Label is the column heading within the block.
	Label string
}

// T4Blocks are the three five-cell blocks of table 4, with the short keys
// used in rule results.
var T4Blocks = [3]struct{ Key, Label string }{
	{"复议", "行政复议"},
	{"直接起诉", "行政诉讼 未经复议直接起诉"},
	{"复议后起诉", "行政诉讼 复议后起诉"},
}

// T4Labels are the five column headings of each table 4 block.
var T4Labels = [5]string{"结果维持", "结果纠正", "其他结果", "尚未审结", "总计"}

// T2Row describes a row of table 2. Widths differ between the formats.
type T2Row struct {
	// Key is the row label of the 2021 format (or of the 2019 format for
	// the rows only it has).
	Key string
	// Block is the 第二十条 item the row belongs to.
	Block string
	// Columns are the column headings in the 2021 and 2019 formats; nil
	// when the row does not exist in that format.
	Columns2021, Columns2019 []string
	keys                     []string
}

// T2Rows are the rows of table 2 across the 2021 and 2019 formats.
var T2Rows = [8]T2Row{
	{"规章", "第二十条第（一）项", []string{"本年制发件数", "本年废止件数", "现行有效件数"}, []string{"本年新制作数量", "本年新公开数量", "对外公开总数量"}, []string{"规章"}},
	{"行政规范性文件", "第二十条第（一）项", []string{"本年制发件数", "本年废止件数", "现行有效件数"}, []string{"本年新制作数量", "本年新公开数量", "对外公开总数量"}, []string{"规范性文件"}},
	{"行政许可", "第二十条第（五）项", []string{"本年处理决定数量"}, []string{"上一年项目数量", "本年增/减", "处理决定数量"}, []string{"行政许可"}},
	{"其他对外管理服务事项", "第二十条第（五）项", nil, []string{"上一年项目数量", "本年增/减", "处理决定数量"}, []string{"其他对外管理服务"}},
	{"行政处罚", "第二十条第（六）项", []string{"本年处理决定数量"}, []string{"上一年项目数量", "本年增/减", "处理决定数量"}, []string{"行政处罚"}},
	{"行政强制", "第二十条第（六）项", []string{"本年处理决定数量"}, []string{"上一年项目数量", "本年增/减", "处理决定数量"}, []string{"行政强制"}},
	{"行政事业性收费", "第二十条第（八）项", []string{"本年收费金额（单位：万元）"}, []string{"上一年项目数量", "本年增/减"}, []string{"行政事业性收费", "事业性收费"}},
	{"政府集中采购", "第二十条第（九）项", nil, []string{"采购项目数量", "采购总金额"}, []string{"政府集中采购", "集中采购"}},
}

// t2Header2021 and t2Header2019 are column headings that tell the formats
// apart.
var (
	t2Header2021 = []string{"本年制发件数", "本年废止件数", "现行有效件数", "本年收费金额"}
	t2Header2019 = []string{"本年新制作数量", "本年新公开数量", "对外公开总数量", "上一年项目数量", "本年增/减", "采购总金额"}
)
