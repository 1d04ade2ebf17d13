package portalsim

import (
	_ "embed"
	"fmt"
	"html/template"
	"strconv"
	"strings"

	"github.com/gongkai/gongkai/services/internal/budget"
)

// budgetPDF is a department budget (示范市财政局2025年部门预算, its
// explanations and the eight standard tables) as a PDF, made by LibreOffice
// from content/budget-2025.html, which BudgetHTML wrote:
//
//	soffice --headless --infilter="HTML (StarWriter)" --convert-to pdf:writer_pdf_Export budget-2025.html
//
// Like the report PDF, its text cannot be substituted: every PDF budget
// attachment is this one.
//
//go:embed content/budget-2025.pdf
var budgetPDF []byte

// budgetPDFSite is the site and budget the embedded PDF was made from.
var budgetPDFSite, budgetPDFBudget = Site{AgencyID: "demo-czj", Name: "示范市财政局"}, Budget{Year: 2025}

// FaultBudgetMissingTables is the fault Generate gives to agencies whose
// newest budget omits the 三公 table and the 政府性基金 table (Budget.Omit).
const FaultBudgetMissingTables = "budget_missing_tables"

// BudgetTables are the eight standard tables of a department budget, in
// the order they are published; Budget.Omit names them.
var BudgetTables = budget.Tables(budget.KindBudget)

// finalAccountsTables are the tables of the usual final-accounts template.
var finalAccountsTables = budget.Tables(budget.KindFinalAccounts)

// budgetTitleVariants are the other ways portals title the budget tables
// (by BudgetTables index): with 预算 inserted, ASCII quotes.
var budgetTitleVariants = []string{
	"收支预算总表", "收入预算总表", "支出预算总表", "财政拨款收支预算总表", "一般公共预算支出预算表",
	"一般公共预算基本支出预算表", `"三公"经费支出预算表`, "政府性基金预算支出预算表",
}

var cnNumbers = []string{"一", "二", "三", "四", "五", "六", "七", "八", "九", "十"}

// budgetDoc is the content of a budget or final-accounts document: the
// explanations and the tables.
type budgetDoc struct {
	Title      string
	Paragraphs []string
	Tables     []budgetTable
}

type budgetTable struct {
	Title string
	Rows  [][]string // the first row is the header
}

// budgetDoc builds a budget's document for the site: amounts and the
// style of the table titles vary with the agency.
func (st *site) budgetDoc(b Budget) budgetDoc {
	h := hash64(st.AgencyID, strconv.Itoa(b.Year), strconv.FormatBool(b.Final))
	wan := func(k uint64) int64 { // an amount in hundredths of 万元
		return 5000 + int64((h>>(k%48))%90000)
	}
	total := wan(11) + wan(14)
	operating := fmtWan(wan(7) / 4)
	three, receptions := fmtWan(wan(22)%2000+wan(23)%1500), fmtWan(wan(23)%1500) // as in table 7
	d := budgetDoc{Title: b.title(st.Name)}
	word, tables := b.word(), BudgetTables
	if b.Final {
		tables = finalAccountsTables
	}
	d.Paragraphs = []string{
		d.Title,
		fmt.Sprintf("一、部门主要职责。%s是市人民政府工作部门，负责本行业领域的统筹规划、政策制定和监督管理。", st.Name),
		fmt.Sprintf("二、收支%s总体情况。%d年收入%s%s万元，支出%s%s万元。", word, b.Year, word, fmtWan(total), word, fmtWan(total)),
		fmt.Sprintf("三、机关运行经费情况说明。%d年本部门机关运行经费%s%s万元，主要用于办公费、水电费、差旅费等日常公用经费。", b.Year, word, operating),
		fmt.Sprintf("四、“三公”经费%s情况说明。%d年“三公”经费%s%s万元，其中公务接待费%s万元。", word, b.Year, word, three, receptions),
		"五、名词解释。机关运行经费：指为保障行政单位运行用于购买货物和服务的各项资金。",
	}
	style := h % 3
	for i, name := range tables {
		if contains(b.Omit, name) {
			continue
		}
		title := name
		switch {
		case b.Final:
			title = fmt.Sprintf("表%d %s%d年%s", i+1, st.Name, b.Year, name)
		case style == 0:
			title = fmt.Sprintf("表%d %s%d年部门%s", i+1, st.Name, b.Year, strings.TrimPrefix(name, "部门"))
		case style == 1:
			title = fmt.Sprintf("%s、%s", cnNumbers[i], budgetTitleVariants[i])
		default:
			title = fmt.Sprintf("附表%d：%s", i+1, name)
		}
		d.Tables = append(d.Tables, budgetTable{Title: title, Rows: budgetRows(i, b.Final, wan)})
	}
	return d
}

