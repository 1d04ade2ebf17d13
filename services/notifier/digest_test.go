package notifier

import (
	"strings"
	"testing"
	"time"

	"github.com/gongkai/gongkai/pkg/events"
)

// Across the 2026 Spring Festival: 春节 2/15–2/23 off, Saturdays 2/14 and
// 2/28 are make-up working days (调休). Digests go out on 2/14, 2/24 and
// 2/28 and on no rest day; findings decided on rest days wait for the next
// working day; a day with nothing new sends nothing.
func TestDigestAcrossSpringFestival(t *testing.T) {
	r := newRig(t, loadRegistry(t, "testdata/registry.yaml"), nil)
	r.start()
	const who = "wang.wu@wjw.sfz.example" // a digest-mode contact of sfz-wjw
	// Findings decided after the digest time wait for the next working
	// day's digest: A on Friday 2/13 (→ Saturday 2/14, 调休), B on 2/14
	// after its digest and C on 2/17 (春节) (→ Tuesday 2/24), D on Friday
	// 2/27 (→ Saturday 2/28, 调休).
	type pub struct {
		name   string
		to     events.State
		due, t time.Time
	}
	pubs := []pub{
		{"A", events.StateDueSoon, at(2026, 2, 27, 23, 59), at(2026, 2, 13, 10, 0)},
		{"B", events.StateDueSoon, at(2026, 2, 26, 23, 59), at(2026, 2, 14, 11, 0)},
		{"C", events.StateIncomplete, at(2026, 1, 31, 23, 59), at(2026, 2, 17, 12, 0)},
		{"D", events.StateDueSoon, at(2026, 3, 3, 23, 59), at(2026, 2, 27, 15, 0)},
	}
	dates := map[string]int{} // digest date → messages to who
	day := at(2026, 2, 13, 8, 0)
	for range 17 { // 2/13 … 3/1, at 08:00 (before the digest time) and 09:00 (after)
		r.digestAt(day)
		if n := len(mailsTo(r, who)); n != sum(dates) {
			t.Fatalf("%s, before the digest time: a digest was sent", day.Format("01-02 15:04"))
		}
		r.digestAt(day.Add(time.Hour))
		for _, m := range mailsTo(r, who)[sum(dates):] {
			dates[day.Format("2006-01-02")]++
			checkDigest(t, day, m)
		}
		for _, p := range pubs {
			if p.t.Format("0102") == day.Format("0102") {
				r.clock.Set(p.t)
				r.publish(finding("sfz-wjw", p.name, events.StateNotDue, p.to, events.SeverityWarning, p.due, p.t))
				r.settle()
			}
		}
		day = day.AddDate(0, 0, 1)
	}
	want := map[string]int{"2026-02-14": 1, "2026-02-24": 1, "2026-02-28": 1}
	if len(dates) != len(want) {
		t.Fatalf("digests on %v, want %v", dates, want)
	}
	for d, n := range want {
		if dates[d] != n {
			t.Fatalf("digests on %v, want %v", dates, want)
		}
	}
}

