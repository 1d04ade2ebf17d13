// Package discover finds the disclosure columns on an agency's pages and
// reads their list pages into dated items: link text matched against a
// synonyms table, list items with dates in the formats Chinese portals use,
// pagination by 下一页 links, and the 发布日期 of detail pages.
package discover

import (
	"bytes"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/PuerkitoBio/goquery"
)

// Synonyms maps column keys to the link texts that name them on portals,
// most specific first.
var Synonyms = map[string][]string{
	"disclosure":    {"政府信息公开", "政务公开", "信息公开"},
	"annual_report": {"政府信息公开年报", "政府信息公开工作年度报告", "信息公开年报", "年度报告", "年报"},
}

// Link is an anchor found on a page.
type Link struct {
	Text string
	URL  string
}

// Parse parses an HTML page.
func Parse(body []byte) (*goquery.Document, error) {
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("parse html: %w", err)
	}
	return doc, nil
}

// FindLink returns the first link whose text (or title) contains one of the
// synonyms, trying synonyms in order so that the most specific wins.
func FindLink(doc *goquery.Document, base *url.URL, synonyms []string) (Link, bool) {
	type cand struct{ text, href string }
	var cands []cand
	doc.Find("a[href]").Each(func(_ int, s *goquery.Selection) {
		href, _ := s.Attr("href")
		text := squash(s.Text())
		if title, ok := s.Attr("title"); ok && text == "" {
			text = squash(title)
		}
		if text != "" && href != "" && !strings.HasPrefix(href, "javascript:") && !strings.HasPrefix(href, "#") {
			cands = append(cands, cand{text, href})
		}
	})
	for _, syn := range synonyms {
		for _, c := range cands {
			// A link to one report ("…2024年政府信息公开工作年度报告") is not
			// the column: prefer short link texts that are the column name.
			if strings.Contains(c.text, syn) && len([]rune(c.text)) <= len([]rune(syn))+6 {
				if u, err := base.Parse(c.href); err == nil {
					return Link{Text: c.text, URL: u.String()}, true
				}
			}
		}
	}
	return Link{}, false
}

// Item is a dated entry of a list page.
type Item struct {
	Title string
	URL   string
	// Date is YYYY-MM-DD or empty.
	Date string
}

// List is what one list page holds.
type List struct {
	Items []Item
	// Next is the URL of the next page, empty on the last.
	Next string
}

// ParseList reads the items of a list page: every list entry (li, tr or dd)
// with one link, taking the date shown beside it.
func ParseList(doc *goquery.Document, base *url.URL) List {
	var l List
	seen := map[string]bool{}
	doc.Find("li, tr, dd").Each(func(_ int, s *goquery.Selection) {
		links := s.Find("a[href]")
		if links.Length() != 1 || s.Find("li, tr").Length() > 0 || inChrome(s) {
			return
		}
		href, _ := links.Attr("href")
		title := squash(links.Text())
		if t, ok := links.Attr("title"); ok && len([]rune(t)) > len([]rune(title)) {
			title = squash(t) // list pages truncate long titles in the text
		}
		if title == "" || strings.HasPrefix(href, "javascript:") || href == "#" {
			return
		}
		u, err := base.Parse(href)
		if err != nil || seen[u.String()] {
			return
		}
		date, _ := FindDate(squash(s.Text()))
		seen[u.String()] = true
		l.Items = append(l.Items, Item{Title: title, URL: u.String(), Date: date})
	})
	doc.Find("a[href]").EachWithBreak(func(_ int, s *goquery.Selection) bool {
		if t := squash(s.Text()); t == "下一页" || t == "下页" || t == ">" && s.HasClass("next") {
			href, _ := s.Attr("href")
			if u, err := base.Parse(href); err == nil && u.String() != base.String() {
				l.Next = u.String()
			}
			return false
		}
		return true
	})
	return l
}

// chromeWords mark page furniture — navigation, header, footer,
// breadcrumbs — whose links are not column items.
var chromeWords = []string{"nav", "menu", "header", "footer", "crumb", "top", "bottom"}

func inChrome(s *goquery.Selection) bool {
	for p := s.Parent(); p.Length() > 0; p = p.Parent() {
		if n := goquery.NodeName(p); n == "nav" || n == "header" || n == "footer" {
			return true
		}
		attrs := strings.ToLower(p.AttrOr("class", "") + " " + p.AttrOr("id", ""))
		for _, w := range chromeWords {
			if strings.Contains(attrs, w) {
				return true
			}
		}
	}
	return false
}

var (
	reISO    = regexp.MustCompile(`((?:19|20)\d{2})[-/.](\d{1,2})[-/.](\d{1,2})`)
	reCN     = regexp.MustCompile(`((?:19|20)\d{2})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日`)
	reYear   = regexp.MustCompile(`((?:19|20)\d{2})\s*年`)
	rePubTag = regexp.MustCompile(`(?:发布日期|发布时间|发文日期|公开日期|日期)\s*[:：]\s*`)
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

func civil(ys, ms, ds string) (string, bool) {
	y, _ := strconv.Atoi(ys)
	m, _ := strconv.Atoi(ms)
	d, _ := strconv.Atoi(ds)
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if t.Year() != y || int(t.Month()) != m || t.Day() != d {
		return "", false
	}
	return t.Format("2006-01-02"), true
}

// PublicationDate returns the date labelled 发布日期 (or a similar label) on
// a detail page, falling back to the first date in the page's info line.
func PublicationDate(doc *goquery.Document) (string, bool) {
	text := squash(doc.Find("body").Text())
	if loc := rePubTag.FindStringIndex(text); loc != nil {
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
	m := reYear.FindStringSubmatch(t)
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
