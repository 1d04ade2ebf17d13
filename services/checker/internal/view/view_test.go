package view

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/gongkai/gongkai/pkg/events"
)

func TestPutReplaceAndQuery(t *testing.T) {
	v := New()
	due := time.Date(2026, 1, 31, 23, 59, 59, 0, time.UTC)
	v.Put(Instance{AgencyID: "a", PackID: "p", ObligationID: "AR", Period: "2024", State: events.StateSatisfied, DueAt: due.AddDate(-1, 0, 0), URL: "http://a/1"})
	v.Put(Instance{AgencyID: "a", PackID: "p", ObligationID: "AR", Period: "2025", State: events.StateDueSoon, DueAt: due})
	v.Put(Instance{AgencyID: "b", PackID: "p", ObligationID: "AR", Period: "2025", State: events.StateUnknown, DueAt: due, LastError: "refused"})
	v.Put(Instance{AgencyID: "a", PackID: "p", ObligationID: "AR", Period: "2025", State: events.StateOverdue, DueAt: due})
	if v.Len() != 3 {
		t.Fatalf("len %d", v.Len())
	}
	got := v.Agency("a")
	if len(got) != 2 || got[0].Period != "2025" || got[0].State != events.StateOverdue || got[1].URL != "http://a/1" {
		t.Fatalf("agency a: %+v", got)
	}
	if !got[0].DueAt.Equal(due) {
		t.Fatalf("due %v", got[0].DueAt)
	}
	s := v.Summarize(nil)
	if len(s.Obligations) != 1 || s.Cells["a"][0] != (Cell{"2025", events.StateOverdue}) || s.Counts["a"][events.StateSatisfied] != 1 {
		t.Fatalf("summary %+v", s)
	}
	by := v.CountBy(func(a string) string { return map[string]string{"a": "江苏省", "b": "江苏省"}[a] })
	if by["江苏省"][events.StateOverdue] != 1 || by["江苏省"][events.StateUnknown] != 1 || by["江苏省"][events.StateSatisfied] != 1 {
		t.Fatalf("count by %+v", by)
	}
}

// BenchmarkNational fills the view with a national audit's instances, whole
// records as the checker keeps them (evidence, versions, the outbox of the
// last transition), and reports the heap they take.
func BenchmarkNational(b *testing.B) {
	for range b.N {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		v := New()
		due := time.Date(2026, 1, 31, 23, 59, 59, 0, time.UTC)
		since := due.Add(34 * time.Hour)
		rev := uint64(0)
		for a := range 15000 {
			home := fmt.Sprintf("%064x", a) // the home page's evidence, shared by the agency's instances
			for o := range 40 {
				rev++
				st := events.States[(a+o)%len(events.States)]
				v.Set(Record{
					Instance: Instance{AgencyID: fmt.Sprintf("agency-%05d", a), PackID: "cn-website-2019", ObligationID: fmt.Sprintf("OB-%02d", o),
						Period: "2025", State: st, DueAt: due, Since: since, Evidence: []string{home}},
					CalendarVersion: "d8d0ef4928e1", PackVersion: "2026.1+38c3c03fc825", LastObserved: since,
					Outbox: &Outbox{Rev: rev / 2, At: since, State: st},
				}, rev, true)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(v.Len()), "heap-bytes/instance")
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "heap-MiB")
		runtime.KeepAlive(v)
	}
}