// fmtWan formats hundredths of 万元.
func fmtWan(v int64) string { return fmt.Sprintf("%d.%02d", v/100, v%100) }

// budgetRows returns the rows of the i-th table (header first); totals add
// up.
func budgetRows(i int, final bool, wan func(uint64) int64) [][]string {
	col := "预算数"
	if final {
		col = "决算数"
	}
	switch i {
	case 0:
		gpb, other := wan(11), wan(14)
		a := (gpb + other) / 2
		return [][]string{
			{"收入项目", col, "支出项目", col},
			{"一、一般公共预算拨款收入", fmtWan(gpb), "一、一般公共服务支出", fmtWan(a)},
			{"二、政府性基金预算拨款收入", "0.00", "二、社会保障和就业支出", fmtWan(gpb + other - a)},
			{"三、事业收入", fmtWan(other), "", ""},
			{"收入总计", fmtWan(gpb + other), "支出总计", fmtWan(gpb + other)},
		}
	case 6:
		car, rec := wan(22)%2000, wan(23)%1500
		return [][]string{
			{"合计", "因公出国（境）费", "公务用车购置及运行费", "公务接待费"},
			{fmtWan(car + rec), "0.00", fmtWan(car), fmtWan(rec)},
		}
	case 7:
		return [][]string{
			{"科目编码", "科目名称", "合计"},
			{"", "本部门无政府性基金预算拨款安排的支出", "0.00"},
		}
	}
	k := uint64(31 + 3*i)
	b1, p1, b2 := wan(k), wan(k+1), wan(k+2)
	return [][]string{
		{"科目编码", "科目名称", "合计", "基本支出", "项目支出"},
		{"201", "一般公共服务支出", fmtWan(b1 + p1), fmtWan(b1), fmtWan(p1)},
		{"208", "社会保障和就业支出", fmtWan(b2), fmtWan(b2), "0.00"},
		{"", "合计", fmtWan(b1 + p1 + b2), fmtWan(b1 + b2), fmtWan(p1)},
	}
}

func (b Budget) slug() string {
	return fmt.Sprintf("%s/t%s_%d%d.html", b.Published.Format("200601"), b.Published.Format("20060102"), b.Year, boolInt(b.Final))
}

func (b Budget) attachment() string {
	return fmt.Sprintf("%s/P0%s_%d%d.%s", b.Published.Format("200601"), b.Published.Format("20060102"), b.Year, boolInt(b.Final), b.Format)
}

// budgetDetail renders a budget item's detail page: the document inline,
// or a notice linking the attachment.
func (st *site) budgetDetail(d *detailData, b Budget) {
	if b.Format != FormatHTML {
		d.Paragraphs = []string{fmt.Sprintf("根据《中华人民共和国预算法》规定，现将本部门%d年部门%s予以公开，详见附件。", b.Year, b.word())}
		d.Attachment = "../" + b.attachment()
		d.AttachTitle = d.Title + "." + b.Format
		return
	}
	doc := st.budgetDoc(b)
	d.Paragraphs = doc.Paragraphs[1:]
	d.Tables = doc.Tables
}

// budgetAttachment returns the document of a budget attachment.
func (st *site) budgetAttachment(b Budget) ([]byte, string) {
	if b.Format == FormatPDF {
		return budgetPDF, "application/pdf"
	}
	doc := st.budgetDoc(b)
	var paras []docxBlock
	for _, p := range doc.Paragraphs {
		paras = append(paras, docxBlock{text: p})
	}
	for _, t := range doc.Tables {
		paras = append(paras, docxBlock{text: t.Title}, docxBlock{rows: t.Rows})
	}
	return buildDOCX(paras), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
}

// BudgetHTML writes the HTML page the embedded budget PDF was made from.
func BudgetHTML() string {
	st := &site{Site: &budgetPDFSite}
	doc := st.budgetDoc(budgetPDFBudget)
	var b strings.Builder
	_ = budgetHTMLTmpl.Execute(&b, doc)
	return b.String()
}

var budgetHTMLTmpl = template.Must(template.New("budget").Parse(`<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{{.Title}}</title></head>
<body>
<h1>{{.Title}}</h1>
{{range .Paragraphs}}<p>{{.}}</p>
{{end}}{{range .Tables}}<p><b>{{.Title}}</b></p>
<table border="1">{{range .Rows}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>{{end}}</table>
{{end}}</body></html>
`))
