package report

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// TestGoldenJSON pins the JSON output (schema SchemaVersion) for the
// fixtures. Run with -update after an intended change and review the diff.
func TestGoldenJSON(t *testing.T) {
	c := NewChecker(pureGo)
	defer c.Close()
	prev := string(readFixture(t, huaianText))
	cases := []struct {
		golden string
		files  []string
		prev   string // previous year's text, for the cross-year rules
	}{
		{"hongze-2024.json", []string{hongzeText}, ""},
		{"html-sample-2025.json", []string{sampleHTML}, ""},
		{"not-reports.json", []string{"generated/notice-2024.pdf", "generated/scan-2024.pdf"}, ""},
		{"huaian-2024-with-previous.json", []string{huaianText}, previousYear(t, prev)},
	}
	for _, tc := range cases {
		t.Run(tc.golden, func(t *testing.T) {
			var prev *Report
			if tc.prev != "" {
				var err error
				if prev, err = c.Read(t.Context(), "previous-2023.txt", []byte(tc.prev)); err != nil {
					t.Fatal(err)
				}
			}
			var results []*Result
			for _, f := range tc.files {
				_, res := check(t, c, f, readFixture(t, f), prev)
				results = append(results, res)
			}
			var buf bytes.Buffer
			if err := EncodeJSON(&buf, results); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", "golden", tc.golden)
			if *update {
				if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -run TestGoldenJSON -update)", err)
			}
			if !bytes.Equal(buf.Bytes(), want) {
				got, exp := strings.Split(buf.String(), "\n"), strings.Split(string(want), "\n")
				for i := range min(len(got), len(exp)) {
					if got[i] != exp[i] {
						t.Fatalf("%s differs at line %d:\n got: %s\nwant: %s\n(run with -update if intended)", path, i+1, got[i], exp[i])
					}
				}
				t.Fatalf("%s differs in length: %d lines, want %d (run with -update if intended)", path, len(got), len(exp))
			}
		})
	}
}

func TestErrorResultJSON(t *testing.T) {
	var buf bytes.Buffer
	if err := EncodeJSON(&buf, []*Result{ErrorResult("x.doc", ErrUnsupported)}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"schema": "` + SchemaVersion + `"`, `"outcome": "error"`, `"file": "x.doc"`, `"rules": []`} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("missing %s in %s", want, buf.String())
		}
	}
}
