package events

import (
	"regexp"
	"strings"
	"testing"
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
