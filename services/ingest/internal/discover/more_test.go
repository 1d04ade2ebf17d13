package discover

import (
	"net/url"
	"testing"
	"time"

	"github.com/andybalholm/cascadia"
)

var ref = time.Date(2026, 2, 3, 9, 0, 0, 0, time.UTC)

const trsPage = `<html><body>
<div class="list"><ul>
<li><a href="./202601/t20260120_1001.html">关于印发某某办法的通知</a><span>[01-20]</span></li>
<li><a href="./202512/t20251228_1000.html">年终总结会召开</a><span>[12-28]</span></li>
<li><a href="./202511/t20251103_999.html">无日期的条目</a></li>
</ul></div>
<script type="text/javascript">
var countPage = 5;
createPageHTML(5, 0, "index", "html");
</script>
</body></html>`

const tablePage = `<html><body>
<table class="tb">
<tr><th>标题</th><th>发布日期</th></tr>
<tr><td><a href="/a/1.html">2026年部门预算</a></td><td>2026年2月12日</td></tr>
<tr><td><a href="/a/2.html">2024年部门决算</a></td><td>2025/8/1</td></tr>
</table>
<div class="pagination">共3页</div>
</body></html>`

func TestParseListTRS(t *testing.T) {
	doc, _ := Parse([]byte(trsPage))
	base, _ := url.Parse("http://x.example/zfxxgk/tzgg/")
	l := ParseList(doc, base, ListOptions{Ref: ref})
	want := []string{"2026-01-20", "2025-12-28", "2025-11-03"}
	if len(l.Items) != 3 {
		t.Fatalf("items %+v", l.Items)
	}
	for i, w := range want {
		if l.Items[i].Date != w {
			t.Errorf("item %d date %q, want %q", i, l.Items[i].Date, w)
		}
	}
	if l.Next != "http://x.example/zfxxgk/tzgg/index_1.html" || l.Pages != 5 {
		t.Errorf("next %q pages %d", l.Next, l.Pages)
	}
	// The last page has no next.
	last, _ := Parse([]byte(`<script>createPageHTML('page_div',5,4,'index','shtml',50)</script>`))
	if l := ParseList(last, base, ListOptions{}); l.Next != "" || l.Pages != 5 {
		t.Errorf("last page: next %q pages %d", l.Next, l.Pages)
	}
	mid, _ := Parse([]byte(`<script>createPageHTML('page_div',5,2,'index','shtml',50)</script>`))
	if l := ParseList(mid, base, ListOptions{}); l.Next != "http://x.example/zfxxgk/tzgg/index_3.shtml" {
		t.Errorf("middle page: next %q", l.Next)
	}
	vars, _ := Parse([]byte(`<script>var countPage = 3;var currentPage = 1;createPageHTML(countPage, currentPage, "index", "html");</script>`))
	if l := ParseList(vars, base, ListOptions{}); l.Next != "http://x.example/zfxxgk/tzgg/index_2.html" {
		t.Errorf("variables: next %q", l.Next)
	}
}

func TestParseListTableAndSelector(t *testing.T) {
	doc, _ := Parse([]byte(tablePage))
	base, _ := url.Parse("http://x.example/yjs/")
	l := ParseList(doc, base, ListOptions{Ref: ref})
	if len(l.Items) != 2 || l.Items[0].Date != "2026-02-12" || l.Items[1].Date != "2025-08-01" || l.Pages != 3 {
		t.Fatalf("table list %+v", l)
	}
	custom, _ := Parse([]byte(`<div class="box"><p class="row"><a href="/x/1.html">甲</a> 2024-05-06</p><p class="row"><a href="/x/2.html">乙</a> 2024-05-07</p></div><a class="pg" href="p2.html">2</a>`))
	l = ParseList(custom, base, ListOptions{Items: cascadia.MustCompile("p.row"), Next: cascadia.MustCompile("a.pg")})
	if len(l.Items) != 2 || l.Items[1].Date != "2024-05-07" || l.Next != "http://x.example/yjs/p2.html" {
		t.Fatalf("selector list %+v", l)
	}
}

