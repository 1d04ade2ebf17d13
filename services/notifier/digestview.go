package notifier

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	"github.com/gongkai/gongkai/pkg/events"
	"github.com/gongkai/gongkai/services/internal/calendar"
)

// Digest sections, in the order they are shown.
const (
	sectionOverdue  = "overdue"  // overdue and escalated
	sectionDueSoon  = "due_soon" // upcoming deadlines
	sectionNew      = "new"      // other new findings (incomplete, published late)
	sectionResolved = "resolved" // closed since the last digest
)

var sectionOrder = []string{sectionOverdue, sectionDueSoon, sectionNew, sectionResolved}

type digestLabels struct {
	Greeting, Intro, Due, State, Details, Footer, Alerted, Supervisor string
	Sections                                                          map[string]string
}

var digestLabelSets = map[string]digestLabels{
	"zh": {
		Greeting: "您好", Intro: "以下是截至%s政务公开事项的变化（共%d项），请及时处理需要办理的事项。",
		Due: "截止时间", State: "状态", Details: "详情",
		Footer:  "本邮件由 gongkai 政务公开监测系统在工作日自动发送；没有新情况时不发送。",
		Alerted: "已另行即时通知", Supervisor: "下级单位，督办",
		Sections: map[string]string{sectionOverdue: "逾期与督办", sectionDueSoon: "即将到期", sectionNew: "其他新发现", sectionResolved: "自上次日报以来已办结"},
	},
	"en": {
		Greeting: "Hello", Intro: "Here is what changed in open-government obligations as of %s (%d items); please act on those that need it.",
		Due: "Due", State: "State", Details: "Details",
		Footer:  "Sent automatically by gongkai on working days; nothing is sent when there is nothing new.",
		Alerted: "also sent as an immediate notice", Supervisor: "subordinate agency, escalated",
		Sections: map[string]string{sectionOverdue: "Overdue and escalated", sectionDueSoon: "Upcoming deadlines", sectionNew: "Other new findings", sectionResolved: "Resolved since the last digest"},
	},
}

// DigestData is what the digest templates see.
type DigestData struct {
	Lang string
	// Date is the digest's date (YYYY-MM-DD) in the recipient's calendar.
	Date string
	// Name is the recipient's name.
	Name string
	// Agencies names the agencies the digest covers; AgencySummary says
	// it in a few words ("示范市教育局", "示范市教育局等3个单位").
	Agencies      []string
	AgencySummary string
	Sections      []DigestSection
	// Count is the number of items; Summary counts them by section for
	// the subject ("逾期1项、即将到期2项（最近截止2026-02-20）").
	Count   int
	Summary string
	// Intro is the first paragraph.
	Intro string
	// Subject is the rendered subject (set before the bodies render).
	Subject string
	L       digestLabels
}

// DigestSection is one part of a digest.
type DigestSection struct {
	Key, Title string
	Items      []DigestItem
}

// DigestItem is one obligation instance in a digest: its latest finding.
type DigestItem struct {
	Agency, Link, Obligation, Period, Due, State, Note, Explanation, URL, PublishedOn, Color string
	// DueDate is the deadline's date, for sorting and the subject.
	DueDate string
}

