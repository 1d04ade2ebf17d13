package pdftext

import (
	"fmt"
	"strings"
	"unicode"
)

// Quality summarises how trustworthy an extracted page text looks.
type Quality struct {
	// Chars counts the characters that are not white space.
	Chars int
	// Letters counts letters and digits of any script.
	Letters int
	// Han counts CJK ideographs.
	Han int
	// Bad counts characters that real report text never contains: control
	// characters other than tab, line feed, carriage return and form feed,
	// U+FFFD, private-use code points, and the Latin-1 letters that
	// undecoded two-byte font codes turn into (U+0080–U+00FF).
	Bad int
}

// OK reports whether the text looks like decoded text rather than raw font
// codes. One bad character is enough to distrust a page: undecoded
// vertical-font codes can masquerade as ASCII digits next to it.
func (q Quality) OK() bool {
	if q.Bad > 0 {
		return false
	}
	// Many characters but almost no letters or digits: symbol soup.
	if q.Chars >= 40 && q.Letters*4 < q.Chars {
		return false
	}
	return true
}

// String describes the problem, for page notes.
func (q Quality) String() string {
	if q.OK() {
		return "ok"
	}
	if q.Bad > 0 {
		return fmt.Sprintf("%d garbage characters in %d", q.Bad, q.Chars)
	}
	return fmt.Sprintf("only %d letters or digits in %d characters", q.Letters, q.Chars)
}

// Inspect measures s.
func Inspect(s string) Quality {
	var q Quality
	for _, r := range s {
		if r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\f' || r == '\u3000' || r == '\u00a0' {
			continue
		}
		q.Chars++
		switch {
		case isBad(r):
			q.Bad++
		case unicode.Is(unicode.Han, r):
			q.Han++
			q.Letters++
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			q.Letters++
		}
	}
	return q
}

func isBad(r rune) bool {
	switch {
	case r < 0x20:
		return true
	case r >= 0x7f && r <= 0xff && r != 0xa0 && r != 0xb7 && r != 0xd7 && r != 0xf7 && r != 0xb0 && r != 0xa7:
		// C1 controls and Latin-1 letters; keep middle dot, ×, ÷, ° and §
		// which do occur in Chinese documents.
		return true
	case r == unicode.ReplacementChar:
		return true
	case r >= 0xe000 && r <= 0xf8ff:
		return true
	}
	return false
}

// Clean drops the lines of s that contain a character Inspect counts as
// bad. Undecoded two-byte codes come out as a control character next to a
// printable one, often a digit, so removing only the control characters
// would leave stray numbers in tables; a garbled line is dropped whole.
func Clean(s string) string {
	if Inspect(s).Bad == 0 {
		return s
	}
	lines := strings.Split(s, "\n")
	out := lines[:0]
	for _, l := range lines {
		if !strings.ContainsFunc(l, func(r rune) bool { return r != '\t' && r != '\r' && r != '\f' && isBad(r) }) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
