// Package discover finds the disclosure columns on an agency's pages and
// reads their list pages into dated items: link text matched against the
// synonyms the rule packs give each column, list items in ul/li, table and
// dl layouts with dates in the formats Chinese portals use (2024-03-15,
// 2024/03/15, 2024年3月15日, and [03-15] with the year inferred), the usual
// pagination schemes (下一页 links, index_N.html, TRS CMS's
// createPageHTML(…) script), blank columns (a page with neither items nor
// text), attachments (PDF, DOC, DOCX), and the 发布日期 of detail pages.
//
// Everything here is a pure function of the page's bytes and its URL (and,
// for year inference, a reference date), so it is cheap to test and fuzz.
package discover

import (
	"bytes"
	"fmt"
	"net/url"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/PuerkitoBio/goquery"
)

// SectionSynonyms returns the link texts of the 政府信息公开 section that
// holds the standard columns, most specific first.
func SectionSynonyms() []string {
	return []string{"政府信息公开", "政务公开", "信息公开"}
}

// StatutorySynonyms returns the link texts of the 法定主动公开内容 column,
// whose page holds the art. 20 sub-columns on many portals.
func StatutorySynonyms() []string {
	return []string{"法定主动公开内容", "主动公开内容", "主动公开"}
}

// Link is an anchor found on a page.
type Link struct {
	// Text is the link text (or its title attribute when the text is
	// empty), whitespace collapsed.
	Text string
	// URL is the absolute URL.
	URL string
}

// Parse parses an HTML page.
func Parse(body []byte) (*goquery.Document, error) {
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("parse html: %w", err)
	}
	return doc, nil
}

// Links returns the links of a page that could name a column: with text,
// resolvable, not javascript: or fragment-only.
func Links(doc *goquery.Document, base *url.URL) []Link {
	var out []Link
	doc.Find("a[href]").Each(func(_ int, s *goquery.Selection) {
		href := strings.TrimSpace(s.AttrOr("href", ""))
		text := squash(s.Text())
		if title, ok := s.Attr("title"); ok && text == "" {
			text = squash(title)
		}
		if text == "" || href == "" || strings.HasPrefix(strings.ToLower(href), "javascript:") || strings.HasPrefix(href, "#") {
			return
		}
		u, err := base.Parse(href)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
			return
		}
		u.Fragment = ""
		out = append(out, Link{Text: text, URL: u.String()})
	})
	return out
}

// FindLink returns the first link of doc whose text names a column given
// by its synonyms; see MatchLink.
func FindLink(doc *goquery.Document, base *url.URL, synonyms []string) (Link, bool) {
	return MatchLink(Links(doc, base), synonyms)
}

// MatchLink returns the link that names a column: a link whose text equals
// a synonym wins; otherwise the first link whose text contains one, trying
// synonyms in order so that the most specific wins. A link to one item
// ("…2024年政府信息公开工作年度报告") is not the column: link texts much
// longer than the synonym are passed over.
func MatchLink(links []Link, synonyms []string) (Link, bool) {
	for _, syn := range synonyms {
		for _, l := range links {
			if l.Text == syn {
				return l, true
			}
		}
	}
	for _, syn := range synonyms {
		for _, l := range links {
			if strings.Contains(l.Text, syn) && len([]rune(l.Text)) <= len([]rune(syn))+6 {
				return l, true
			}
		}
	}
	return Link{}, false
}

// Item is a dated entry of a list page.
type Item struct {
	// Title is the link text, or its longer title attribute.
	Title string
	// URL is the absolute URL of the item.
	URL string
	// Date is YYYY-MM-DD or empty.
	Date string
}

// List is what one list page holds.
type List struct {
	// Items are the page's entries in page order.
	Items []Item
	// Next is the URL of the next page, empty on the last.
	Next string
	// Pages is the number of list pages the page announces (TRS
	// createPageHTML or 共N页), 0 when it does not say.
	Pages int
}

// ListOptions tune ParseList.
type ListOptions struct {
	// Ref is the reference date for dates without a year ([03-15]): the
	// latest year that does not put the date after Ref. Zero disables
	// such dates.
	Ref time.Time
	// Items is a CSS selector for the list entries, from the registry,
	// when the generic detection fails; nil uses li, tr and dd.
	Items goquery.Matcher
	// Next is a CSS selector for the next-page link, from the registry.
	Next goquery.Matcher
}