func mailsTo(r *rig, to string) []received {
	var out []received
	for _, m := range r.mails() {
		if m.To == to {
			out = append(out, m)
		}
	}
	return out
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// checkDigest checks the content of each digest of the Spring Festival test.
func checkDigest(t *testing.T, day time.Time, m received) {
	t.Helper()
	date := day.Format("2006-01-02")
	var subject string
	var has, hasNot []string
	switch date {
	case "2026-02-14":
		// A, due Friday 2/27: working days left from 2/14 skip the holiday —
		// 2/24, 2/25, 2/26, 2/27 = 4.
		subject = "【政务公开日报】2026-02-14 示范市卫生健康委员会：即将到期1项（最近截止2026-02-27）"
		has = []string{"王五：", "■ 即将到期（1项）", "政府信息公开工作年度报告（A）", "截止时间：2026-02-27 23:59 CST｜还剩4个工作日"}
		hasNot = []string{"（B）", "（C）"}
	case "2026-02-24":
		// B (decided 2/14 after the digest) and C (decided on a holiday).
		subject = "【政务公开日报】2026-02-24 示范市卫生健康委员会：即将到期1项（最近截止2026-02-26）、新发现1项"
		has = []string{"还剩2个工作日", "（B）", "■ 其他新发现（1项）", "（C）", "内容不完整"}
		hasNot = []string{"（A）"}
	case "2026-02-28":
		// D, due Tuesday 3/3: 3/2 and 3/3 = 2 working days (3/1 is a Sunday).
		subject = "【政务公开日报】2026-02-28 示范市卫生健康委员会：即将到期1项（最近截止2026-03-03）"
		has = []string{"（D）", "还剩2个工作日"}
		hasNot = []string{"（A）", "（B）", "（C）"}
	default:
		t.Fatalf("a digest on %s: %s", date, m.Subject)
	}
	if m.Subject != subject {
		t.Errorf("%s subject\n got %q\nwant %q", date, m.Subject, subject)
	}
	for _, s := range has {
		if !strings.Contains(m.Text, s) {
			t.Errorf("%s digest lacks %q:\n%s", date, s, m.Text)
		}
	}
	for _, s := range hasNot {
		if strings.Contains(m.Text, s) {
			t.Errorf("%s digest repeats %q:\n%s", date, s, m.Text)
		}
	}
	if !strings.Contains(m.HTML, "https://dash.example/agencies/sfz-wjw") {
		t.Errorf("%s digest HTML has no dashboard link", date)
	}
}

// One digest with every section: overdue (also sent immediately),
// escalated at a subordinate agency (to the supervisor), due soon, a new
// finding, and matters resolved since the last digest — a due-soon item
// that was published before the digest collapses into "resolved".
func TestDigestContent(t *testing.T) {
	r := newRig(t, loadRegistry(t, "testdata/registry.yaml"), nil)
	r.start()
	r.clock.Set(at(2026, 3, 2, 10, 0)) // Monday
	due := at(2026, 1, 31, 23, 59)
	pub := func(agency, obligation string, from, to events.State, sev events.Severity, due time.Time, decided time.Time) {
		id, f := finding(agency, obligation, from, to, sev, due, decided)
		if to == events.StateSatisfiedLate || to == events.StateSatisfied {
			f.PublishedOn = "2026-03-02"
			f.URL = "https://gov.sfz.example/ndbg/2025.html"
		}
		r.publish(id, f)
	}
	// The city government's own matters, and one of a subordinate.
	pub("sfz-gov", "OVERDUE", events.StateDueSoon, events.StateOverdue, events.SeverityCritical, due, at(2026, 3, 2, 10, 0))
	pub("sfz-gov", "SOON", events.StateNotDue, events.StateDueSoon, events.SeverityWarning, at(2026, 3, 6, 23, 59), at(2026, 3, 2, 10, 0))
	pub("sfz-gov", "DONE", events.StateNotDue, events.StateDueSoon, events.SeverityWarning, at(2026, 3, 6, 23, 59), at(2026, 3, 2, 10, 0))
	pub("sfz-gov", "DONE", events.StateDueSoon, events.StateSatisfied, events.SeverityInfo, at(2026, 3, 6, 23, 59), at(2026, 3, 2, 11, 0))
	pub("sfz-gov", "LATE", "", events.StateSatisfiedLate, events.SeverityWarning, due, at(2026, 3, 2, 10, 0))
	pub("sfz-town", "ESC", events.StateOverdue, events.StateEscalated, events.SeverityWarning, due, at(2026, 3, 2, 10, 0))
	r.settle()
	r.digestAt(at(2026, 3, 3, 8, 30))
	var digest *received
	ms := r.mails()
	for i := range ms {
		if ms[i].To == "gongkai@gov.sfz.example" && strings.HasPrefix(ms[i].Subject, "【政务公开日报】") {
			digest = &ms[i]
		}
	}
	if digest == nil {
		t.Fatalf("no digest to the government's office: %v", summary(ms))
	}
	if want := "【政务公开日报】2026-03-03 示范市人民政府等2个单位：逾期2项、即将到期1项（最近截止2026-03-06）、新发现1项、已办结1项"; digest.Subject != want {
		t.Errorf("subject\n got %q\nwant %q", digest.Subject, want)
	}
	text := digest.Text
	for _, s := range []string{
		"以下是截至2026-03-03政务公开事项的变化（共5项）",
		"■ 逾期与督办（2项）",
		"示范市人民政府：政府信息公开工作年度报告（OVERDUE）（2025）\n  截止时间：2026-01-31 23:59 CST｜已逾期18个工作日；已另行即时通知",
		"示范镇人民政府：政府信息公开工作年度报告（ESC）（2025）\n  截止时间：2026-01-31 23:59 CST｜已逾期18个工作日；下级单位，督办",
		"■ 即将到期（1项）",
		"（SOON）（2025）\n  截止时间：2026-03-06 23:59 CST｜还剩3个工作日",
		"■ 其他新发现（1项）\n\n· 示范市人民政府：政府信息公开工作年度报告（LATE）",
		"■ 自上次日报以来已办结（1项）\n\n· 示范市人民政府：政府信息公开工作年度报告（DONE）",
		"发现位置：https://gov.sfz.example/ndbg/2025.html",
		"详情：https://dash.example/agencies/sfz-town",
	} {
		if !strings.Contains(text, s) {
			t.Errorf("digest lacks %q:\n%s", s, text)
		}
	}
	// Sections appear in order.
	last := -1
	for _, s := range []string{"逾期与督办", "即将到期（", "其他新发现", "已办结"} {
		i := strings.Index(text, s)
		if i < last {
			t.Errorf("section %s out of order:\n%s", s, text)
		}
		last = i
	}
	// The English-speaking contact of the same agency would read English; the
	// US agency's contact is on the US calendar (checked in TestRouting).
	if !strings.Contains(digest.HTML, "<h3") || !strings.Contains(digest.HTML, "示范镇人民政府") {
		t.Errorf("digest HTML:\n%s", digest.HTML)
	}
	// Nothing new: the next morning sends nothing.
	n := len(r.mails())
	r.digestAt(at(2026, 3, 4, 8, 30))
	if len(r.mails()) != n {
		t.Errorf("a digest was sent with nothing to say: %v", summary(r.mails()[n:]))
	}
}

// An English digest.
func TestDigestInEnglish(t *testing.T) {
	r := newRig(t, loadRegistry(t, "testdata/registry.yaml"), nil)
	r.start()
	r.clock.Set(at(2026, 3, 2, 10, 0))
	r.publish(finding("sfz-wjw", "X", events.StateNotDue, events.StateDueSoon, events.SeverityWarning, at(2026, 3, 4, 18, 0), r.clock.Now()))
	r.settle()
	r.digestAt(at(2026, 3, 3, 8, 30))
	for _, m := range r.mails() {
		if m.To != "zhao.liu@wjw.sfz.example" {
			continue
		}
		if want := "[gongkai digest] 2026-03-03 示范市卫生健康委员会: 1 due soon (next 2026-03-04)"; m.Subject != want {
			t.Errorf("subject %q, want %q", m.Subject, want)
		}
		for _, s := range []string{"Zhao Liu:", "■ Upcoming deadlines (1)", "Due: 2026-03-04 18:00 CST | 1 working days left", "Explanation: due_soon"} {
			if !strings.Contains(m.Text, s) {
				t.Errorf("English digest lacks %q:\n%s", s, m.Text)
			}
		}
		return
	}
	t.Fatalf("no digest to the English-speaking contact: %v", summary(r.mails()))
}
