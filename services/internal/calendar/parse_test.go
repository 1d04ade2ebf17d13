package calendar

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestParseErrors checks the exact messages for malformed files
// (testdata/bad-*.csv); every message names the file and line.
func TestParseErrors(t *testing.T) {
	tests := []struct {
		file string
		want string
	}{
		{"bad-date.csv", "bad-date.csv:3: invalid date \"2016-02-30\": day 30 out of range for 2016-02"},
		{"bad-date-format.csv", "bad-date-format.csv:2: invalid date \"2016/01/01\": want YYYY-MM-DD"},
		{"bad-kind.csv", "bad-kind.csv:4: unknown kind \"holliday\"; want \"holiday\" or \"workday-adjusted\""},
		{"bad-duplicate.csv", "bad-duplicate.csv:5: duplicate date 2016-02-07 (first listed on line 3)"},
		{"bad-weekday.csv", "bad-weekday.csv:3: 2016-02-09 is a Tuesday; workday-adjusted is only valid on a Saturday or Sunday"},
		{"bad-header.csv", "bad-header.csv:1: header is \"day,type\"; want \"date,kind\" or \"date,kind,note\""},
		{"bad-fields.csv", "bad-fields.csv:3: 3 fields; want 2 (date,kind)"},
		{"bad-empty.csv", "bad-empty.csv:1: empty file; want the header \"date,kind\""},
		{"bad-no-rows.csv", "bad-no-rows.csv: no dates listed; a base calendar needs at least one"},
		{"bad-year.csv", "bad-year.csv:2: date 1850-01-01 outside the supported years 1900..2199"},
		{"bad-quote.csv", "bad-quote.csv:2: bare \" in non-quoted-field"},
		{"bad-several.csv", "bad-several.csv:2: unknown kind \"rest\"; want \"holiday\" or \"workday-adjusted\"\n" +
			"bad-several.csv:4: 2024-01-03 is a Wednesday; workday-adjusted is only valid on a Saturday or Sunday"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			f, err := os.Open(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			_, err = Parse(tt.file, time.UTC, f)
			if err == nil {
				t.Fatal("Parse succeeded")
			}
			if err.Error() != tt.want {
				t.Errorf("error:\n got: %s\nwant: %s", err, tt.want)
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Errorf("error %T is not a *ParseError", err)
			}
		})
	}
}

func TestParseAccepts(t *testing.T) {
	// A holiday listed on an ordinary weekend, comments, CRLF, a BOM, blank
	// lines and spaces around fields are all fine.
	in := "\ufeffdate,kind\r\n# comment\r\n2016-02-13 , holiday\r\n\r\n2016-02-14,workday-adjusted\r\n"
	c, err := Parse("ok.csv", time.UTC, strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if c.IsWorkday(d("2016-02-13")) || !c.IsWorkday(d("2016-02-14")) {
		t.Error("entries not applied")
	}
	if first, last := c.Coverage(); first != d("2016-01-01") || last != d("2016-12-31") {
		t.Errorf("coverage %s..%s", first, last)
	}
}

func TestOverlayErrors(t *testing.T) {
	cn := mustLoad(t, "cn")
	tests := []struct {
		in, want string
	}{
		{"date,kind\n2030-01-02,holiday\n", "ov.csv:2: date 2030-01-02 is outside the base calendar cn (2016-01-01..2026-12-31)"},
		{"date,kind\n2025-03-31,holiday\n2025-03-31,holiday\n", "ov.csv:3: duplicate date 2025-03-31 (first listed on line 2)"},
		{"date,kind\n2025-03-31,workday-adjusted\n", "ov.csv:2: 2025-03-31 is a Monday; workday-adjusted is only valid on a Saturday or Sunday"},
	}
	for _, tt := range tests {
		_, err := cn.WithOverlay("ov.csv", strings.NewReader(tt.in))
		if err == nil || err.Error() != tt.want {
			t.Errorf("WithOverlay(%q) error:\n got: %v\nwant: %s", tt.in, err, tt.want)
		}
	}
	if _, err := cn.WithOverlay("empty.csv", strings.NewReader("date,kind\n")); err != nil {
		t.Errorf("empty overlay: %v", err)
	}
}

func TestDate(t *testing.T) {
	if _, err := ParseDate("2025-02-29"); err == nil {
		t.Error("2025-02-29 accepted")
	}
	if _, err := ParseDate("2024-02-29"); err != nil {
		t.Error(err)
	}
	for _, bad := range []string{"", "2024-1-01", "20240101", "2024-00-10", "2024-13-01", "2024-01-32", "2024-01-+1", "abcd-ef-gh"} {
		if _, err := ParseDate(bad); err == nil {
			t.Errorf("ParseDate(%q) accepted", bad)
		}
	}
	tests := []struct {
		got, want Date
	}{
		{NewDate(2026, 1, 32), d("2026-02-01")},
		{NewDate(2026, 13, 1), d("2027-01-01")},
		{NewDate(2026, 0, 31), d("2025-12-31")},
		{NewDate(2026, 3, 0), d("2026-02-28")},
		{d("2025-08-31").AddMonths(6), d("2026-02-28")},
		{d("2023-08-31").AddMonths(6), d("2024-02-29")},
		{d("2026-01-31").AddMonths(-2), d("2025-11-30")},
		{d("2026-05-15").AddMonths(12), d("2027-05-15")},
		{d("2026-12-31").AddDays(1), d("2027-01-01")},
	}
	for i, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("case %d: got %s, want %s", i, tt.got, tt.want)
		}
	}
	// Weekday and day arithmetic agree with package time over four centuries.
	start := time.Date(1900, 1, 1, 12, 0, 0, 0, time.UTC)
	for i := 0; i < 146097; i += 7 {
		tm := start.AddDate(0, 0, i)
		x := DateOf(tm)
		if x.Weekday() != tm.Weekday() || x != d("1900-01-01").AddDays(i) || x.Sub(d("1900-01-01")) != i {
			t.Fatalf("day %d: %s %s vs %s", i, x, x.Weekday(), tm)
		}
	}
	if got := d("2026-01-31").In(mustLoad(t, "cn").Location()).Format(time.RFC3339); got != "2026-01-31T00:00:00+08:00" {
		t.Errorf("In = %s", got)
	}
	var z Date
	if !z.IsZero() || z.IsValid() {
		t.Error("zero date")
	}
	var u Date
	if err := u.UnmarshalText([]byte("2026-03-05")); err != nil || u != d("2026-03-05") {
		t.Errorf("UnmarshalText: %v %s", err, u)
	}
	if b, _ := d("2026-03-05").MarshalText(); string(b) != "2026-03-05" {
		t.Errorf("MarshalText %s", b)
	}
}
