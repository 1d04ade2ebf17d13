// Package portalsim serves simulated agency websites on loopback, shaped like
// Chinese government portals: a home page with dated news, a 政府信息公开
// section linking the standard columns, a 政府信息公开年报 list page with
// dated items and pagination, and report detail pages with a 发布日期 and the
// text of a real published report. The demo, the end-to-end tests and the
// benchmarks audit it instead of the internet.
//
// Several agencies may share one host (a city's 集约化 platform), each under
// its own path, while others have a host of their own.
package portalsim

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"
)

// reportText is a real annual report (淮安市人民政府 2024, 2021 unified
// format); see the SOURCE line at its top. Simulated reports are this text
// with the organ's name and the year substituted.
//
//go:embed content/huaian-2024.txt
var reportText string

// Faults a site can be given.
const (
	// FaultUnreachable: the site's port refuses connections.
	FaultUnreachable = "unreachable"
	// FaultServerError: every page answers 500.
	FaultServerError = "server_error"
	// FaultNoReportColumn: the 政府信息公开 page does not link a 年报 column.
	FaultNoReportColumn = "no_report_column"
)

// Spec describes a fleet of simulated sites.
type Spec struct {
	Sites []Site
}

// Site is one agency's simulated website.
type Site struct {
	// AgencyID and Name identify the agency (Name appears in titles).
	AgencyID string
	Name     string
	Level    string
	Kind     string
	Parent   string
	Email    string
	// Host groups sites that share one platform host; sites with the same
	// Host are served by one listener under their own Path.
	Host string
	// Path is the site's base path on its host, such as "/czj/"; default
	// "/<AgencyID>/".
	Path string
	// Reports lists the annual reports on the site.
	Reports []Report
	// News are dates of news items on the home page (newest first is not
	// required).
	News []time.Time
	// Fault makes the site misbehave; see the Fault* constants.
	Fault string
	// PageSize is the number of items per list page; default 10.
	PageSize int
}

// Report is one published annual report.
type Report struct {
	// Year is the reporting year.
	Year int
	// Published is the publication date shown on the list and detail pages.
	Published time.Time
}

// Fleet is a running set of simulated hosts.
type Fleet struct {
	hosts   []*host
	siteURL map[string]string
	spec    Spec
}

type host struct {
	ln    net.Listener
	srv   *http.Server
	sites map[string]*Site // by path prefix
}

// Start serves spec on loopback listeners, one per distinct Host.
func Start(spec Spec) (*Fleet, error) {
	f := &Fleet{siteURL: map[string]string{}, spec: spec}
	byHost := map[string]*host{}
	var hostOrder []string
	for i := range spec.Sites {
		s := &spec.Sites[i]
		if s.AgencyID == "" {
			f.Close()
			return nil, fmt.Errorf("portalsim: site %d has no agency id", i)
		}
		if s.Path == "" {
			s.Path = "/" + s.AgencyID + "/"
		}
		if !strings.HasPrefix(s.Path, "/") || !strings.HasSuffix(s.Path, "/") {
			f.Close()
			return nil, fmt.Errorf("portalsim: site %s: path %q must start and end with /", s.AgencyID, s.Path)
		}
		if s.PageSize <= 0 {
			s.PageSize = 10
		}
		if s.Fault == FaultUnreachable {
			addr, err := closedPort()
			if err != nil {
				f.Close()
				return nil, err
			}
			f.siteURL[s.AgencyID] = "http://" + addr + s.Path
			continue
		}
		key := s.Host
		if key == "" {
			key = "own:" + s.AgencyID
		}
		h, ok := byHost[key]
		if !ok {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				f.Close()
				return nil, fmt.Errorf("portalsim: listen: %w", err)
			}
			h = &host{ln: ln, sites: map[string]*Site{}}
			h.srv = &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
			byHost[key] = h
			hostOrder = append(hostOrder, key)
		}
		if _, dup := h.sites[s.Path]; dup {
			f.Close()
			return nil, fmt.Errorf("portalsim: two sites at %s%s", key, s.Path)
		}
		h.sites[s.Path] = s
		f.siteURL[s.AgencyID] = "http://" + h.ln.Addr().String() + s.Path
	}
	for _, k := range hostOrder {
		h := byHost[k]
		f.hosts = append(f.hosts, h)
		go func() { _ = h.srv.Serve(h.ln) }()
	}
	return f, nil
}

