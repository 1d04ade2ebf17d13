package notifier

import (
	"fmt"
	"time"

	"github.com/gongkai/gongkai/services/internal/calendar"
)

// schedule says when digests go out: at one local time of day, on the
// working days of each jurisdiction's calendar, in that calendar's time
// zone.
type schedule struct {
	hour, minute int
	cals         map[string]*calendar.Calendar
}

func newSchedule(at string, cals map[string]*calendar.Calendar) (schedule, error) {
	t, err := time.Parse("15:04", at)
	if err != nil {
		return schedule{}, fmt.Errorf("digest time %q: want HH:MM", at)
	}
	if len(cals) == 0 {
		return schedule{}, fmt.Errorf("no calendars")
	}
	for j, c := range cals {
		if c == nil {
			return schedule{}, fmt.Errorf("calendar of %q is nil", j)
		}
	}
	return schedule{hour: t.Hour(), minute: t.Minute(), cals: cals}, nil
}

// cal returns the calendar of a jurisdiction, "cn" (or any) when unknown.
func (s schedule) cal(jurisdiction string) *calendar.Calendar {
	if c, ok := s.cals[jurisdiction]; ok {
		return c
	}
	if c, ok := s.cals["cn"]; ok {
		return c
	}
	for _, j := range sortedKeys(s.cals) {
		return s.cals[j]
	}
	return nil
}

// slot returns the instant of the digest of date d in calendar c.
func (s schedule) slot(c *calendar.Calendar, d calendar.Date) time.Time {
	return time.Date(d.Year, d.Month, d.Day, s.hour, s.minute, 0, 0, c.Location())
}

// dueSlot returns the first digest instant at or after t (strictly after,
// when t is exactly a slot) on a working day of the jurisdiction's calendar:
// the digest that reports something that happened at t.
func (s schedule) dueSlot(jurisdiction string, t time.Time) time.Time {
	c := s.cal(jurisdiction)
	d := c.Today(t)
	if c.IsWorkday(d) && t.Before(s.slot(c, d)) {
		return s.slot(c, d)
	}
	return s.slot(c, c.NextWorkday(d).Date)
}

// nextSlotAfterDate returns the digest instant of the first working day
// after d.
func (s schedule) nextSlotAfterDate(jurisdiction string, d calendar.Date) time.Time {
	c := s.cal(jurisdiction)
	return s.slot(c, c.NextWorkday(d).Date)
}

// current returns the date whose digest is due at now in jurisdiction j:
// today, if today is a working day and its slot has passed.
func (s schedule) current(c *calendar.Calendar, now time.Time) (calendar.Date, time.Time, bool) {
	d := c.Today(now)
	if !c.IsWorkday(d) {
		return d, time.Time{}, false
	}
	slot := s.slot(c, d)
	return d, slot, !now.Before(slot)
}