func TestShortAndURLDates(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"[01-20]", "2026-01-20"},
		{"[02-03]", "2026-02-03"},
		{"[02-04]", "2025-02-04"},
		{"12/28", "2025-12-28"},
		{"3月5日", "2025-03-05"},
		{"[02-30]", ""},
		{"2024-03-15", ""}, // a full date is FindDate's
	} {
		got, _ := FindShortDate(c.in, ref)
		if got != c.want {
			t.Errorf("FindShortDate(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	for in, want := range map[string]string{
		"/202401/t20240125_1.html": "2024-01-25",
		"/art/2024/3/5/art_1.html": "",
		"/t20240230_1.html":        "",
		"/P020240315_1.pdf":        "2024-03-15",
	} {
		if got, _ := DateFromURL(in); got != want {
			t.Errorf("DateFromURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestBlankAndContent(t *testing.T) {
	blank, _ := Parse([]byte(`<html><body><div class="nav"><a href="/">首页</a>导航文字很多很多很多很多很多很多很多</div><div class="crumb">首页 &gt; 领导介绍</div><div class="main"></div><div class="footer">主办单位：某某局 版权所有</div></body></html>`))
	content, _ := Parse([]byte(`<html><body><div class="main"><p>某某局主要职责：贯彻执行国家有关方针政策和法律法规，负责全市相关工作的统筹协调和监督管理。办公地址：某某路1号。</p></div></body></html>`))
	if n := ContentChars(blank); n > 10 {
		t.Errorf("blank page has %d content characters", n)
	}
	if n := ContentChars(content); n < 40 {
		t.Errorf("content page has %d content characters", n)
	}
}

func TestAttachmentsAndTitleYear(t *testing.T) {
	doc, _ := Parse([]byte(`<p><a href="/files/P0202501.pdf">附件：2024年报告.pdf</a><a href="a.DOCX">下载</a><a href="a.DOCX#x">again</a><a href="/x.html">页面</a></p>`))
	base, _ := url.Parse("http://x.example/d/t.html")
	a := Attachments(doc, base)
	if len(a) != 2 || a[0].URL != "http://x.example/files/P0202501.pdf" || a[1].URL != "http://x.example/d/a.DOCX" {
		t.Fatalf("attachments %+v", a)
	}
	if TitleYear("2026年部门预算公开") != 2026 || TitleYear("部门预算") != 0 {
		t.Fatal("TitleYear")
	}
}

func TestMatchLinkPrefersExactText(t *testing.T) {
	links := []Link{{"信息公开年报汇总", "http://x/1"}, {"年度报告", "http://x/2"}, {"政府信息公开年报", "http://x/3"}}
	if l, ok := MatchLink(links, []string{"政府信息公开年报", "年度报告"}); !ok || l.URL != "http://x/3" {
		t.Fatalf("%+v", l)
	}
	if l, ok := MatchLink(links, []string{"年度报告", "政府信息公开年报"}); !ok || l.URL != "http://x/2" {
		t.Fatalf("%+v", l)
	}
}

func FuzzShortDate(f *testing.F) {
	for _, s := range []string{"[03-15]", "12/31", "2月29日", "99-99", "1-2-3-4"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if d, ok := FindShortDate(s, ref); ok {
			if _, ok2 := civil(d[:4], d[5:7], d[8:]); !ok2 || d > "2026-02-03" {
				t.Fatalf("FindShortDate(%q) = %q", s, d)
			}
		}
		if d, ok := DateFromURL(s); ok {
			if _, ok2 := civil(d[:4], d[5:7], d[8:]); !ok2 {
				t.Fatalf("DateFromURL(%q) = %q", s, d)
			}
		}
	})
}
