// Package portalsim serves simulated agency websites on loopback, shaped like
// Chinese government portals: a home page with dated news, a 政府信息公开
// section linking the standard columns (机构简介, 领导介绍, 政府信息公开制度,
// 政府信息公开指南, 法定主动公开内容, 政府信息公开目录, 人事信息, 政府信息公开年报,
// 预决算公开, 依申请公开, 政策解读) and the home page's 工作动态 and 通知公告, list pages with dated
// items and pagination in three CMS layouts (ul/li lists, table lists, and
// TRS-style lists with [MM-DD] dates and createPageHTML script pagination),
// report detail pages with a 发布日期 and the text of a real published report
// inline or as a PDF or DOCX attachment, and budgets and final accounts with
// their standard tables, inline or as attachments. The demo, the
// end-to-end tests and the benchmarks audit it instead of the internet.
//
// Several agencies may share one host (a city's 集约化 platform), each under
// its own path, while others have a host of their own. Sites can be given
// faults: unreachable, 500s, time-outs, slow responses, redirect loops,
// oversized bodies, GBK encoding, missing, blank and stale columns, late,
// missing and arithmetically wrong reports, budgets missing tables. Generate
// builds a fleet of any size deterministically from a seed.
package portalsim

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
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

// reportPDF is the same report as a PDF, made by LibreOffice from the HTML
// version (copied from services/internal/report/testdata/generated/
// lo-huaian-2024.pdf, made by that package's testdata/gen/generate.sh).
// Its text cannot be substituted: every PDF attachment carries the 2024
// report of 淮安市人民政府, which is what an auditor sees when a site
// posts the wrong file.
//
//go:embed content/huaian-2024.pdf
var reportPDF []byte

// Faults a site can be given (Site.Fault or Site.Faults).
const (
	// FaultUnreachable: the site's port refuses connections.
	FaultUnreachable = "unreachable"
	// FaultServerError: every page answers 500.
	FaultServerError = "server_error"
	// FaultNoReportColumn: the 政府信息公开 page does not link a 年报 column.
	FaultNoReportColumn = "no_report_column"
	// FaultTimeout: pages never answer (until the client gives up).
	FaultTimeout = "timeout"
	// FaultSlow: every response is delayed by SlowDelay.
	FaultSlow = "slow"
	// FaultRedirectLoop: the home page redirects to itself via a second
	// URL.
	FaultRedirectLoop = "redirect_loop"
	// FaultOversized: the home page is OversizedBytes long.
	FaultOversized = "oversized"
	// FaultFlaky: every other request answers 503 (retries succeed).
	FaultFlaky = "flaky"
)

// SlowDelay is the delay of FaultSlow responses.
const SlowDelay = 2 * time.Second

// OversizedBytes is the size of a FaultOversized home page: above the
// fetcher's 4 MiB page cap.
const OversizedBytes = 6 << 20

// Charsets a site can be served in (Site.Charset).
const (
	// CharsetUTF8 is the default.
	CharsetUTF8 = ""
	// CharsetGBK: GBK bytes, declared in the Content-Type header.
	CharsetGBK = "gbk"
	// CharsetGBKMeta: GBK bytes, declared as gb2312 only in a <meta> tag.
	CharsetGBKMeta = "gbk-meta"
	// CharsetGBKBare: GBK bytes declared nowhere.
	CharsetGBKBare = "gbk-bare"
)

// Layouts of list pages (Site.Layout).
const (
	// LayoutList: <ul><li><a>…</a><span>2024-03-15</span></li>, 下一页 links.
	LayoutList = ""
	// LayoutTable: <table><tr><td><a>…</a></td><td>2024年3月15日</td></tr>.
	LayoutTable = "table"
	// LayoutTRS: [03-15] dates and createPageHTML(…) script pagination.
	LayoutTRS = "trs"
)

// Report formats (Report.Format).
const (
	// FormatHTML: the report's text is on the detail page.
	FormatHTML = ""
	// FormatPDF: the detail page links a PDF attachment.
	FormatPDF = "pdf"
	// FormatDOCX: the detail page links a DOCX attachment.
	FormatDOCX = "docx"
)

