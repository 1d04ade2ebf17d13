// Package sheet reads the spreadsheet exports gongkai imports (the agency
// registry, request registers): CSV in UTF-8, with or without a byte-order
// mark, or in GBK/GB18030 as a Chinese Excel saves it, whose header row
// names the columns in any order, in English or by Chinese aliases. Errors
// name the file and the line.
package sheet

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
)

// Spec describes the columns of one kind of export.
type Spec struct {
	// Kind names the export in messages ("registry", "register").
	Kind string
	// Columns are the column names, in the order documented.
	Columns []string
	// Aliases maps header texts (typically Chinese) to column names.
	Aliases map[string]string
	// Required lists the columns the header must name.
	Required []string
	// Prefix, when set, admits column names beginning with it besides
	// Columns (the registry's "column:KEY").
	Prefix string
}

// Sheet is an export whose header has been read.
type Sheet struct {
	name   string
	r      *csv.Reader
	cols   map[string]int // column name → 1-based index
	broken bool
}

// Open decodes data and reads its header row. Every problem of the header
// is reported, joined.
func Open(name string, data []byte, spec Spec) (*Sheet, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(data) {
		dec, err := simplifiedchinese.GB18030.NewDecoder().Bytes(data)
		if err != nil {
			return nil, fmt.Errorf("%s: neither UTF-8 nor GBK: %w", name, err)
		}
		data = dec
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	want := strings.Join(spec.Columns, ", ")
	if spec.Prefix != "" {
		want += ", or " + spec.Prefix + "KEY"
	}
	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: empty file: want a header row naming the columns %s", name, want)
	}
	if err != nil {
		return nil, fmt.Errorf("%s:1: %w", name, parseErr(err))
	}
	s := &Sheet{name: name, r: r, cols: map[string]int{}}
	var errs []error
	for i, h := range header {
		key := strings.ToLower(strings.TrimSpace(h))
		if a, ok := spec.Aliases[strings.TrimSpace(h)]; ok {
			key = a
		}
		switch {
		case key == "":
		case !slices.Contains(spec.Columns, key) && (spec.Prefix == "" || !strings.HasPrefix(key, spec.Prefix)):
			errs = append(errs, fmt.Errorf("%s:1: column %d %q is not a %s column (want one of %s)", name, i+1, h, spec.Kind, want))
		case s.cols[key] != 0:
			errs = append(errs, fmt.Errorf("%s:1: column %q appears twice", name, h))
		default:
			s.cols[key] = i + 1
		}
	}
	for _, req := range spec.Required {
		if s.cols[req] == 0 {
			errs = append(errs, fmt.Errorf("%s:1: no %s column (required)", name, req))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return s, nil
}

// Row is one record of a sheet.
type Row struct {
	// Line is the record's line in the file.
	Line int
	rec  []string
	cols map[string]int
}

// Cell returns the trimmed value of a column ("" when the header does not
// name it or the row is short).
func (r Row) Cell(col string) string {
	if i := r.cols[col]; i > 0 && i <= len(r.rec) {
		return strings.TrimSpace(r.rec[i-1])
	}
	return ""
}

// Prefixed returns the non-empty values of the columns named prefix+KEY,
// by KEY.
func (r Row) Prefixed(prefix string) map[string]string {
	out := map[string]string{}
	for key := range r.cols {
		if k, ok := strings.CutPrefix(key, prefix); ok {
			if v := r.Cell(key); v != "" {
				out[k] = v
			}
		}
	}
	return out
}

// Next returns the next row that is not blank, or io.EOF at the end. A
// malformed row is an error naming its line; the caller may go on, except
// after a broken quote, when the rest of the file cannot be trusted and
// Next returns io.EOF.
func (s *Sheet) Next() (Row, error) {
	for !s.broken {
		rec, err := s.r.Read()
		if errors.Is(err, io.EOF) {
			return Row{}, io.EOF
		}
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				s.broken = true
				return Row{}, fmt.Errorf("%s: %w", s.name, err)
			}
			s.broken = pe.Err == csv.ErrQuote || pe.Err == csv.ErrBareQuote
			return Row{}, fmt.Errorf("%s:%d: %w", s.name, pe.StartLine, parseErr(err))
		}
		if strings.TrimSpace(strings.Join(rec, "")) == "" {
			continue
		}
		line, _ := s.r.FieldPos(0)
		return Row{Line: line, rec: rec, cols: s.cols}, nil
	}
	return Row{}, io.EOF
}

// parseErr drops the "record on line N" prefix of csv.ParseError, which the
// caller's file:line already says.
func parseErr(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fmt.Errorf("column %d: %w", pe.Column, pe.Err)
	}
	return err
}
