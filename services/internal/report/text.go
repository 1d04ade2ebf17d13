package report

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"
)

// decodeText returns data as UTF-8: by BOM (UTF-8, UTF-16), as UTF-8 when
// valid, otherwise as GB18030 (a superset of GBK and GB2312).
func decodeText(data []byte) (string, error) {
	switch {
	case bytes.HasPrefix(data, []byte("\xef\xbb\xbf")):
		return string(bytes.ToValidUTF8(data[3:], []byte("\uFFFD"))), nil
	case hasUTF16BOM(data):
		dec := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewDecoder()
		out, err := dec.Bytes(data)
		if err != nil {
			return "", fmt.Errorf("decode UTF-16: %w", err)
		}
		return string(out), nil
	case utf8.Valid(data):
		return string(data), nil
	}
	out, err := simplifiedchinese.GB18030.NewDecoder().Bytes(data)
	if err != nil {
		return "", fmt.Errorf("decode GB18030: %w", err)
	}
	return string(out), nil
}

func hasUTF16BOM(data []byte) bool {
	return bytes.HasPrefix(data, []byte("\xff\xfe")) || bytes.HasPrefix(data, []byte("\xfe\xff"))
}

// mdRuleRe matches the separator line of a Markdown table.
var mdRuleRe = regexp.MustCompile(`^\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?$`)

// readText reads plain text. Form feeds separate pages (as pdftotext
// writes them); Markdown pipe tables become table rows.
func readText(data []byte) (*Document, error) {
	s, err := decodeText(data)
	if err != nil {
		return nil, err
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	d := &Document{}
	table := 0
	inTable := false
	for p, page := range strings.Split(s, "\f") {
		for _, ln := range strings.Split(page, "\n") {
			t := strings.TrimSpace(ln)
			if strings.HasPrefix(t, "|") && strings.Count(t, "|") >= 2 {
				if !inTable {
					table++
					inTable = true
				}
				if mdRuleRe.MatchString(t) {
					// Keep the line for numbering, as furniture.
					d.Lines = append(d.Lines, Line{Text: ln, Page: p + 1, Furniture: true})
					continue
				}
				d.addRow(splitPipes(t), table)
				d.Lines[len(d.Lines)-1].Page = p + 1
				continue
			}
			inTable = false
			d.Lines = append(d.Lines, Line{Text: strings.TrimRight(ln, " \t"), Page: p + 1})
		}
	}
	return d, nil
}

// splitPipes splits a Markdown table row into cells.
func splitPipes(t string) []Cell {
	t = strings.TrimPrefix(t, "|")
	t = strings.TrimSuffix(t, "|")
	parts := strings.Split(t, "|")
	cells := make([]Cell, len(parts))
	for i, p := range parts {
		cells[i] = Cell{Text: collapseSpace(p)}
	}
	return cells
}

// collapseSpace trims s and collapses runs of white space to one space.
func collapseSpace(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
