package calendar

import (
	"fmt"
	"testing"
)

// BenchmarkAddWorkdays compares the O(1) arithmetic with the day-by-day walk
// of the test oracle, for short and long spans.
func BenchmarkAddWorkdays(b *testing.B) {
	cn := mustLoad(b, "cn")
	ref := loadNaive(b, "data/calendar-cn.csv")
	starts := make([]Date, 1024)
	for i := range starts {
		starts[i] = NewDate(2016, 1, 1).AddDays(i * 3)
	}
	for _, n := range []int{20, 250, 2500} {
		b.Run(fmt.Sprintf("n=%d/engine", n), func(b *testing.B) {
			var sink Date
			for i := 0; b.Loop(); i++ {
				sink = cn.AddWorkdays(starts[i%len(starts)], n).Date
			}
			_ = sink
		})
		b.Run(fmt.Sprintf("n=%d/naive-walk", n), func(b *testing.B) {
			var sink Date
			for i := 0; b.Loop(); i++ {
				sink = ref.add(starts[i%len(starts)], n)
			}
			_ = sink
		})
	}
}

// BenchmarkWorkdaysBetween counts the working days of a decade.
func BenchmarkWorkdaysBetween(b *testing.B) {
	cn := mustLoad(b, "cn")
	from, to := NewDate(2016, 1, 1), NewDate(2026, 1, 1)
	for b.Loop() {
		_ = cn.WorkdaysBetween(from, to)
	}
}
