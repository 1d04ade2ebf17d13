package calendar

import (
	"fmt"
	"time"
)

// Date is a civil (wall-calendar) date with no time of day and no time zone.
// Deadlines are counted in civil dates of a jurisdiction, so Date keeps
// arithmetic free of time-zone and daylight-saving mistakes. The zero Date is
// not a valid date; IsZero reports it.
type Date struct {
	// Year is the year, such as 2026.
	Year int
	// Month is the month of the year.
	Month time.Month
	// Day is the day of the month, from 1.
	Day int
}

// NewDate returns the date year-month-day, normalising out-of-range months
// and days the way time.Date does (for example, January 32 becomes
// February 1).
func NewDate(year int, month time.Month, day int) Date {
	m := int(month) - 1
	y := year + floorDiv(m, 12)
	mm := time.Month(floorMod(m, 12) + 1)
	return fromDays(daysFromCivil(y, mm, 1) + day - 1)
}

// DateOf returns the civil date of t in t's own location. Convert t with
// t.In(loc) first to get the date in another time zone.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{Year: y, Month: m, Day: d}
}

// ParseDate parses a date in the form YYYY-MM-DD (four-digit year, two-digit
// month and day). It rejects dates that do not exist, such as 2025-02-29.
func ParseDate(s string) (Date, error) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return Date{}, fmt.Errorf("invalid date %q: want YYYY-MM-DD", s)
	}
	y, ok1 := digits(s[0:4])
	m, ok2 := digits(s[5:7])
	d, ok3 := digits(s[8:10])
	if !ok1 || !ok2 || !ok3 {
		return Date{}, fmt.Errorf("invalid date %q: want YYYY-MM-DD", s)
	}
	if m < 1 || m > 12 {
		return Date{}, fmt.Errorf("invalid date %q: month %d out of range", s, m)
	}
	if d < 1 || d > daysIn(y, time.Month(m)) {
		return Date{}, fmt.Errorf("invalid date %q: day %d out of range for %d-%02d", s, d, y, m)
	}
	return Date{Year: y, Month: time.Month(m), Day: d}, nil
}

func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// String returns the date in the form YYYY-MM-DD.
func (d Date) String() string {
	return string(d.appendTo(make([]byte, 0, 10)))
}

// appendTo appends the YYYY-MM-DD form of d to b.
func (d Date) appendTo(b []byte) []byte {
	y := d.Year
	if y < 0 || y > 9999 {
		return fmt.Appendf(b, "%04d-%02d-%02d", y, int(d.Month), d.Day)
	}
	b = append(b, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-')
	m := int(d.Month)
	b = append(b, byte('0'+m/10), byte('0'+m%10), '-')
	return append(b, byte('0'+d.Day/10), byte('0'+d.Day%10))
}

// AppendText appends the YYYY-MM-DD form of d to b; it implements
// encoding.TextAppender.
func (d Date) AppendText(b []byte) ([]byte, error) {
	return d.appendTo(b), nil
}

// MarshalText returns the YYYY-MM-DD form of d; it implements
// encoding.TextMarshaler, so dates appear as strings in JSON.
func (d Date) MarshalText() ([]byte, error) {
	return d.appendTo(nil), nil
}

// UnmarshalText parses a YYYY-MM-DD date; it implements
// encoding.TextUnmarshaler.
func (d *Date) UnmarshalText(b []byte) error {
	v, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// IsZero reports whether d is the zero Date.
func (d Date) IsZero() bool { return d == Date{} }

// IsValid reports whether d names a real day of the proleptic Gregorian
// calendar.
func (d Date) IsValid() bool {
	return d.Month >= time.January && d.Month <= time.December && d.Day >= 1 && d.Day <= daysIn(d.Year, d.Month)
}

// Weekday returns the day of the week of d.
func (d Date) Weekday() time.Weekday {
	return weekdayOf(d.days())
}

// AddDays returns the date n calendar days after d (before d if n is
// negative).
func (d Date) AddDays(n int) Date { return fromDays(d.days() + n) }

// AddMonths returns the date n months after d. When the target month is
// shorter, the result is the last day of that month (2025-08-31 plus six
// months is 2026-02-28), following the rule that a period counted in months
// ends on the corresponding day or, failing that, on the month's last day.
func (d Date) AddMonths(n int) Date {
	m := int(d.Month) - 1 + n
	y := d.Year + floorDiv(m, 12)
	mm := time.Month(floorMod(m, 12) + 1)
	day := min(d.Day, daysIn(y, mm))
	return Date{Year: y, Month: mm, Day: day}
}

// Sub returns the number of calendar days from e to d (positive when d is
// after e).
func (d Date) Sub(e Date) int { return d.days() - e.days() }

// Compare returns -1, 0 or +1 as d is before, equal to or after e.
func (d Date) Compare(e Date) int {
	switch a, b := d.days(), e.days(); {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Before reports whether d is before e.
func (d Date) Before(e Date) bool { return d.Compare(e) < 0 }

// After reports whether d is after e.
func (d Date) After(e Date) bool { return d.Compare(e) > 0 }

// In returns the first instant (midnight) of d in loc.
func (d Date) In(loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc)
}

// days returns the number of days from 1970-01-01 to d.
func (d Date) days() int { return daysFromCivil(d.Year, d.Month, d.Day) }

// fromDays is the inverse of Date.days.
func fromDays(z int) Date {
	y, m, d := civilFromDays(z)
	return Date{Year: y, Month: m, Day: d}
}

// daysFromCivil and civilFromDays are Howard Hinnant's algorithms
// (http://howardhinnant.github.io/date_algorithms.html); they are exact for
// the proleptic Gregorian calendar and need no tables.
func daysFromCivil(year int, month time.Month, day int) int {
	y, m := year, int(month)
	if m <= 2 {
		y--
	}
	era := floorDiv(y, 400)
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + day - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

func civilFromDays(z int) (int, time.Month, int) {
	z += 719468
	era := floorDiv(z, 146097)
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d := doy - (153*mp+2)/5 + 1
	m := mp + 3
	if m > 12 {
		m -= 12
	}
	if m <= 2 {
		y++
	}
	return y, time.Month(m), d
}

// weekdayOf returns the weekday of the day z days after 1970-01-01
// (a Thursday).
func weekdayOf(z int) time.Weekday { return time.Weekday(floorMod(z+4, 7)) }

func daysIn(year int, m time.Month) int {
	switch m {
	case time.February:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case time.April, time.June, time.September, time.November:
		return 30
	}
	return 31
}

func floorDiv(a, b int) int {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func floorMod(a, b int) int { return a - floorDiv(a, b)*b }