// ParseList reads the items of a list page: every list entry (li, tr or dd,
// or the registry's selector) with one link, taking the date shown beside
// it (or, failing that, the date in a TRS-style URL such as
// ./202401/t20240125_1.html), and the link to the next page.
func ParseList(doc *goquery.Document, base *url.URL, opts ListOptions) List {
	var l List
	seen := map[string]bool{}
	var entries *goquery.Selection
	if opts.Items != nil {
		entries = doc.FindMatcher(opts.Items)
	} else {
		entries = doc.Find("li, tr, dd")
	}
	entries.Each(func(_ int, s *goquery.Selection) {
		links := s.Find("a[href]")
		if opts.Items == nil && (links.Length() != 1 || s.Find("li, tr").Length() > 0 || inChrome(s)) {
			return
		}
		if links.Length() == 0 {
			return
		}
		links = links.First()
		href := strings.TrimSpace(links.AttrOr("href", ""))
		title := squash(links.Text())
		if t, ok := links.Attr("title"); ok && len([]rune(squash(t))) > len([]rune(title)) {
			title = squash(t) // list pages truncate long titles in the text
		}
		if title == "" || strings.HasPrefix(strings.ToLower(href), "javascript:") || href == "#" || href == "" {
			return
		}
		u, err := base.Parse(href)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || seen[u.String()] {
			return
		}
		// The date beside the link: in the entry's text other than the
		// title (a title may name a date of its own).
		rest := strings.Replace(squash(s.Text()), squash(links.Text()), " ", 1)
		date, ok := FindDate(rest)
		if !ok {
			date, ok = FindShortDate(rest, opts.Ref)
		}
		if !ok {
			date, _ = DateFromURL(u.Path)
		}
		seen[u.String()] = true
		l.Items = append(l.Items, Item{Title: title, URL: u.String(), Date: date})
	})
	l.Next, l.Pages = nextPage(doc, base, opts.Next)
	return l
}

var (
	reCreatePage = regexp.MustCompile(`createPageHTML\s*\(([^)]{0,200})\)`)
	reCountPage  = regexp.MustCompile(`(?:countPage|pageCount|totalPage)\s*=\s*(\d{1,5})`)
	reCurPage    = regexp.MustCompile(`currentPage\s*=\s*(\d{1,5})`)
	reTotalPages = regexp.MustCompile(`共\s*(\d{1,5})\s*页`)
	reArg        = regexp.MustCompile(`^\s*(?:(\d{1,5})|['"]([^'"]{0,40})['"]|([A-Za-z_][A-Za-z0-9_]*))\s*$`)
)

// nextPage finds the next list page: a selector from the registry, a
// 下一页 link, or TRS's createPageHTML(total, current, "index", "html")
// script (0-based current page; page n>0 is index_n.html).
func nextPage(doc *goquery.Document, base *url.URL, sel goquery.Matcher) (string, int) {
	pages := 0
	// 共N页 is in the pager; reading the whole body's text for it would
	// cost a copy of every list page.
	doc.Find(`[class*="pag"], [id*="pag"], [class*="Pag"], [id*="Pag"]`).EachWithBreak(func(_ int, s *goquery.Selection) bool {
		if m := reTotalPages.FindStringSubmatch(s.Text()); m != nil {
			pages, _ = strconv.Atoi(m[1])
			return false
		}
		return true
	})
	resolve := func(href string) string {
		href = strings.TrimSpace(href)
		if href == "" || strings.HasPrefix(strings.ToLower(href), "javascript:") || href == "#" {
			return ""
		}
		u, err := base.Parse(href)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
			return ""
		}
		u.Fragment = ""
		if u.String() == base.String() {
			return ""
		}
		return u.String()
	}
	if sel != nil {
		if s := doc.FindMatcher(sel).First(); s.Length() > 0 {
			return resolve(s.AttrOr("href", "")), pages
		}
		return "", pages
	}
	next := ""
	doc.Find("a[href]").EachWithBreak(func(_ int, s *goquery.Selection) bool {
		t := squash(s.Text())
		if t == "下一页" || t == "下页" || t == "下一页>" || t == "下一页 >" || t == "后页" || (t == ">" || t == "›") && s.HasClass("next") {
			next = resolve(s.AttrOr("href", ""))
			return false
		}
		return true
	})
	if next != "" {
		return next, pages
	}
	// TRS CMS writes its pager with a script.
	var script strings.Builder
	doc.Find("script").Each(func(_ int, s *goquery.Selection) { script.WriteString(s.Text()); script.WriteByte('\n') })
	total, cur, prefix, suffix := -1, -1, "index", "html"
	if m := reCreatePage.FindStringSubmatch(script.String()); m != nil {
		var nums []int
		var strs []string
		vars := map[string]bool{}
		for _, a := range strings.Split(m[1], ",") {
			am := reArg.FindStringSubmatch(a)
			switch {
			case am == nil:
			case am[1] != "":
				n, _ := strconv.Atoi(am[1])
				nums = append(nums, n)
			case am[3] != "":
				vars[am[3]] = true
				nums = append(nums, -1) // a variable: resolved below
			default:
				strs = append(strs, am[2])
			}
		}
		if len(nums) >= 2 {
			total, cur = nums[0], nums[1]
		}
		if len(strs) >= 2 {
			prefix, suffix = strs[len(strs)-2], strs[len(strs)-1]
		}
	}
	if total < 0 {
		if m := reCountPage.FindStringSubmatch(script.String()); m != nil {
			total, _ = strconv.Atoi(m[1])
		}
	}
	if cur < 0 {
		if m := reCurPage.FindStringSubmatch(script.String()); m != nil {
			cur, _ = strconv.Atoi(m[1])
		}
	}
	if total > 0 && cur >= 0 {
		if pages == 0 {
			pages = total
		}
		if cur+1 < total && prefix != "" && !strings.ContainsAny(prefix+suffix, "/\\?#") {
			return resolve(fmt.Sprintf("%s_%d.%s", prefix, cur+1, suffix)), pages
		}
	}
	return "", pages
}

