package sheet

import (
	"errors"
	"io"
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"
)

var spec = Spec{Kind: "test", Columns: []string{"id", "name"}, Aliases: map[string]string{"名称": "name"}, Required: []string{"id"}, Prefix: "x:"}

func rows(t *testing.T, s *Sheet) ([]Row, []string) {
	t.Helper()
	var out []Row
	var errs []string
	for {
		r, err := s.Next()
		if errors.Is(err, io.EOF) {
			return out, errs
		}
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		out = append(out, r)
	}
}

func TestOpenGBKWithAliasesAndPrefix(t *testing.T) {
	gbk, err := simplifiedchinese.GBK.NewEncoder().String("ID, 名称 ,x:home\na,甲,http://a/\n\n , \nb,乙,\n")
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open("t.csv", []byte(gbk), spec)
	if err != nil {
		t.Fatal(err)
	}
	got, errs := rows(t, s)
	if len(errs) != 0 || len(got) != 2 {
		t.Fatalf("rows %d, errors %v", len(got), errs)
	}
	if got[0].Line != 2 || got[0].Cell("name") != "甲" || got[0].Prefixed("x:")["home"] != "http://a/" {
		t.Errorf("row 1: line %d, name %q, prefixed %v", got[0].Line, got[0].Cell("name"), got[0].Prefixed("x:"))
	}
	if got[1].Line != 5 || len(got[1].Prefixed("x:")) != 0 || got[1].Cell("missing") != "" {
		t.Errorf("row 2 (blank lines skipped): line %d, prefixed %v", got[1].Line, got[1].Prefixed("x:"))
	}
}

func TestHeaderErrors(t *testing.T) {
	for _, tc := range []struct{ csv, want string }{
		{"", "t.csv: empty file: want a header row naming the columns id, name, or x:KEY"},
		{"name\n", "t.csv:1: no id column (required)"},
		{"id,colour\n", `t.csv:1: column 2 "colour" is not a test column (want one of id, name, or x:KEY)`},
		{"id,ID\n", `t.csv:1: column "ID" appears twice`},
	} {
		_, err := Open("t.csv", []byte(tc.csv), spec)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Open(%q) = %v, want %q", tc.csv, err, tc.want)
		}
	}
}

// A broken quote is reported with its line and ends the file, since what
// follows it cannot be trusted; short rows are not errors.
func TestBrokenQuoteEndsTheFile(t *testing.T) {
	s, err := Open("t.csv", []byte("id,name\na\nb,\"x\"y\nc,ok\n"), spec)
	if err != nil {
		t.Fatal(err)
	}
	got, errs := rows(t, s)
	if len(got) != 1 || got[0].Cell("id") != "a" || len(errs) != 1 || !strings.HasPrefix(errs[0], "t.csv:3: column 5: ") {
		t.Fatalf("rows %v, errors %v", got, errs)
	}
}