// closedPort returns a loopback address nothing listens on.
func closedPort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("portalsim: reserve port: %w", err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		return "", err
	}
	return addr, nil
}

// URL returns the home page URL of an agency's site.
func (f *Fleet) URL(agencyID string) string { return f.siteURL[agencyID] }

// Hosts returns the number of listeners serving the fleet.
func (f *Fleet) Hosts() int { return len(f.hosts) }

// Close stops every host.
func (f *Fleet) Close() {
	var wg sync.WaitGroup
	for _, h := range f.hosts {
		wg.Add(1)
		go func() { defer wg.Done(); _ = h.srv.Close() }()
	}
	wg.Wait()
}

// WriteRegistry writes an agency registry (the YAML format of package
// registry) for the fleet, with private addresses allowed since the fleet
// runs on loopback.
func (f *Fleet) WriteRegistry(w io.Writer) error {
	type contact struct {
		Name  string `yaml:"name"`
		Role  string `yaml:"role"`
		Email string `yaml:"email"`
	}
	type agency struct {
		ID       string    `yaml:"id"`
		Name     string    `yaml:"name"`
		Level    string    `yaml:"level"`
		Kind     string    `yaml:"kind"`
		Parent   string    `yaml:"parent,omitempty"`
		Website  string    `yaml:"website"`
		Contacts []contact `yaml:"contacts,omitempty"`
	}
	out := struct {
		AllowPrivate bool     `yaml:"allow_private_addresses"`
		Agencies     []agency `yaml:"agencies"`
	}{AllowPrivate: true}
	for _, s := range f.spec.Sites {
		a := agency{ID: s.AgencyID, Name: s.Name, Level: s.Level, Kind: s.Kind, Parent: s.Parent, Website: f.siteURL[s.AgencyID]}
		if s.Email != "" {
			a.Contacts = []contact{{Name: s.Name + "政务公开办", Role: "disclosure_office", Email: s.Email}}
		}
		out.Agencies = append(out.Agencies, a)
	}
	if _, err := io.WriteString(w, "# Registry of the simulated fleet, written by gongkai's portal simulator.\n"); err != nil {
		return err
	}
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("portalsim: write registry: %w", err)
	}
	return enc.Close()
}

func (h *host) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Longest path prefix wins.
	var site *Site
	for p, s := range h.sites {
		if strings.HasPrefix(r.URL.Path, p) && (site == nil || len(p) > len(site.Path)) {
			site = s
		}
	}
	if site == nil {
		http.NotFound(w, r)
		return
	}
	if site.Fault == FaultServerError {
		http.Error(w, "500 Internal Server Error", http.StatusInternalServerError)
		return
	}
	rest := strings.TrimPrefix(r.URL.Path, site.Path)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	var err error
	switch {
	case rest == "" || rest == "index.html":
		err = homeTmpl.Execute(w, site.homeData())
	case rest == "zfxxgk/" || rest == "zfxxgk/index.html":
		err = gkTmpl.Execute(w, site)
	case rest == "zfxxgk/ndbg/" || strings.HasPrefix(rest, "zfxxgk/ndbg/index"):
		if site.Fault == FaultNoReportColumn {
			http.NotFound(w, r)
			return
		}
		page := 0
		if p, ok := strings.CutPrefix(rest, "zfxxgk/ndbg/index_"); ok {
			n, perr := strconv.Atoi(strings.TrimSuffix(p, ".html"))
			if perr != nil || n < 1 {
				http.NotFound(w, r)
				return
			}
			page = n
		}
		d, ok := site.listData(page)
		if !ok {
			http.NotFound(w, r)
			return
		}
		err = listTmpl.Execute(w, d)
	case strings.HasPrefix(rest, "zfxxgk/ndbg/"):
		rep, ok := site.reportAt(strings.TrimPrefix(rest, "zfxxgk/ndbg/"))
		if !ok {
			http.NotFound(w, r)
			return
		}
		err = detailTmpl.Execute(w, site.detailData(rep))
	default:
		http.NotFound(w, r)
		return
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
}

