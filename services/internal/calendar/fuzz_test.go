package calendar

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzParse feeds arbitrary bytes to the CSV parser and the overlay parser.
// Whatever the input, they must return a calendar or an error, never panic,
// and a calendar they return must keep the arithmetic identities.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("data/*.csv")
	bad, _ := filepath.Glob("testdata/*.csv")
	for _, p := range append(files, bad...) {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("date,kind\n2199-12-31,holiday\n1900-01-01,workday-adjusted\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("fuzz.csv", time.UTC, bytes.NewReader(data))
		if err != nil {
			if _, err := Parse("fuzz.csv", time.UTC, bytes.NewReader(data)); err == nil {
				t.Fatal("second parse of the same input succeeded")
			}
			return
		}
		first, last := c.Coverage()
		for _, x := range []Date{first, last, first.AddDays(-3), last.AddDays(3), first.AddDays(last.Sub(first) / 2)} {
			for _, n := range []int{1, 7, 20, 300} {
				r := c.AddWorkdays(x, n)
				if got := c.WorkdaysBetween(x, r.Date).Days; got != n {
					t.Fatalf("WorkdaysBetween(%s, AddWorkdays(%s, %d)=%s) = %d", x, x, n, r.Date, got)
				}
				if !c.IsWorkday(r.Date) {
					t.Fatalf("AddWorkdays(%s, %d) = %s is not a working day", x, n, r.Date)
				}
				if b := c.AddWorkdays(r.Date, -n); b.Date.After(x) {
					t.Fatalf("AddWorkdays(%s, %d) = %s after %s", r.Date, -n, b.Date, x)
				}
			}
		}
		if _, err := c.WithOverlay("fuzz-overlay.csv", bytes.NewReader(data)); err != nil {
			t.Fatalf("a valid base file is not a valid overlay of itself: %v", err)
		}
	})
}