// Spec describes a fleet of simulated sites.
type Spec struct {
	// Sites are the agencies' websites.
	Sites []Site
	// Latency delays every response, to simulate the network.
	Latency time.Duration
	// AsOf dates the generated column items; default the time Start runs.
	AsOf time.Time
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
	// Budgets lists the budget and final-account items of the 预决算公开
	// column.
	Budgets []Budget
	// BudgetApproved gives, per budget year, the date the department's
	// budget was approved (批复); the registry carries it as
	// budget_approved, the trigger of the budget's 20-day deadline.
	BudgetApproved map[int]time.Time
	// News are dates of news items on the home page (newest first is not
	// required). When empty, the 工作动态 column's items are shown.
	News []time.Time
	// Fault makes the site misbehave; see the Fault* constants.
	Fault string
	// Faults are further faults.
	Faults []string
	// Missing lists column keys the site does not have (not linked, 404).
	Missing []string
	// Blank lists column keys whose page exists but is empty.
	Blank []string
	// Stale lists column keys whose newest item is StaleAge old.
	Stale []string
	// Layout is the list layout; see the Layout* constants.
	Layout string
	// Charset is the encoding; see the Charset* constants.
	Charset string
	// NoValidators makes the site's pages answer without an ETag (and so
	// never 304), as many agencies' content systems do.
	NoValidators bool
	// PageSize is the number of items per list page; default 10.
	PageSize int
	// Seed varies the generated column items between sites.
	Seed uint64
}

// StaleAge is how old the newest item of a Stale column is.
const StaleAge = 400 * 24 * time.Hour

// Report is one published annual report.
type Report struct {
	// Year is the reporting year.
	Year int
	// Published is the publication date shown on the list and detail pages.
	Published time.Time
	// Format says where the text is; see the Format* constants.
	Format string
	// ArithmeticError changes one number of table 3 so that its row no
	// longer adds up (HTML and DOCX reports).
	ArithmeticError bool
}

// Budget is one item of the 预决算公开 column: a department budget with
// its explanations (机关运行经费, 三公经费) and the eight standard tables, or
// final accounts with the nine tables of the usual template.
type Budget struct {
	// Year is the budget or fiscal year.
	Year int
	// Final is true for final accounts (决算), false for a budget (预算).
	Final bool
	// Published is the publication date.
	Published time.Time
	// Format says where the document is: on the detail page, with the
	// tables as HTML tables (FormatHTML), or in a DOCX or PDF attachment.
	// Every PDF is the same document (see BudgetHTML).
	Format string
	// Omit names standard tables (of BudgetTables) the document leaves
	// out.
	Omit []string
}