func (r Report) slug() string {
	return fmt.Sprintf("%s/t%s_%d.html", r.Published.Format("200601"), r.Published.Format("20060102"), r.Year)
}

func (r Report) title(name string) string {
	return fmt.Sprintf("%s%d年政府信息公开工作年度报告", name, r.Year)
}

func (s *Site) sortedReports() []Report {
	out := append([]Report(nil), s.Reports...)
	sort.Slice(out, func(i, j int) bool { return out[i].Published.After(out[j].Published) })
	return out
}

func (s *Site) reportAt(slug string) (Report, bool) {
	for _, r := range s.Reports {
		if r.slug() == slug {
			return r, true
		}
	}
	return Report{}, false
}

type listItem struct {
	Title, Href, Date string
}

type listPage struct {
	Site       *Site
	Items      []listItem
	Page       int
	NextHref   string
	TotalPages int
}

func (s *Site) listData(page int) (listPage, bool) {
	reps := s.sortedReports()
	pages := max(1, (len(reps)+s.PageSize-1)/s.PageSize)
	if page >= pages {
		return listPage{}, false
	}
	d := listPage{Site: s, Page: page + 1, TotalPages: pages}
	for _, r := range reps[min(len(reps), page*s.PageSize):min(len(reps), (page+1)*s.PageSize)] {
		d.Items = append(d.Items, listItem{Title: r.title(s.Name), Href: "./" + r.slug(), Date: r.Published.Format("2006-01-02")})
	}
	if page+1 < pages {
		d.NextHref = fmt.Sprintf("index_%d.html", page+1)
	}
	return d, true
}

type homeData struct {
	Site *Site
	News []listItem
}

func (s *Site) homeData() homeData {
	d := homeData{Site: s}
	news := append([]time.Time(nil), s.News...)
	sort.Slice(news, func(i, j int) bool { return news[i].After(news[j]) })
	for i, t := range news {
		d.News = append(d.News, listItem{Title: fmt.Sprintf("%s召开第%d次工作会议", s.Name, len(news)-i), Href: "#", Date: t.Format("2006-01-02")})
	}
	return d
}

type detailData struct {
	Site       *Site
	Title      string
	Date       string
	Paragraphs []string
}

func (s *Site) detailData(r Report) detailData {
	text := reportText
	if _, body, ok := strings.Cut(text, "\n"); ok && strings.HasPrefix(text, "SOURCE:") {
		text = body
	}
	text = strings.ReplaceAll(text, "2025 年", fmt.Sprintf("%d 年", r.Year+1))
	text = strings.ReplaceAll(text, "2024", strconv.Itoa(r.Year))
	text = strings.ReplaceAll(text, "淮安市人民政府", s.Name)
	var paras []string
	for _, p := range strings.Split(text, "\n") {
		if p = strings.TrimSpace(p); p != "" {
			paras = append(paras, p)
		}
	}
	return detailData{Site: s, Title: r.title(s.Name), Date: r.Published.Format("2006-01-02"), Paragraphs: paras}
}

