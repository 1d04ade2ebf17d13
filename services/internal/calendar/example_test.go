package calendar_test

import (
	"fmt"

	"github.com/gongkai/gongkai/services/internal/calendar"
)

// A request for government information received on Friday 2026-01-30 must
// be answered within 20 working days (2019 条例 art. 33), 40 with the
// extension; the Spring Festival and two make-up Saturdays lie in between.
func ExampleCalendar_AddWorkdays() {
	cn, err := calendar.Load("cn")
	if err != nil {
		panic(err)
	}
	receipt := calendar.NewDate(2026, 1, 30)
	fmt.Println(cn.AddWorkdays(receipt, 20).Date)
	fmt.Println(cn.AddWorkdays(receipt, 40).Date)
	late := cn.AddWorkdays(calendar.NewDate(2026, 12, 15), 20)
	fmt.Println(late.Date, late.Provisional)
	// Output:
	// 2026-03-05
	// 2026-04-02
	// 2027-01-12 true
}

// Working days are counted after the first date up to and including the
// second, so a calendar year is counted from the previous December 31.
func ExampleCalendar_WorkdaysBetween() {
	cn, err := calendar.Load("cn")
	if err != nil {
		panic(err)
	}
	fmt.Println(cn.WorkdaysBetween(calendar.NewDate(2024, 12, 31), calendar.NewDate(2025, 12, 31)).Days)
	// Output: 248
}