// chromeWords mark page furniture — navigation, header, footer,
// breadcrumbs — whose links are not column items.
func chromeWords() []string {
	return []string{"nav", "menu", "header", "footer", "crumb", "top", "bottom"}
}

func inChrome(s *goquery.Selection) bool {
	words := chromeWords()
	for p := s.Parent(); p.Length() > 0; p = p.Parent() {
		if n := goquery.NodeName(p); n == "nav" || n == "header" || n == "footer" {
			return true
		}
		attrs := strings.ToLower(p.AttrOr("class", "") + " " + p.AttrOr("id", ""))
		for _, w := range words {
			if strings.Contains(attrs, w) {
				return true
			}
		}
	}
	return false
}

// ContentChars returns the number of characters of text on a page outside
// page furniture (navigation, header, footer, breadcrumbs, scripts) and
// outside links: the substance of a content page such as 机构简介. A column
// page with no list items and almost no content text is blank.
func ContentChars(doc *goquery.Document) int {
	body := doc.Find("body").Clone()
	body.Find("script, style, nav, header, footer, a").Remove()
	words := chromeWords()
	body.Find("[class], [id]").Each(func(_ int, s *goquery.Selection) {
		attrs := strings.ToLower(s.AttrOr("class", "") + " " + s.AttrOr("id", ""))
		for _, w := range words {
			if strings.Contains(attrs, w) {
				s.Remove()
				return
			}
		}
	})
	n := 0
	for _, r := range body.Text() {
		if r > ' ' && r != '\u3000' && r != '\u00a0' {
			n++
		}
	}
	return n
}

// isDocument reports whether a URL path's extension is that of a document
// read as a report: PDF, DOCX, DOC or WPS.
func isDocument(ext string) bool {
	switch strings.ToLower(ext) {
	case ".pdf", ".docx", ".doc", ".wps":
		return true
	}
	return false
}

// Attachments returns the links of a detail page to documents (PDF, DOCX,
// DOC, WPS), by the URL's extension, in page order without repeats.
func Attachments(doc *goquery.Document, base *url.URL) []Link {
	var out []Link
	seen := map[string]bool{}
	doc.Find("a[href]").Each(func(_ int, s *goquery.Selection) {
		href := strings.TrimSpace(s.AttrOr("href", ""))
		u, err := base.Parse(href)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
			return
		}
		u.Fragment = ""
		if seen[u.String()] {
			return
		}
		if isDocument(path.Ext(u.Path)) {
			seen[u.String()] = true
			out = append(out, Link{Text: squash(s.Text()), URL: u.String()})
		}
	})
	return out
}

