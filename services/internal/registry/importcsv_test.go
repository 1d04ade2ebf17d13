package registry

import (
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"
)

const goodCSV = "\ufeffid,name,level,kind,parent,website,column:annual_report,packs,budget_approved,contact_name,contact_email\n" +
	"huaian-gov,淮安市人民政府,city,government,,https://www.huaian.gov.cn/,,,,淮安市政务公开办,gongkai@huaian.example\n" +
	"huaian-czj,淮安市财政局,city,department,huaian-gov,https://czj.huaian.gov.cn/,https://czj.huaian.gov.cn/zfxxgk/ndbg/,cn-ogi-2019;cn-budget,2026=2026-02-10;2025=2025-02-12,张三,zhang@czj.example\n" +
	"huaian-czj,,,,,,,,,李四,li@czj.example\n"

func TestImportCSV(t *testing.T) {
	y, err := ImportCSV("a.csv", []byte(goodCSV))
	if err != nil {
		t.Fatal(err)
	}
	r, err := Parse("out.yaml", y)
	if err != nil {
		t.Fatalf("%v\n%s", err, y)
	}
	czj, _ := r.Get("huaian-czj")
	if len(czj.Contacts) != 2 || czj.Columns["annual_report"].URL == "" || len(czj.Packs) != 2 || czj.BudgetApproved[2026].String() != "2026-02-10" {
		t.Fatalf("czj %+v\n%s", czj, y)
	}
	// The same file in GBK, with Chinese headers.
	cn := strings.Replace(goodCSV, "id,name,level,kind,parent,website", "编号,单位名称,层级,类型,上级单位,网址", 1)
	gbk, err := simplifiedchinese.GBK.NewEncoder().String(strings.TrimPrefix(cn, "\ufeff"))
	if err != nil {
		t.Fatal(err)
	}
	if y2, err := ImportCSV("b.csv", []byte(gbk)); err != nil || !strings.Contains(string(y2), "淮安市财政局") {
		t.Fatalf("GBK import: %v\n%s", err, y2)
	}
}

func TestImportCSVErrorsNameLineAndColumn(t *testing.T) {
	in := "id,name,level,kind,website,contact_email,budget_approved\n" +
		"a,甲,city,department,https://a.example/,a@x.example,\n" +
		"b c,乙,municipal,department,ftp://b,not-an-email,2026-02-10\n"
	_, err := ImportCSV("x.csv", []byte(in))
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{
		`x.csv:3: column id: "b c"`,
		`x.csv:3: column level: "municipal": expected national`,
		`x.csv:3: column website: "ftp://b": expected an absolute http or https URL`,
		`x.csv:3: column contact_email: "not-an-email"`,
		`x.csv:3: column budget_approved: "2026-02-10": expected YEAR=YYYY-MM-DD`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in\n%v", want, err)
		}
	}
	if _, err := ImportCSV("h.csv", []byte("id,nmae\n")); err == nil || !strings.Contains(err.Error(), `h.csv:1: column 2 "nmae" is not a registry column`) {
		t.Errorf("unknown header: %v", err)
	}
	if _, err := ImportCSV("q.csv", []byte("id,name,level,kind,website\n\"a,b\n")); err == nil || !strings.Contains(err.Error(), "q.csv:2:") {
		t.Errorf("bad quoting: %v", err)
	}
}

func FuzzImportCSV(f *testing.F) {
	f.Add([]byte(goodCSV))
	f.Add([]byte("id,name,level,kind,website\n\"\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		y, err := ImportCSV("f.csv", b)
		if err == nil {
			if _, err := Parse("f.yaml", y); err != nil {
				t.Fatalf("ImportCSV output does not load: %v", err)
			}
		}
	})
}