func (s *Site) has(fault string) bool {
	if s.Fault == fault {
		return true
	}
	for _, f := range s.Faults {
		if f == fault {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// Fleet is a running set of simulated hosts.
type Fleet struct {
	hosts   []*host
	siteURL map[string]string
	spec    Spec
	sites   map[string]*site
	// refusing holds the ports of unreachable sites (see refusingPort).
	refusing []io.Closer
}

type host struct {
	ln      net.Listener
	srv     *http.Server
	sites   map[string]*site // by path prefix
	latency time.Duration

	mu    sync.Mutex
	flaky map[string]int
}

// Start serves spec on loopback listeners, one per distinct Host.
func Start(spec Spec) (*Fleet, error) {
	if spec.AsOf.IsZero() {
		spec.AsOf = time.Now()
	}
	f := &Fleet{siteURL: map[string]string{}, spec: spec, sites: map[string]*site{}}
	byHost := map[string]*host{}
	for i := range spec.Sites {
		s := &spec.Sites[i]
		if s.AgencyID == "" {
			f.Close()
			return nil, fmt.Errorf("portalsim: site %d has no agency id", i)
		}
		if _, dup := f.sites[s.AgencyID]; dup {
			f.Close()
			return nil, fmt.Errorf("portalsim: two sites for agency %s", s.AgencyID)
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
		st := build(s, spec.AsOf)
		f.sites[s.AgencyID] = st
		if s.has(FaultUnreachable) {
			addr, c, err := refusingPort()
			if err != nil {
				f.Close()
				return nil, err
			}
			f.refusing = append(f.refusing, c)
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
			h = &host{ln: ln, sites: map[string]*site{}, latency: spec.Latency, flaky: map[string]int{}}
			h.srv = &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
			byHost[key] = h
			f.hosts = append(f.hosts, h)
		}
		if _, dup := h.sites[s.Path]; dup {
			f.Close()
			return nil, fmt.Errorf("portalsim: two sites at %s%s", key, s.Path)
		}
		h.sites[s.Path] = st
		f.siteURL[s.AgencyID] = "http://" + h.ln.Addr().String() + s.Path
	}
	for _, h := range f.hosts {
		go func() { _ = h.srv.Serve(h.ln) }()
	}
	return f, nil
}

// URL returns the home page URL of an agency's site.
func (f *Fleet) URL(agencyID string) string { return f.siteURL[agencyID] }

// Hosts returns the number of listeners serving the fleet.
func (f *Fleet) Hosts() int { return len(f.hosts) }

// Spec returns the fleet's specification (with defaults applied).
func (f *Fleet) Spec() Spec { return f.spec }

// Pages returns the URLs of every page and document of the fleet's
// reachable sites that an audit may read: a baseline for benchmarks.
func (f *Fleet) Pages() []string {
	var out []string
	for _, s := range f.spec.Sites {
		if st, ok := f.sites[s.AgencyID]; ok && !s.has(FaultUnreachable) {
			for _, p := range st.pages() {
				out = append(out, f.siteURL[s.AgencyID]+p)
			}
		}
	}
	return out
}

// Close stops every host and releases the ports of unreachable sites. A
// second call does nothing more.
func (f *Fleet) Close() {
	var wg sync.WaitGroup
	for _, h := range f.hosts {
		wg.Add(1)
		go func() { defer wg.Done(); _ = h.srv.Close() }()
	}
	wg.Wait()
	for _, c := range f.refusing {
		_ = c.Close()
	}
	f.refusing = nil // a descriptor closed twice may by then be another file's
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
		// BudgetApproved maps a year to a date (YYYY-MM-DD).
		BudgetApproved map[int]string `yaml:"budget_approved,omitempty"`
	}
	out := struct {
		AllowPrivate bool     `yaml:"allow_private_addresses"`
		Agencies     []agency `yaml:"agencies"`
	}{AllowPrivate: true}
	ids := map[string]bool{}
	for _, s := range f.spec.Sites {
		ids[s.AgencyID] = true
	}
	for _, s := range f.spec.Sites {
		a := agency{ID: s.AgencyID, Name: s.Name, Level: s.Level, Kind: s.Kind, Parent: s.Parent, Website: f.siteURL[s.AgencyID]}
		if !ids[a.Parent] {
			a.Parent = ""
		}
		if a.Level == "" {
			a.Level = "city"
		}
		if a.Kind == "" {
			a.Kind = "department"
		}
		if a.Name == "" {
			a.Name = s.AgencyID
		}
		if s.Email != "" {
			a.Contacts = []contact{{Name: a.Name + "政务公开办", Role: "disclosure_office", Email: s.Email}}
		}
		for y, d := range s.BudgetApproved {
			if a.BudgetApproved == nil {
				a.BudgetApproved = map[int]string{}
			}
			a.BudgetApproved[y] = d.Format("2006-01-02")
		}
		out.Agencies = append(out.Agencies, a)
	}
	if _, err := io.WriteString(w, "# Registry of the simulated fleet, written by gongkai's portal simulator.\n"); err != nil {
		return fmt.Errorf("portalsim: write registry: %w", err)
	}
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("portalsim: write registry: %w", err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("portalsim: write registry: %w", err)
	}
	return nil
}

func (h *host) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.latency > 0 {
		if !sleep(r.Context(), h.latency) {
			return
		}
	}
	if r.URL.Path == "/robots.txt" {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "User-agent: *\nDisallow: /admin/\n")
		return
	}
	// Longest path prefix wins.
	var st *site
	for p, s := range h.sites {
		if strings.HasPrefix(r.URL.Path, p) && (st == nil || len(p) > len(st.Path)) {
			st = s
		}
	}
	if st == nil {
		http.NotFound(w, r)
		return
	}
	switch {
	case st.has(FaultServerError):
		http.Error(w, "500 Internal Server Error", http.StatusInternalServerError)
		return
	case st.has(FaultTimeout):
		<-r.Context().Done()
		return
	case st.has(FaultSlow):
		if !sleep(r.Context(), SlowDelay) {
			return
		}
	case st.has(FaultFlaky):
		h.mu.Lock()
		h.flaky[r.URL.Path]++
		n := h.flaky[r.URL.Path]
		h.mu.Unlock()
		if n%2 == 1 {
			http.Error(w, "503 Service Unavailable", http.StatusServiceUnavailable)
			return
		}
	}
	rest := strings.TrimPrefix(r.URL.Path, st.Path)
	if st.has(FaultRedirectLoop) && (rest == "" || rest == "index.html") {
		to := st.Path + "index.html"
		if rest == "index.html" {
			to = st.Path
		}
		http.Redirect(w, r, to, http.StatusFound)
		return
	}
	if st.has(FaultOversized) && rest == "" {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, "<html><body>")
		chunk := []byte(strings.Repeat("<p>政府信息公开</p>\n", 1024))
		for n := 0; n < OversizedBytes; n += len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
		return
	}
	st.serve(w, r, rest)
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// errNotFound makes serve answer 404.
var errNotFound = errors.New("not found")

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

// Demo returns the four-agency fleet of `gongkai demo`, dated relative to
// asOf: the department annual reports for the most recent year whose Jan 31
// deadline has passed by asOf are published on time by one agency, two days
// late by another and not at all by the third; the fourth site is
// unreachable. The first two share a platform host. The first agency's
// budget for last year was approved on February 10 of that year and
// published ten days later, within the 20 days the budget law allows; the
// registry gives no approval date for this year's budget, nor for the
// other agencies' (whose budget obligations stay unknown, saying so).
func Demo(asOf time.Time) Spec {
	loc := time.FixedZone("CST", 8*3600)
	asOf = asOf.In(loc)
	year := LastDueYear(asOf)
	due := time.Date(year+1, 1, 31, 0, 0, 0, 0, loc)
	prev := Report{Year: year - 1, Published: time.Date(year, 1, 22, 0, 0, 0, 0, loc)}
	news := []time.Time{asOf.AddDate(0, 0, -2), asOf.AddDate(0, 0, -9), asOf.AddDate(0, 0, -30)}
	// Last calendar year's budget: the checker tracks this year's and
	// last year's, and last year's was approved more than ten months ago
	// whatever asOf is.
	budgetYear := asOf.Year() - 1
	approved := time.Date(budgetYear, 2, 10, 0, 0, 0, 0, loc)
	return Spec{AsOf: asOf, Sites: []Site{
		{AgencyID: "demo-czj", Name: "示范市财政局", Level: "city", Kind: "department", Parent: "demo-gov",
			Host: "platform", Path: "/czj/", Email: "gongkai@czj.demo.example", News: news,
			Reports:        []Report{prev, {Year: year, Published: due.AddDate(0, 0, -11)}},
			Budgets:        []Budget{{Year: budgetYear, Published: approved.AddDate(0, 0, 10)}},
			BudgetApproved: map[int]time.Time{budgetYear: approved}},
		{AgencyID: "demo-jyj", Name: "示范市教育局", Level: "city", Kind: "department", Parent: "demo-gov",
			Host: "platform", Path: "/jyj/", Email: "gongkai@jyj.demo.example", News: news,
			Reports: []Report{prev, {Year: year, Published: due.AddDate(0, 0, 2)}}},
		{AgencyID: "demo-wjw", Name: "示范市卫生健康委员会", Level: "city", Kind: "department", Parent: "demo-gov",
			Email: "gongkai@wjw.demo.example", News: news, Reports: []Report{prev}},
		{AgencyID: "demo-gov", Name: "示范市人民政府办公室", Level: "city", Kind: "department",
			Email: "gongkai@gov.demo.example", Fault: FaultUnreachable},
	}}
}

// sortedReports returns the reports newest first.
func sortedReports(in []Report) []Report {
	out := append([]Report(nil), in...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Published.After(out[j].Published) })
	return out
}
