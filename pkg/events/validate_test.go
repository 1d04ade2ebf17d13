package events

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

// tokenPattern is what ValidToken accepts, as a regular expression.
var tokenPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$`)

func TestValidTokenMatchesPattern(t *testing.T) {
	for _, s := range []string{
		"", "a", "Z9", "huaian-jyj", "a_b", "-a", "_a", "a-", "a.b", "a b", "局", "a\x00", "a\n",
		strings.Repeat("a", 128), strings.Repeat("a", 129), "0" + strings.Repeat("-", 127), "A" + strings.Repeat("_", 128),
	} {
		if got, want := ValidToken(s), tokenPattern.MatchString(s); got != want {
			t.Errorf("ValidToken(%q) = %v, want %v", s, got, want)
		}
	}
}

func FuzzValidToken(f *testing.F) {
	for _, s := range []string{"a", "huaian-jyj", "-a", "a.b", "局", strings.Repeat("a", 129)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := ValidToken(s), tokenPattern.MatchString(s); got != want {
			t.Fatalf("ValidToken(%q) = %v, want %v", s, got, want)
		}
	})
}

func TestValidDateMatchesTimeParse(t *testing.T) {
	for _, s := range []string{
		"", "2026-01-31", "2026-02-29", "2024-02-29", "2000-02-29", "1900-02-29", "2026-13-01", "2026-00-10",
		"2026-04-31", "2026-04-30", "2026-1-01", "2026-01-1", "20260101", "2026/01/01", "0000-01-01", "9999-12-31",
		"2026-01-01 ", "+026-01-01", "2026-0a-01", "２０２６-01-01",
	} {
		_, err := time.Parse(DateLayout, s)
		if got, want := validDate(s), s == "" || err == nil; got != want {
			t.Errorf("validDate(%q) = %v, want %v", s, got, want)
		}
	}
}

func FuzzValidDate(f *testing.F) {
	for _, s := range []string{"2026-01-31", "2024-02-29", "1900-02-29", "2026-13-01", "2026-1-01"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_, err := time.Parse(DateLayout, s)
		if got, want := validDate(s), s == "" || err == nil; got != want {
			t.Fatalf("validDate(%q) = %v, want %v", s, got, want)
		}
	})
}

// BenchmarkObservationValidate validates an observation of the size a
// real site gives (12 columns of 20 dated items each), which the checker
// does for every observation it decodes.
//
//	cd pkg/events && go test -run '^$' -bench ObservationValidate -benchmem
func BenchmarkObservationValidate(b *testing.B) {
	o := Observation{AgencyID: "a1", RunID: "r", ObservedAt: time.Now(), Outcome: OutcomeOK}
	for i := range 12 {
		c := Column{Key: "column" + string(rune('a'+i)), Outcome: OutcomeOK, Newest: "2026-01-02"}
		for range 20 {
			c.Items = append(c.Items, Item{URL: "http://x.example/a.html", Date: "2026-01-02", Title: "t"})
		}
		o.Columns = append(o.Columns, c)
	}
	for range b.N {
		if err := o.Validate(); err != nil {
			b.Fatal(err)
		}
	}
}