// Demo returns the four-agency fleet of `gongkai demo`, dated relative to
// asOf: the department annual reports for the most recent year whose Jan 31
// deadline has passed by asOf are published on time by one agency, two days
// late by another and not at all by the third; the fourth site is
// unreachable. The first two share a platform host.
func Demo(asOf time.Time) Spec {
	loc := time.FixedZone("CST", 8*3600)
	asOf = asOf.In(loc)
	year := LastDueYear(asOf)
	due := time.Date(year+1, 1, 31, 0, 0, 0, 0, loc)
	prev := Report{Year: year - 1, Published: time.Date(year, 1, 22, 0, 0, 0, 0, loc)}
	news := []time.Time{asOf.AddDate(0, 0, -2), asOf.AddDate(0, 0, -9), asOf.AddDate(0, 0, -30)}
	return Spec{Sites: []Site{
		{AgencyID: "demo-czj", Name: "示范市财政局", Level: "city", Kind: "department", Parent: "demo-gov",
			Host: "platform", Path: "/czj/", Email: "gongkai@czj.demo.example", News: news,
			Reports: []Report{prev, {Year: year, Published: due.AddDate(0, 0, -11)}}},
		{AgencyID: "demo-jyj", Name: "示范市教育局", Level: "city", Kind: "department", Parent: "demo-gov",
			Host: "platform", Path: "/jyj/", Email: "gongkai@jyj.demo.example", News: news,
			Reports: []Report{prev, {Year: year, Published: due.AddDate(0, 0, 2)}}},
		{AgencyID: "demo-wjw", Name: "示范市卫生健康委员会", Level: "city", Kind: "department", Parent: "demo-gov",
			Email: "gongkai@wjw.demo.example", News: news, Reports: []Report{prev}},
		{AgencyID: "demo-gov", Name: "示范市人民政府办公室", Level: "city", Kind: "department",
			Email: "gongkai@gov.demo.example", Fault: FaultUnreachable},
	}}
}

// LastDueYear returns the most recent year whose department annual report
// (due Jan 31 of the next year) is due at least three days before t.
func LastDueYear(t time.Time) int {
	loc := time.FixedZone("CST", 8*3600)
	t = t.In(loc)
	if t.Before(time.Date(t.Year(), 2, 3, 0, 0, 0, 0, loc)) {
		return t.Year() - 2
	}
	return t.Year() - 1
}

var homeTmpl = template.Must(template.New("home").Parse(`<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{{.Site.Name}}</title></head>
<body>
<div class="header"><h1>{{.Site.Name}}</h1></div>
<div class="nav"><ul>
<li><a href="./">首页</a></li>
<li><a href="./zfxxgk/">政府信息公开</a></li>
<li><a href="#">政务服务</a></li>
<li><a href="#">互动交流</a></li>
</ul></div>
<div class="news"><h2>工作动态</h2><ul>
{{range .News}}<li><a href="{{.Href}}">{{.Title}}</a><span class="date">{{.Date}}</span></li>
{{end}}</ul></div>
<div class="footer">主办：{{.Site.Name}}　网站标识码：0000000000</div>
</body></html>
`))

var gkTmpl = template.Must(template.New("gk").Parse(`<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>政府信息公开_{{.Name}}</title></head>
<body>
<div class="crumb"><a href="../">首页</a> &gt; 政府信息公开</div>
<div class="gk-nav"><ul>
<li><a href="./zn/">政府信息公开指南</a></li>
<li><a href="./zd/">政府信息公开制度</a></li>
<li><a href="./fdzdgknr/">法定主动公开内容</a></li>
{{if ne .Fault "no_report_column"}}<li><a href="./ndbg/">政府信息公开年报</a></li>{{end}}
<li><a href="./ysqgk/">依申请公开</a></li>
</ul></div>
</body></html>
`))

var listTmpl = template.Must(template.New("list").Parse(`<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>政府信息公开年报_{{.Site.Name}}</title></head>
<body>
<div class="crumb"><a href="../../">首页</a> &gt; <a href="../">政府信息公开</a> &gt; 政府信息公开年报</div>
<ul class="list">
{{range .Items}}<li><a href="{{.Href}}" title="{{.Title}}" target="_blank">{{.Title}}</a><span>{{.Date}}</span></li>
{{end}}</ul>
<div class="page">共{{.TotalPages}}页 第{{.Page}}页 {{if .NextHref}}<a href="{{.NextHref}}">下一页</a>{{end}}</div>
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
{{end}}</div>
</div>
</body></html>
`))
