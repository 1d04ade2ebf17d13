package portalsim

import (
	"archive/zip"
	"bytes"
	"fmt"
	"hash/fnv"
	"html/template"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"
)

// columnDef is one standard column of a simulated portal.
type columnDef struct {
	key, name, seg string
	page           bool // a content page, not a list
	home           bool // linked from the home page, not the 政府信息公开 page
}

// standardColumns are the columns every simulated site has (unless
// Missing), in the order the section page lists them. Keys are those of
// the rule packs' locators.
func standardColumns() []columnDef {
	return []columnDef{
		{key: "news", name: "工作动态", seg: "gzdt", home: true},
		{key: "notices", name: "通知公告", seg: "tzgg", home: true},
		{key: "org_intro", name: "机构简介", seg: "jgjj", page: true},
		{key: "leaders", name: "领导介绍", seg: "ldjs", page: true},
		{key: "ogi_guide", name: "政府信息公开指南", seg: "zn", page: true},
		{key: "ogi_rules", name: "政府信息公开制度", seg: "zd"},
		{key: "statutory_disclosure", name: "法定主动公开内容", seg: "fdzdgknr"},
		{key: "ogi_catalogue", name: "政府信息公开目录", seg: "gkml"},
		{key: "personnel_planning", name: "人事信息", seg: "rsxx"},
		{key: "annual_report", name: "政府信息公开年报", seg: "ndbg"},
		{key: "budget_final_accounts", name: "预决算公开", seg: "yjs"},
		{key: "policy_interpretation", name: "政策解读", seg: "zcjd"},
		{key: "ogi_request", name: "依申请公开", seg: "ysqgk", page: true},
	}
}

// site is a Site with its generated content.
type site struct {
	*Site
	asOf    time.Time
	columns []*column
	bySeg   map[string]*column
}

type column struct {
	columnDef
	missing, blank bool
	items          []item // newest first
}

type item struct {
	title  string
	date   time.Time
	slug   string // path below the column, such as 202601/t20260120_3.html
	report *Report
	budget *Budget
}

func hash64(parts ...string) uint64 {
	h := fnv.New64a()
	for _, p := range parts {
		_, _ = h.Write([]byte(p))
		_, _ = h.Write([]byte{0})
	}
	return h.Sum64()
}

