package discover

import (
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestFindDate(t *testing.T) {
	cases := []struct{ in, want string }{
		{"2024-03-15", "2024-03-15"},
		{"发布时间：2024年3月5日 10:00", "2024-03-05"},
		{"[2024/03/15]", "2024-03-15"},
		{"2024.3.15", "2024-03-15"},
		{"标题 2024 年 12 月 1 日", "2024-12-01"},
		{"2024-02-30 is not a date, 2024-02-29 is", "2024-02-29"},
		{"2023-02-29", ""},
		{"no date here", ""},
		{"2024年度报告", ""},
		{"编号 20240315", ""},
		{"先 2025年1月20日 后 2024-01-01", "2025-01-20"},
	}
	for _, c := range cases {
		got, ok := FindDate(c.in)
		if got != c.want || ok != (c.want != "") {
			t.Errorf("FindDate(%q) = %q, %v; want %q", c.in, got, ok, c.want)
		}
	}
}

func TestReportYear(t *testing.T) {
	cases := map[string]int{
		"淮安市财政局2024年政府信息公开工作年度报告":    2024,
		"淮安市财政局 2024 年度政府信息公开工作年度报告": 2024,
		"2023年政府信息公开年报":              2023,
		"关于2024年春节放假的通知":             0,
		"政府信息公开指南":                   0,
	}
	for in, want := range cases {
		if got := ReportYear(in); got != want {
			t.Errorf("ReportYear(%q) = %d, want %d", in, got, want)
		}
	}
}

const listPage = `<html><body>
<div class="nav"><ul><li><a href="/">首页</a></li></ul></div>
<ul class="list">
<li><a href="./202501/t20250122_1.html" title="淮安市财政局2024年政府信息公开工作年度报告">淮安市财政局2024年政府信息公开工作...</a><span>2025-01-22</span></li>
<li><a href="./202401/t20240125_1.html">淮安市财政局2023年政府信息公开工作年度报告</a><span>[2024年1月25日]</span></li>
<li><a href="javascript:void(0)">打印</a></li>
</ul>
<table><tr><td><a href="/doc/3.html">2022年度报告</a></td><td>2023/01/30</td></tr></table>
<div class="page"><a href="index_1.html">下一页</a></div>
</body></html>`

func TestParseList(t *testing.T) {
	doc, err := Parse([]byte(listPage))
	if err != nil {
		t.Fatal(err)
	}
	base, _ := url.Parse("http://czj.example/zfxxgk/ndbg/index.html")
	l := ParseList(doc, base, ListOptions{})
	want := []Item{
		{"淮安市财政局2024年政府信息公开工作年度报告", "http://czj.example/zfxxgk/ndbg/202501/t20250122_1.html", "2025-01-22"},
		{"淮安市财政局2023年政府信息公开工作年度报告", "http://czj.example/zfxxgk/ndbg/202401/t20240125_1.html", "2024-01-25"},
		{"2022年度报告", "http://czj.example/doc/3.html", "2023-01-30"},
	}
	if len(l.Items) != len(want) {
		t.Fatalf("items %+v", l.Items)
	}
	for i := range want {
		if l.Items[i] != want[i] {
			t.Errorf("item %d = %+v, want %+v", i, l.Items[i], want[i])
		}
	}
	if l.Next != "http://czj.example/zfxxgk/ndbg/index_1.html" {
		t.Errorf("next %q", l.Next)
	}
}

func TestFindLinkPrefersTheColumnName(t *testing.T) {
	doc, err := Parse([]byte(`<a href="/news/1.html">淮安市财政局2024年政府信息公开工作年度报告</a>
		<a href="/zfxxgk/">政府信息公开</a><a href="/zfxxgk/ndbg/">政府信息公开年报</a>`))
	if err != nil {
		t.Fatal(err)
	}
	base, _ := url.Parse("http://x.example/")
	l, ok := FindLink(doc, base, []string{"政府信息公开年报", "年度报告"})
	if !ok || l.URL != "http://x.example/zfxxgk/ndbg/" {
		t.Fatalf("FindLink = %+v, %v", l, ok)
	}
	if _, ok := FindLink(doc, base, []string{"依申请公开"}); ok {
		t.Fatal("found a link that is not there")
	}
}

func TestPublicationDate(t *testing.T) {
	doc, _ := Parse([]byte(`<div class="info">来源：财政局　发布日期：2026-01-20　浏览次数：12</div><p>2025年1月1日至2025年12月31日</p>`))
	if d, ok := PublicationDate(doc); !ok || d != "2026-01-20" {
		t.Fatalf("PublicationDate = %q, %v", d, ok)
	}
	doc, _ = Parse([]byte(`<p>no label 2026-01-20</p>`))
	if _, ok := PublicationDate(doc); ok {
		t.Fatal("a date without a label was taken as the publication date")
	}
}

func FuzzParseList(f *testing.F) {
	f.Add([]byte(listPage))
	f.Add([]byte(`<li><a href="%zz">x</a>2024-13-45</li>`))
	f.Add([]byte(trsPage))
	f.Add([]byte(tablePage))
	f.Add([]byte(`<script>createPageHTML(99999,3,"a/b","html")</script><li><a href="t20240230_1.html">x</a>[02-29]</li>`))
	base, _ := url.Parse("http://x.example/a/")
	f.Fuzz(func(t *testing.T, b []byte) {
		doc, err := Parse(b)
		if err != nil {
			return
		}
		l := ParseList(doc, base, ListOptions{Ref: time.Date(2026, 2, 3, 0, 0, 0, 0, time.UTC)})
		_ = ContentChars(doc)
		_, _ = PublicationDate(doc)
		for _, a := range Attachments(doc, base) {
			if a.URL == "" {
				t.Fatal("empty attachment URL")
			}
		}
		if l.Next != "" {
			if _, err := url.Parse(l.Next); err != nil {
				t.Fatalf("bad next %q", l.Next)
			}
		}
		for _, it := range l.Items {
			if it.URL == "" || it.Title == "" {
				t.Fatalf("empty item %+v", it)
			}
			if it.Date != "" && len(it.Date) != 10 {
				t.Fatalf("bad date %q", it.Date)
			}
		}
	})
}

func FuzzFindDate(f *testing.F) {
	for _, s := range []string{"2024-03-15", "2024年3月5日", "[2024/03/15]", "9999-99-99", strings.Repeat("2024年", 50)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if d, ok := FindDate(s); ok {
			if _, ok2 := civil(d[:4], d[5:7], d[8:]); !ok2 {
				t.Fatalf("FindDate(%q) returned invalid %q", s, d)
			}
		}
	})
}