var (
	reISO    = regexp.MustCompile(`((?:19|20)\d{2})[-/.](\d{1,2})[-/.](\d{1,2})`)
	reCN     = regexp.MustCompile(`((?:19|20)\d{2})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日`)
	reShort  = regexp.MustCompile(`(?:^|[^\d./-])(\d{1,2})[-/.](\d{1,2})(?:$|[^\d./-])`)
	reShortC = regexp.MustCompile(`(\d{1,2})\s*月\s*(\d{1,2})\s*日`)
	reURL    = regexp.MustCompile(`(?:^|[/_t]|P0)((?:19|20)\d{2})(\d{2})(\d{2})(?:[_./]|$)`)
	reYear   = regexp.MustCompile(`((?:19|20)\d{2})\s*年`)
	rePubTag = regexp.MustCompile(`(?:发布日期|发布时间|发文日期|公开日期|成文日期|日期)\s*[:：]\s*`)
)

// FindDate returns the first calendar date in s, as YYYY-MM-DD, in the
// formats 2024-03-15, 2024/3/15, 2024.03.15 and 2024年3月15日. Impossible
// dates (2024-02-30) are skipped.
func FindDate(s string) (string, bool) {
	type hit struct {
		at      int
		y, m, d string
	}
	var hits []hit
	for _, re := range []*regexp.Regexp{reISO, reCN} {
		for _, m := range re.FindAllStringSubmatchIndex(s, -1) {
			hits = append(hits, hit{m[0], s[m[2]:m[3]], s[m[4]:m[5]], s[m[6]:m[7]]})
		}
	}
	best := -1
	for i, h := range hits {
		if _, ok := civil(h.y, h.m, h.d); ok && (best < 0 || h.at < hits[best].at) {
			best = i
		}
	}
	if best < 0 {
		return "", false
	}
	d, _ := civil(hits[best].y, hits[best].m, hits[best].d)
	return d, true
}

// FindShortDate returns the first month-day date in s without a year —
// [03-15], 03/15, 3月15日 — with the year inferred from ref: the year of
// ref, or the year before when that would put the date after ref (a list
// read on 2026-01-05 showing [12-28] means 2025-12-28). A zero ref finds
// nothing.
func FindShortDate(s string, ref time.Time) (string, bool) {
	if ref.IsZero() {
		return "", false
	}
	var m []string
	if mm := reShortC.FindStringSubmatch(s); mm != nil {
		m = mm
	} else if mm := reShort.FindStringSubmatch(s); mm != nil {
		m = mm
	}
	if m == nil {
		return "", false
	}
	ymd := ref.Format("2006-01-02")
	for _, y := range []int{ref.Year(), ref.Year() - 1} {
		if d, ok := civil(strconv.Itoa(y), m[1], m[2]); ok && d <= ymd {
			return d, true
		}
	}
	return "", false
}

// DateFromURL returns the date a TRS-style URL carries, such as
// /202401/t20240125_123.html → 2024-01-25, or false.
func DateFromURL(p string) (string, bool) {
	for _, m := range reURL.FindAllStringSubmatch(p, -1) {
		if d, ok := civil(m[1], m[2], m[3]); ok {
			return d, true
		}
	}
	return "", false
}

func civil(ys, ms, ds string) (string, bool) {
	y, _ := strconv.Atoi(ys)
	m, _ := strconv.Atoi(ms)
	d, _ := strconv.Atoi(ds)
	if y < 1900 || y > 2199 {
		return "", false
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if t.Year() != y || int(t.Month()) != m || t.Day() != d {
		return "", false
	}
	return t.Format("2006-01-02"), true
}

// PublicationDate returns the date labelled 发布日期 (or a similar label) on
// a detail page.
func PublicationDate(doc *goquery.Document) (string, bool) {
	text := squash(doc.Find("body").Text())
	for _, loc := range rePubTag.FindAllStringIndex(text, 4) {
		if d, ok := FindDate(text[loc[1]:min(len(text), loc[1]+40)]); ok {
			return d, true
		}
	}
	return "", false
}

// ReportYear returns the reporting year named in a report title
// ("…2024年政府信息公开工作年度报告" → 2024), or 0.
func ReportYear(title string) int {
	t := squash(title)
	if !strings.Contains(t, "报告") && !strings.Contains(t, "年报") {
		return 0
	}
	return TitleYear(t)
}

// TitleYear returns the first year named in a title ("2026年部门预算" →
// 2026), or 0.
func TitleYear(title string) int {
	m := reYear.FindStringSubmatch(squash(title))
	if m == nil {
		return 0
	}
	y, _ := strconv.Atoi(m[1])
	return y
}

// squash collapses whitespace (including the full-width space) to single
// spaces and trims.
func squash(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\u3000' || r == '\u00a0'
	}), " ")
}
