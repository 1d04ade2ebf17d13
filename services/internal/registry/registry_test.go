package registry

import (
	"os"
	"strings"
	"testing"
)

func TestLoadGood(t *testing.T) {
	r, err := Load("testdata/good.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got := r.IDs(); strings.Join(got, ",") != "huaian-gov,huaian-czj" {
		t.Fatalf("ids %v", got)
	}
	czj, ok := r.Get("huaian-czj")
	if !ok || czj.Jurisdiction != "cn" || czj.Columns["annual_report"].URL == "" {
		t.Fatalf("huaian-czj: %+v", czj)
	}
	if czj.Contacts[0].Mode != ModeImmediate || czj.Contacts[1].Mode != ModeDigest || czj.Contacts[1].Lang != "en" {
		t.Fatalf("contact defaults not applied: %+v", czj.Contacts)
	}
	if c := r.Children("huaian-gov"); len(c) != 1 || c[0] != "huaian-czj" {
		t.Fatalf("children %v", c)
	}
}

func TestErrorsNameFileLineAndField(t *testing.T) {
	_, err := Load("testdata/bad.yaml")
	if err == nil {
		t.Fatal("bad registry accepted")
	}
	want := []string{
		`testdata/bad.yaml:7: agencies[1] (huaian czj): id "huaian czj": expected 1-128 ASCII letters`,
		`testdata/bad.yaml:9: agencies[1] (huaian czj): level "municipal": expected national, province, city, county or township`,
		`testdata/bad.yaml:11: agencies[1] (huaian czj): parent "nanjing-gov" is not an agency in this registry`,
		`testdata/bad.yaml:12: agencies[1] (huaian czj): website: "czj.huaian.gov.cn": expected an absolute http or https URL`,
		`testdata/bad.yaml:16: agencies[1] (huaian czj): contacts[0].email "zhang@" is not a valid email address`,
		`testdata/bad.yaml:17: agencies[1] (huaian czj): contacts[0].mode "weekly": expected digest or immediate`,
		`testdata/bad.yaml:18: agencies[2] (huaian-gov): id "huaian-gov" is already used by agencies[0]`,
		`testdata/bad.yaml:19: agencies[2] (huaian-gov): name is empty`,
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("missing error\n  %s\nin\n%v", w, err)
		}
	}
}

func TestSyntaxAndUnknownKeys(t *testing.T) {
	cases := map[string]struct{ in, want string }{
		"unknown key":   {"agencies:\n  - id: a\n    nmae: x\n", "r.yaml:3: field nmae not found"},
		"syntax":        {"agencies:\n  - id: [a\n", "r.yaml:"},
		"empty":         {"", "empty registry"},
		"no agencies":   {"agencies: []\n", "r.yaml:1: no agencies"},
		"header inject": {"agencies:\n  - {id: a, name: \"x\\r\\nBcc: evil@x\", level: city, kind: department, website: 'http://a/'}\n", "r.yaml:2: agencies[0] (a): name contains a line break"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Parse("r.yaml", []byte(c.in))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, p := range []string{"testdata/good.yaml", "testdata/bad.yaml"} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := Parse("fuzz.yaml", b)
		if err == nil && len(r.Agencies) == 0 {
			t.Fatal("accepted a registry without agencies")
		}
	})
}