// digestData builds a recipient's digest for date d from its pending
// items: one entry per obligation instance (its latest finding), in
// sections, with working days left or overdue counted on the calendar.
func (s *Service) digestData(items []item, jur string, d calendar.Date) DigestData {
	first := items[0].p
	lang := first.Lang
	if lang != "en" {
		lang = "zh"
	}
	li := 0
	if lang == "en" {
		li = 1
	}
	cal := s.sched.cal(jur)
	loc := cal.Location()
	type group struct {
		latest  pendingItem
		hadOpen bool
		alerted bool
	}
	groups := map[string]*group{}
	for _, it := range items {
		f := it.p.Finding
		k := f.AgencyID + "\x00" + f.PackID + "\x00" + f.ObligationID + "\x00" + f.Period
		g := groups[k]
		if g == nil {
			g = &group{latest: it.p}
			groups[k] = g
		} else if f.DecidedAt.After(g.latest.Finding.DecidedAt) ||
			f.DecidedAt.Equal(g.latest.Finding.DecidedAt) && it.p.RecordedAt.After(g.latest.RecordedAt) {
			g.latest = it.p
		}
		g.hadOpen = g.hadOpen || isOpen(f.To) || isOpen(f.From)
		g.alerted = g.alerted || it.p.Alerted && it.p.FindingID == g.latest.FindingID
	}
	sections := map[string][]DigestItem{}
	agencies := map[string]bool{}
	for _, k := range sortedKeys(groups) {
		g := groups[k]
		f := g.latest.Finding
		name := f.AgencyName
		if a, ok := s.opts.Registry.Get(f.AgencyID); ok && lang == "en" && a.NameEN != "" {
			name = a.NameEN
		}
		agencies[name] = true
		due, dueDate := dueText(f.DueAt, loc)
		di := DigestItem{
			Agency: name, Link: s.link(f.AgencyID), Obligation: f.Obligation.In(lang), Period: periodText(f.Period, lang),
			Due: due, DueDate: dueDate, State: stateLabel(f, li),
			Explanation: f.Explanation.In(lang), URL: f.URL, PublishedOn: f.PublishedOn, Color: stateColors[f.To],
		}
		if di.Color == "" {
			di.Color = "#1565c0"
		}
		var notes []string
		dueDay := calendar.DateOf(dueIn(f.DueAt, loc))
		sec := sectionNew
		switch {
		case f.To == events.StateOverdue || f.To == events.StateEscalated:
			sec = sectionOverdue
			if !f.DueAt.IsZero() {
				n := cal.WorkdaysBetween(dueDay, d).Days
				notes = append(notes, [2]string{fmt.Sprintf("已逾期%d个工作日", n), fmt.Sprintf("%d working days overdue", n)}[li])
			}
		case f.To == events.StateDueSoon:
			sec = sectionDueSoon
			switch n := cal.WorkdaysBetween(d, dueDay).Days; {
			case f.DueAt.IsZero():
			case n > 0:
				notes = append(notes, [2]string{fmt.Sprintf("还剩%d个工作日", n), fmt.Sprintf("%d working days left", n)}[li])
			case dueDay == d:
				notes = append(notes, [2]string{"今天截止", "due today"}[li])
			default:
				notes = append(notes, [2]string{"已到期", "deadline passed"}[li])
			}
		case isClosing(f.To) && (g.hadOpen || isOpen(f.From)):
			sec = sectionResolved
		}
		if g.latest.Supervisor {
			notes = append(notes, digestLabelSets[lang].Supervisor)
		}
		if g.alerted {
			notes = append(notes, digestLabelSets[lang].Alerted)
		}
		di.Note = strings.Join(notes, [2]string{"；", "; "}[li])
		sections[sec] = append(sections[sec], di)
	}
	out := DigestData{Lang: lang, Date: d.String(), Name: first.Name, L: digestLabelSets[lang]}
	for _, key := range sectionOrder {
		its := sections[key]
		if len(its) == 0 {
			continue
		}
		sort.SliceStable(its, func(i, j int) bool {
			if its[i].DueDate != its[j].DueDate {
				return its[i].DueDate < its[j].DueDate
			}
			return its[i].Agency < its[j].Agency
		})
		out.Sections = append(out.Sections, DigestSection{Key: key, Title: out.L.Sections[key], Items: its})
	}
	out.Agencies = sortedKeys(agencies)
	out.finish()
	return out
}

// finish fills in the counts and the summaries.
func (d *DigestData) finish() {
	li := 0
	if d.Lang == "en" {
		li = 1
	}
	d.Count = 0
	var parts []string
	for _, sec := range d.Sections {
		n := len(sec.Items)
		d.Count += n
		var part string
		switch sec.Key {
		case sectionOverdue:
			part = [2]string{fmt.Sprintf("逾期%d项", n), fmt.Sprintf("%d overdue", n)}[li]
		case sectionDueSoon:
			next := ""
			for _, it := range sec.Items {
				if it.DueDate != "" {
					next = it.DueDate
					break
				}
			}
			part = [2]string{fmt.Sprintf("即将到期%d项", n), fmt.Sprintf("%d due soon", n)}[li]
			if next != "" {
				part += [2]string{"（最近截止" + next + "）", " (next " + next + ")"}[li]
			}
		case sectionNew:
			part = [2]string{fmt.Sprintf("新发现%d项", n), fmt.Sprintf("%d new", n)}[li]
		case sectionResolved:
			part = [2]string{fmt.Sprintf("已办结%d项", n), fmt.Sprintf("%d resolved", n)}[li]
		}
		parts = append(parts, part)
	}
	d.Summary = strings.Join(parts, [2]string{"、", ", "}[li])
	switch len(d.Agencies) {
	case 0:
	case 1:
		d.AgencySummary = d.Agencies[0]
	default:
		d.AgencySummary = [2]string{fmt.Sprintf("%s等%d个单位", d.Agencies[0], len(d.Agencies)), fmt.Sprintf("%s and %d more", d.Agencies[0], len(d.Agencies)-1)}[li]
	}
	d.Intro = fmt.Sprintf(d.L.Intro, d.Date, d.Count)
}

// RenderDigest renders a digest.
func (t *Templates) RenderDigest(d DigestData) (Message, error) {
	tt := t.text["digest."+d.Lang]
	if tt == nil {
		return Message{}, fmt.Errorf("no digest template for language %q", d.Lang)
	}
	var sb, tb, hb bytes.Buffer
	if err := tt.ExecuteTemplate(&sb, "subject", d); err != nil {
		return Message{}, fmt.Errorf("render digest subject: %w", err)
	}
	d.Subject = oneLine(sb.String())
	if err := tt.Execute(&tb, d); err != nil {
		return Message{}, fmt.Errorf("render digest text: %w", err)
	}
	if err := t.html["digest"].Execute(&hb, d); err != nil {
		return Message{}, fmt.Errorf("render digest html: %w", err)
	}
	return Message{Subject: d.Subject, Text: tb.String(), HTML: hb.String()}, nil
}
