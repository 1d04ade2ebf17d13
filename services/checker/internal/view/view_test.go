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

// BenchmarkNational fills the view with a national audit's instances and
// reports the heap they take.
func BenchmarkNational(b *testing.B) {
	for range b.N {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		v := New()
		due := time.Date(2026, 1, 31, 23, 59, 59, 0, time.UTC)
		for a := range 15000 {
			for o := range 40 {
				v.Put(Instance{AgencyID: fmt.Sprintf("agency-%05d", a), PackID: "cn-website-2019", ObligationID: fmt.Sprintf("OB-%02d", o),
					Period: "2025", State: events.States[(a+o)%len(events.States)], DueAt: due})
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(v.Len()), "heap-bytes/instance")
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "heap-MiB")
		runtime.KeepAlive(v)
	}
}