func TestRecordRoundTrip(t *testing.T) {
	v := New()
	cst := time.FixedZone("CST", 8*3600)
	since := time.Date(2026, 2, 3, 9, 0, 0, 123456789, cst)
	full := Record{
		Instance: Instance{AgencyID: "a", PackID: "p", ObligationID: "AR", Period: "2025", State: events.StateIncomplete,
			Since: since, DueAt: time.Date(2026, 1, 31, 23, 59, 59, 0, cst), Provisional: true, PublishedOn: "2026-01-20",
			URL: "http://a/1", Evidence: []string{"e1", "e2"}},
		Failures: 2, CalendarVersion: "cal1", PackVersion: "2026.1+abc", Text: "t", FailedRules: []string{"R1"}, Note: "n",
		LastObserved: since.Add(time.Hour),
		Outbox:       &Outbox{Rev: 7, At: since, From: events.StateOverdue, State: events.StateIncomplete},
	}
	v.Set(full, 9, true)
	got, rev, ok := v.Record("a", "p", "AR", "2025")
	if !ok || rev != 9 {
		t.Fatalf("record: ok %v rev %d", ok, rev)
	}
	same := func(a, b Record) bool {
		return a.AgencyID == b.AgencyID && a.PackID == b.PackID && a.ObligationID == b.ObligationID && a.Period == b.Period &&
			a.State == b.State && a.Since.Equal(b.Since) && a.DueAt.Equal(b.DueAt) && a.Provisional == b.Provisional &&
			a.PublishedOn == b.PublishedOn && a.URL == b.URL && fmt.Sprint(a.Evidence) == fmt.Sprint(b.Evidence) &&
			a.LastError == b.LastError && a.Failures == b.Failures && a.CalendarVersion == b.CalendarVersion &&
			a.PackVersion == b.PackVersion && a.Text == b.Text && fmt.Sprint(a.FailedRules) == fmt.Sprint(b.FailedRules) &&
			a.Note == b.Note && a.LastObserved.Equal(b.LastObserved) && (a.Outbox == nil) == (b.Outbox == nil) &&
			(a.Outbox == nil || a.Outbox.Rev == b.Outbox.Rev && a.Outbox.At.Equal(b.Outbox.At) && a.Outbox.From == b.Outbox.From && a.Outbox.State == b.Outbox.State)
	}
	if !same(got, full) {
		t.Fatalf("round trip:\n got %+v %+v\nwant %+v %+v", got, got.Outbox, full, full.Outbox)
	}

	// An older revision does not replace a newer one; a newer one does,
	// and an outbox time other than Since, a first transition (no from)
	// and zero times survive.
	older := full
	older.State = events.StateOverdue
	v.Set(older, 8, true)
	if got, _, _ := v.Record("a", "p", "AR", "2025"); got.State != events.StateIncomplete {
		t.Fatalf("revision 8 replaced revision 9: %s", got.State)
	}
	newer := Record{Instance: Instance{AgencyID: "a", PackID: "p", ObligationID: "AR", Period: "2025", State: events.StateSatisfied, Since: since},
		Outbox: &Outbox{Rev: 9, At: since.Add(time.Minute), State: events.StateSatisfied}}
	v.Set(newer, 10, true)
	got, rev, ok = v.Record("a", "p", "AR", "2025")
	if !ok || rev != 10 || !same(got, newer) {
		t.Fatalf("revision 10: ok %v rev %d %+v %+v", ok, rev, got, got.Outbox)
	}
	if !got.DueAt.IsZero() || !got.LastObserved.IsZero() {
		t.Fatalf("zero times came back as %v, %v", got.DueAt, got.LastObserved)
	}

	// Display-only records and unrepresentable times are not returned.
	v.Put(Instance{AgencyID: "b", PackID: "p", ObligationID: "AR", Period: "2025", State: events.StateOverdue})
	if _, _, ok := v.Record("b", "p", "AR", "2025"); ok || !v.Has("b", "p", "AR", "2025") {
		t.Fatal("a display-only record was returned")
	}
	far := newer
	far.DueAt = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	v.Set(far, 11, true)
	if _, _, ok := v.Record("a", "p", "AR", "2025"); ok {
		t.Fatal("a record with a time out of range was returned")
	}

	// Delete removes the record unless a later revision is held.
	v.Delete("a", "p", "AR", "2025", 11)
	if !v.Has("a", "p", "AR", "2025") {
		t.Fatal("a delete at revision 11 removed revision 11")
	}
	v.Delete("a", "p", "AR", "2025", 12)
	if v.Has("a", "p", "AR", "2025") || !v.Has("b", "p", "AR", "2025") || v.Len() != 1 {
		t.Fatalf("after delete: len %d", v.Len())
	}
}