// build generates the site's columns deterministically from its settings.
func build(s *Site, asOf time.Time) *site {
	loc := time.FixedZone("CST", 8*3600)
	asOf = asOf.In(loc)
	today := time.Date(asOf.Year(), asOf.Month(), asOf.Day(), 0, 0, 0, 0, loc)
	st := &site{Site: s, asOf: asOf, bySeg: map[string]*column{}}
	seed := strconv.FormatUint(s.Seed, 10)
	for _, def := range standardColumns() {
		c := &column{columnDef: def, missing: contains(s.Missing, def.key), blank: contains(s.Blank, def.key)}
		if def.key == "annual_report" && s.has(FaultNoReportColumn) {
			c.missing = true
		}
		st.columns = append(st.columns, c)
		st.bySeg[def.seg] = c
		if c.blank || def.page {
			continue
		}
		switch def.key {
		case "annual_report":
			for _, r := range sortedReports(s.Reports) {
				r := r
				c.items = append(c.items, item{title: r.title(s.Name), date: r.Published, slug: r.slug(), report: &r})
			}
			continue
		case "budget_final_accounts":
			if len(s.Budgets) > 0 {
				bs := append([]Budget(nil), s.Budgets...)
				sortBudgets(bs)
				for i := range bs {
					b := bs[i]
					c.items = append(c.items, item{title: b.title(s.Name), date: b.Published, slug: b.slug(), budget: &b})
				}
				continue
			}
		}
		h := hash64(seed, s.AgencyID, def.key)
		n := 4 + int(h%18)
		var newest time.Time
		switch def.key {
		case "news":
			newest = today.AddDate(0, 0, -int(h>>8%6))
		case "notices":
			newest = today.AddDate(0, 0, -int(h>>8%40))
		default:
			newest = today.AddDate(0, 0, -int(h>>8%120))
		}
		if contains(s.Stale, def.key) {
			newest = today.Add(-StaleAge)
		}
		d := newest
		for i := 0; i < n; i++ {
			c.items = append(c.items, item{
				title: fmt.Sprintf("%s%s（%d）", s.Name, itemTopic(def.key, h+uint64(i)), n-i),
				date:  d,
				slug:  fmt.Sprintf("%s/t%s_%d.html", d.Format("200601"), d.Format("20060102"), n-i),
			})
			d = d.AddDate(0, 0, -(3 + int((h>>uint(i%40))%17)))
		}
	}
	return st
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func sortBudgets(bs []Budget) {
	for i := 1; i < len(bs); i++ {
		for j := i; j > 0 && bs[j].Published.After(bs[j-1].Published); j-- {
			bs[j], bs[j-1] = bs[j-1], bs[j]
		}
	}
}

func itemTopic(key string, h uint64) string {
	topics := map[string][]string{
		"news":                  {"召开工作推进会", "开展专题调研", "举办业务培训", "部署重点工作"},
		"notices":               {"关于做好有关工作的通知", "公示公告", "关于征求意见的公告"},
		"ogi_rules":             {"政府信息公开工作制度", "信息发布审查制度", "政府信息公开保密审查办法"},
		"statutory_disclosure":  {"行政许可事项", "规范性文件", "重大行政决策", "财政资金使用情况"},
		"policy_interpretation": {"政策解读", "图解政策", "新闻发布会文字实录"},
		"ogi_catalogue":         {"政府信息公开目录条目", "主动公开事项"},
		"personnel_planning":    {"干部任前公示", "人事任免通知", "公开招聘公告"},
		"budget_final_accounts": {"预决算说明", "三公经费说明"},
	}
	t := topics[key]
	if len(t) == 0 {
		return "信息"
	}
	return t[h%uint64(len(t))]
}

func (r Report) slug() string {
	return fmt.Sprintf("%s/t%s_%d.html", r.Published.Format("200601"), r.Published.Format("20060102"), r.Year)
}

func (r Report) attachment() string {
	return fmt.Sprintf("%s/P0%s_%d.%s", r.Published.Format("200601"), r.Published.Format("20060102"), r.Year, r.Format)
}

func (r Report) title(name string) string {
	return fmt.Sprintf("%s%d年政府信息公开工作年度报告", name, r.Year)
}

func (b Budget) title(name string) string {
	return fmt.Sprintf("%s%d年部门%s", name, b.Year, b.word())
}

// word is what the document is: a budget (预算) or final accounts (决算).
func (b Budget) word() string {
	if b.Final {
		return "决算"
	}
	return "预算"
}

// pages lists what an audit reads: the home page, the section page, every
// column's first page (every page of the report and budget columns), the
// two newest reports' detail pages and their attachments, and the detail
// pages and attachments of the two newest years of budgets and of final
// accounts.
func (st *site) pages() []string {
	out := []string{"", "zfxxgk/"}
	for _, c := range st.columns {
		if c.missing {
			continue
		}
		out = append(out, "zfxxgk/"+c.seg+"/")
		if c.key == "annual_report" || c.key == "budget_final_accounts" {
			for p := 1; p < st.listPages(c); p++ {
				out = append(out, fmt.Sprintf("zfxxgk/%s/index_%d.html", c.seg, p))
			}
		}
		if c.key == "annual_report" {
			for i, it := range c.items {
				if i >= 2 {
					break
				}
				out = append(out, "zfxxgk/ndbg/"+it.slug)
				if it.report.Format != FormatHTML {
					out = append(out, "zfxxgk/ndbg/"+it.report.attachment())
				}
			}
		}
		if c.key == "budget_final_accounts" && !c.blank {
			// The two newest years of budgets and of final accounts.
			years := map[bool]map[int]bool{false: {}, true: {}}
			for _, it := range c.items {
				b := it.budget
				if b == nil || (len(years[b.Final]) >= 2 && !years[b.Final][b.Year]) {
					continue
				}
				years[b.Final][b.Year] = true
				out = append(out, "zfxxgk/yjs/"+it.slug)
				if b.Format != FormatHTML {
					out = append(out, "zfxxgk/yjs/"+b.attachment())
				}
			}
		}
	}
	return out
}

func (st *site) listPages(c *column) int {
	return max(1, (len(c.items)+st.PageSize-1)/st.PageSize)
}

// serve answers a request for path rest below the site's base path.
func (st *site) serve(w http.ResponseWriter, r *http.Request, rest string) {
	var err error
	var buf bytes.Buffer
	switch {
	case rest == "" || rest == "index.html":
		err = homeTmpl.Execute(&buf, st.homeData())
	case rest == "zfxxgk/" || rest == "zfxxgk/index.html":
		err = gkTmpl.Execute(&buf, st)
	case strings.HasPrefix(rest, "zfxxgk/"):
		seg, tail, _ := strings.Cut(strings.TrimPrefix(rest, "zfxxgk/"), "/")
		c, ok := st.bySeg[seg]
		if !ok || c.missing {
			http.NotFound(w, r)
			return
		}
		if body, ctype, ok := st.attachment(c, tail); ok {
			w.Header().Set("Content-Type", ctype)
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			_, _ = w.Write(body)
			return
		}
		err = st.columnPage(&buf, c, tail)
	default:
		err = errNotFound
	}
	if err == errNotFound {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	st.writeHTML(w, r, buf.Bytes())
}

// writeHTML writes an HTML page in the site's charset, with an ETag so
// that conditional requests are answered 304 (unless NoValidators).
func (st *site) writeHTML(w http.ResponseWriter, r *http.Request, body []byte) {
	ct := "text/html; charset=utf-8"
	if st.Charset != CharsetUTF8 {
		switch st.Charset {
		case CharsetGBK:
			ct = "text/html; charset=GBK"
			body = bytes.Replace(body, []byte(`<meta charset="utf-8">`), []byte(`<meta charset="gbk">`), 1)
		case CharsetGBKMeta:
			ct = "text/html"
			body = bytes.Replace(body, []byte(`<meta charset="utf-8">`), []byte(`<meta http-equiv="Content-Type" content="text/html; charset=gb2312">`), 1)
		default:
			ct = "text/html"
			body = bytes.Replace(body, []byte(`<meta charset="utf-8">`), nil, 1)
		}
		if enc, err := simplifiedchinese.GBK.NewEncoder().Bytes(body); err == nil {
			body = enc
		}
	}
	w.Header().Set("Content-Type", ct)
	if !st.NoValidators {
		etag := fmt.Sprintf(`"%x"`, hash64(string(body)))
		w.Header().Set("ETag", etag)
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	_, _ = w.Write(body)
}

func (st *site) attachment(c *column, tail string) ([]byte, string, bool) {
	if c.key == "budget_final_accounts" {
		for _, it := range c.items {
			if b := it.budget; b != nil && b.Format != FormatHTML && b.attachment() == tail {
				body, ctype := st.budgetAttachment(*b)
				return body, ctype, true
			}
		}
		return nil, "", false
	}
	if c.key != "annual_report" {
		return nil, "", false
	}
	for _, it := range c.items {
		rep := it.report
		if rep.Format == FormatHTML || rep.attachment() != tail {
			continue
		}
		if rep.Format == FormatPDF {
			return reportPDF, "application/pdf", true
		}
		return st.reportDOCX(*rep), "application/vnd.openxmlformats-officedocument.wordprocessingml.document", true
	}
	return nil, "", false
}

type listItem struct {
	Title, Href, Date string
}

type listPage struct {
	Site       *Site
	Column     string
	Items      []listItem
	Page       int // 1-based
	NextHref   string
	TotalPages int
	Layout     string
	Blank      bool
}

func (st *site) columnPage(buf *bytes.Buffer, c *column, tail string) error {
	if c.page {
		d := struct {
			Site   *Site
			Column string
			Text   string
		}{st.Site, c.name, ""}
		if !c.blank {
			d.Text = pageText(st.Name, c.key)
		}
		return pageTmpl.Execute(buf, d)
	}
	page := 0
	switch {
	case tail == "" || tail == "index.html":
	case strings.HasPrefix(tail, "index_") && strings.HasSuffix(tail, ".html"):
		n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(tail, "index_"), ".html"))
		if err != nil || n < 1 {
			return errNotFound
		}
		page = n
	default:
		for _, it := range c.items {
			if it.slug == tail {
				return st.detail(buf, c, it)
			}
		}
		return errNotFound
	}
	pages := st.listPages(c)
	if page >= pages {
		return errNotFound
	}
	d := listPage{Site: st.Site, Column: c.name, Page: page + 1, TotalPages: pages, Layout: st.Layout, Blank: c.blank}
	depth := ""
	for _, it := range c.items[min(len(c.items), page*st.PageSize):min(len(c.items), (page+1)*st.PageSize)] {
		date := it.date.Format("2006-01-02")
		switch st.Layout {
		case LayoutTable:
			date = it.date.Format("2006年1月2日")
		case LayoutTRS:
			if it.date.Year() == st.asOf.Year() {
				date = it.date.Format("[01-02]")
			}
		}
		d.Items = append(d.Items, listItem{Title: it.title, Href: "./" + depth + it.slug, Date: date})
	}
	if page+1 < pages {
		d.NextHref = fmt.Sprintf("index_%d.html", page+1)
	}
	return listTmpl.Execute(buf, d)
}

func pageText(name, key string) string {
	switch key {
	case "org_intro":
		return name + "是市人民政府工作部门，主要职责是贯彻落实党中央、国务院和省委、省政府有关方针政策和决策部署，负责本行业领域的统筹规划、政策制定和监督管理。办公地址：示范市政务中心；办公时间：工作日上午9:00-12:00，下午13:30-17:30；联系电话：0000-12345678。"
	case "leaders":
		return "局长：张某某，负责全面工作。副局长：李某某，负责办公室、财务审计工作。副局长：王某某，负责政策法规、信息公开工作。"
	case "ogi_guide":
		return "为了更好地提供政府信息公开服务，根据《中华人民共和国政府信息公开条例》，编制本指南。一、主动公开：公开范围、公开形式、公开时限。二、依申请公开：受理机构" + name + "办公室，办公地址、办公时间、联系电话、传真、电子邮箱。三、监督和救济。"
	case "ogi_request":
		return "公民、法人或者其他组织可以通过信函、传真、网上申请等方式向" + name + "提出政府信息公开申请。受理机构：" + name + "办公室；通信地址：示范市政务中心；邮政编码：000000；联系电话：0000-12345678。"
	}
	return name + "相关信息。"
}

type detailData struct {
	Site        *Site
	Title       string
	Date        string
	Paragraphs  []string
	Tables      []budgetTable
	Attachment  string
	AttachTitle string
}

func (st *site) detail(buf *bytes.Buffer, c *column, it item) error {
	d := detailData{Site: st.Site, Title: it.title, Date: it.date.Format("2006-01-02")}
	switch {
	case it.report != nil && it.report.Format != FormatHTML:
		d.Paragraphs = []string{"根据《中华人民共和国政府信息公开条例》规定，现将本机关" + strconv.Itoa(it.report.Year) + "年政府信息公开工作年度报告予以公布，详见附件。"}
		d.Attachment = "../" + it.report.attachment()
		d.AttachTitle = it.title + "." + it.report.Format
	case it.report != nil:
		d.Paragraphs = st.reportLines(*it.report)
	case it.budget != nil:
		st.budgetDetail(&d, *it.budget)
	default:
		d.Paragraphs = []string{it.title + "。正文内容略。"}
	}
	return detailTmpl.Execute(buf, d)
}

// reTable3Row is the row of table 3 an arithmetic error is put into.
var reTable3Row = regexp.MustCompile(`(一、本年新收政府信息公开申请数量\s+)(\d+)`)

// reportLines returns the report's text for the agency and year, one
// paragraph per line.
func (st *site) reportLines(r Report) []string {
	text := reportText
	if _, body, ok := strings.Cut(text, "\n"); ok && strings.HasPrefix(text, "SOURCE:") {
		text = body
	}
	text = strings.ReplaceAll(text, "2025 年", fmt.Sprintf("%d 年", r.Year+1))
	text = strings.ReplaceAll(text, "2024", strconv.Itoa(r.Year))
	text = strings.ReplaceAll(text, "淮安市人民政府", st.Name)
	if r.ArithmeticError {
		// 3001 natural-person requests become 3011: the row no longer
		// sums to its total of 3119.
		text = reTable3Row.ReplaceAllStringFunc(text, func(m string) string {
			sm := reTable3Row.FindStringSubmatch(m)
			n, _ := strconv.Atoi(sm[2])
			return sm[1] + strconv.Itoa(n+10)
		})
	}
	var paras []string
	for _, p := range strings.Split(text, "\n") {
		if p = strings.TrimSpace(p); p != "" {
			paras = append(paras, p)
		}
	}
	return paras
}

// reportDOCX builds a minimal DOCX holding the report's text, one paragraph
// per line, with a fixed time stamp so the bytes are the same every time.
func (st *site) reportDOCX(r Report) []byte {
	var blocks []docxBlock
	for _, p := range st.reportLines(r) {
		blocks = append(blocks, docxBlock{text: p})
	}
	return buildDOCX(blocks)
}

// docxBlock is a paragraph (text) or a table (rows of cells).
type docxBlock struct {
	text string
	rows [][]string
}

// buildDOCX builds a minimal DOCX of paragraphs and tables, with a fixed
// time stamp so the bytes are the same every time.
func buildDOCX(blocks []docxBlock) []byte {
	var doc strings.Builder
	doc.WriteString(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` +
		`<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>`)
	para := func(p string) {
		doc.WriteString(`<w:p><w:r><w:t xml:space="preserve">`)
		template.HTMLEscape(&doc, []byte(p))
		doc.WriteString(`</w:t></w:r></w:p>`)
	}
	for _, b := range blocks {
		if b.rows == nil {
			para(b.text)
			continue
		}
		doc.WriteString(`<w:tbl>`)
		for _, row := range b.rows {
			doc.WriteString(`<w:tr>`)
			for _, cell := range row {
				doc.WriteString(`<w:tc>`)
				para(cell)
				doc.WriteString(`</w:tc>`)
			}
			doc.WriteString(`</w:tr>`)
		}
		doc.WriteString(`</w:tbl>`)
	}
	doc.WriteString(`</w:body></w:document>`)
	files := []struct{ name, body string }{
		{"[Content_Types].xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>`},
		{"_rels/.rels", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>`},
		{"word/document.xml", doc.String()},
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	stamp := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, f := range files {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: f.name, Method: zip.Deflate, Modified: stamp})
		if err != nil {
			return nil
		}
		_, _ = w.Write([]byte(f.body))
	}
	if err := zw.Close(); err != nil {
		return nil
	}
	return buf.Bytes()
}

type homeData struct {
	Site    *Site
	News    []listItem
	Columns []*column
}

func (st *site) homeData() homeData {
	d := homeData{Site: st.Site}
	for _, c := range st.columns {
		if c.home && !c.missing {
			d.Columns = append(d.Columns, c)
		}
	}
	if len(st.News) > 0 {
		news := append([]time.Time(nil), st.News...)
		for i := 1; i < len(news); i++ {
			for j := i; j > 0 && news[j].After(news[j-1]); j-- {
				news[j], news[j-1] = news[j-1], news[j]
			}
		}
		for i, t := range news {
			d.News = append(d.News, listItem{Title: fmt.Sprintf("%s召开第%d次工作会议", st.Name, len(news)-i), Href: fmt.Sprintf("./xw/t%s_%d.html", t.Format("20060102"), len(news)-i), Date: t.Format("2006-01-02")})
		}
		return d
	}
	if c := st.bySeg["gzdt"]; c != nil && !c.missing {
		for i, it := range c.items {
			if i >= 6 {
				break
			}
			d.News = append(d.News, listItem{Title: it.title, Href: "./zfxxgk/gzdt/" + it.slug, Date: it.date.Format("2006-01-02")})
		}
	}
	return d
}

var homeTmpl = template.Must(template.New("home").Parse(`<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{{.Site.Name}}</title></head>
<body>
<div class="header"><h1>{{.Site.Name}}</h1></div>
<div class="nav"><ul>
<li><a href="./">首页</a></li>
<li><a href="./zfxxgk/">政府信息公开</a></li>
{{range .Columns}}<li><a href="./zfxxgk/{{.Seg}}/">{{.Name}}</a></li>
{{end}}<li><a href="#">政务服务</a></li>
<li><a href="#">互动交流</a></li>
</ul></div>
<div class="news"><h2>工作动态</h2><ul>
{{range .News}}<li><a href="{{.Href}}">{{.Title}}</a><span class="date">{{.Date}}</span></li>
{{end}}</ul></div>
<div class="footer">主办：{{.Site.Name}}　网站标识码：0000000000</div>
</body></html>
`))

// Seg and Name expose a column's path segment and link text to templates.
func (c *column) Seg() string { return c.seg }

// Name returns the column's link text.
func (c *column) Name() string { return c.name }

// Shown reports whether the section page links the column.
func (c *column) Shown() bool { return !c.home && !c.missing }

var gkTmpl = template.Must(template.New("gk").Parse(`<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>政府信息公开_{{.Name}}</title></head>
<body>
<div class="crumb"><a href="../">首页</a> &gt; 政府信息公开</div>
<div class="gk-nav"><ul>
{{range .Columns}}{{if .Shown}}<li><a href="./{{.Seg}}/">{{.Name}}</a></li>
{{end}}{{end}}</ul></div>
</body></html>
`))

// Columns exposes the site's columns to templates.
func (st *site) Columns() []*column { return st.columns }

var listTmpl = template.Must(template.New("list").Parse(`<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{{.Column}}_{{.Site.Name}}</title></head>
<body>
<div class="crumb"><a href="../../">首页</a> &gt; <a href="../">政府信息公开</a> &gt; {{.Column}}</div>
{{if eq .Layout "table"}}<table class="list">
<tr><th>标题</th><th>发布日期</th></tr>
{{range .Items}}<tr><td><a href="{{.Href}}" title="{{.Title}}" target="_blank">{{.Title}}</a></td><td>{{.Date}}</td></tr>
{{end}}</table>
{{else}}<ul class="list">
{{range .Items}}<li><a href="{{.Href}}" title="{{.Title}}" target="_blank">{{.Title}}</a><span>{{.Date}}</span></li>
{{end}}</ul>
{{end}}{{if eq .Layout "trs"}}<div class="page"><script type="text/javascript">createPageHTML({{.TotalPages}}, {{.Page}} - 1, "index", "html");</script></div>
{{else}}<div class="page">共{{.TotalPages}}页 第{{.Page}}页 {{if .NextHref}}<a href="{{.NextHref}}">下一页</a>{{end}}</div>
{{end}}</body></html>
`))

var pageTmpl = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{{.Column}}_{{.Site.Name}}</title></head>
<body>
<div class="crumb"><a href="../../">首页</a> &gt; <a href="../">政府信息公开</a> &gt; {{.Column}}</div>
<div class="article"><div class="content">{{if .Text}}<p>{{.Text}}</p>{{end}}</div></div>
</body></html>
`))

var detailTmpl = template.Must(template.New("detail").Parse(`<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{{.Title}}</title></head>
<body>
<div class="article">
<h1>{{.Title}}</h1>
<div class="info">发布日期：{{.Date}}　来源：{{.Site.Name}}</div>
<div class="content">
{{range .Paragraphs}}<p>{{.}}</p>
{{end}}{{range .Tables}}<p class="table-title">{{.Title}}</p>
<table class="budget">{{range .Rows}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>
{{end}}</table>
{{end}}{{if .Attachment}}<p>附件：<a href="{{.Attachment}}">{{.AttachTitle}}</a></p>
{{end}}</div>
</div>
</body></html>
`))
