package budget

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestFindTitles(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		want       []string
	}{
		{"standard names", strings.Join(Tables(KindBudget), "\n"), Tables(KindBudget)},
		{"with department prefix and number", "表1 部门收支总表\n表2：部门收入总表\n表3、部门支出总表", []string{"收支总表", "收入总表", "支出总表"}},
		{"organ, year and 单位", "淮安市财政局2026年单位收支总表（单位：万元）", []string{"收支总表"}},
		{"with 预算 inserted", "一、收支预算总表\n二、收入预算总表\n三、支出预算总表\n四、财政拨款收支预算总表", []string{"收支总表", "收入总表", "支出总表", "财政拨款收支总表"}},
		{"收入预算表 and 支出预算表", "部门收入预算表\n部门支出预算表", []string{"收入总表", "支出总表"}},
		{"财政拨款收支总表 is not 收支总表", "表4 财政拨款收支总表", []string{"财政拨款收支总表"}},
		{"基本支出表 is not 一般公共预算支出表", "表6 一般公共预算基本支出表", []string{"一般公共预算基本支出表"}},
		{"一般公共预算支出表", "表5 一般公共预算支出表", []string{"一般公共预算支出表"}},
		{"both on one line", "一般公共预算支出表 一般公共预算基本支出表", []string{"一般公共预算支出表", "一般公共预算基本支出表"}},
		{"财政拨款 inserted", "一般公共预算财政拨款支出表\n一般公共预算财政拨款基本支出表", []string{"一般公共预算支出表", "一般公共预算基本支出表"}},
		{"full-width quotes", "表7 一般公共预算“三公”经费支出表", []string{"一般公共预算“三公”经费支出表"}},
		{"ASCII quotes", `一般公共预算"三公"经费支出表`, []string{"一般公共预算“三公”经费支出表"}},
		{"corner brackets", "一般公共预算「三公」经费支出表", []string{"一般公共预算“三公”经费支出表"}},
		{"no quotes, no prefix", "三公经费支出预算表", []string{"一般公共预算“三公”经费支出表"}},
		{"spaced out by a PDF reader", "一 般 公 共 预 算 “ 三 公 ” 经 费 支 出 表", []string{"一般公共预算“三公”经费支出表"}},
		{"full-width digits", "表８　政府性基金预算支出表", []string{"政府性基金预算支出表"}},
		{"政府性基金支出表", "政府性基金支出预算表", []string{"政府性基金预算支出表"}},
		{"three public table is not 支出总表", "“三公”经费支出预算表", []string{"一般公共预算“三公”经费支出表"}},
		{"基本支出预算表 is not 支出总表", "基本支出预算表", []string{"一般公共预算基本支出表"}},
		{"项目支出预算表 is not a standard table", "项目支出预算表", nil},
		{"another budget's revenue table", "政府性基金收入预算表\n一般公共预算收入表", nil},
		{"government budget tables", "一般公共预算收支表\n政府性基金预算收支表", nil},
		{"words without 表", "部门收支总体情况\n一般公共预算支出情况说明", nil},
		{"final accounts", strings.Join(Tables(KindFinalAccounts), "\n"), Tables(KindFinalAccounts)},
		{"final accounts, short forms", "收支决算总表\n财政拨款收支决算总表\n一般公共预算支出决算表\n“三公”经费支出决算表",
			[]string{"收入支出决算总表", "财政拨款收入支出决算总表", "一般公共预算财政拨款支出决算表", "一般公共预算财政拨款“三公”经费支出决算表"}},
		{"决算 tables are not budget tables", "一般公共预算财政拨款基本支出决算表\n政府性基金预算财政拨款收入支出决算表",
			[]string{"一般公共预算财政拨款基本支出决算表", "政府性基金预算财政拨款收入支出决算表"}},
		{"table of contents with dot leaders", "目录\n一、部门收支总表……………………3\n七、一般公共预算“三公”经费支出表………9", []string{"收支总表", "一般公共预算“三公”经费支出表"}},
		{"inside a table row", "项目 | 收支总表 | 金额", []string{"收支总表"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Find(tc.text).Tables; !slices.Equal(got, tc.want) {
				t.Errorf("Find(%q).Tables = %q, want %q", tc.text, got, tc.want)
			}
		})
	}
}

func TestFindExplanations(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		want       []string
	}{
		{"narrative", "四、机关运行经费安排情况\n2026年机关运行经费预算数为120.5万元，比上年减少3%。\n五、“三公”经费预算情况说明\n2026年“三公”经费预算数为12万元，其中公务接待费3万元。",
			[]string{ExplainOperatingCosts, ExplainThreePublic}},
		{"heading only", "（一）“三公”经费情况说明", []string{ExplainThreePublic}},
		{"sentence broken across lines", "本部门2026年机关运行经费\n预算为100万元，主要用于办公。", []string{ExplainOperatingCosts}},
		{"a table title is not an explanation", "表7 一般公共预算“三公”经费支出表\n单位：万元", nil},
		{"a table row is not an explanation", "“三公”经费合计 | 12.00 | 3.00\n机关运行经费 | 100", nil},
		{"a PDF table row without prose", "三公经费合计 12.00 3.00 9.00", nil},
		{"title and narrative on one line", "表7 一般公共预算“三公”经费支出表：“三公”经费比上年减少，主要是压减公务接待。", []string{ExplainThreePublic}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Find(tc.text).Explanations; !slices.Equal(got, tc.want) {
				t.Errorf("Find(%q).Explanations = %q, want %q", tc.text, got, tc.want)
			}
		})
	}
}

func TestKindOf(t *testing.T) {
	for title, want := range map[string]Kind{
		"淮安市财政局2026年部门预算":   KindBudget,
		"淮安市财政局2024年部门决算":   KindFinalAccounts,
		"2025年度部门决算公开":      KindFinalAccounts,
		"2025年部门预决算公开":      "",
		"2025年预算和2024年决算公开": "",
		"“三公”经费说明":          "",
		"2026年部门预算（预决算公开）":  KindBudget,
	} {
		if got := KindOf(title); got != want {
			t.Errorf("KindOf(%q) = %q, want %q", title, got, want)
		}
	}
}

func TestCanonicalAndEnglish(t *testing.T) {
	for _, k := range []Kind{KindBudget, KindFinalAccounts} {
		for _, name := range Tables(k) {
			if c, ok := Canonical(name); !ok || c != name {
				t.Errorf("Canonical(%q) = %q %v", name, c, ok)
			}
			if English(name) == "" {
				t.Errorf("no English gloss for %q", name)
			}
		}
	}
	// The rule pack writes the 三公 table with full-width quotes; other
	// spellings name the same table.
	for in, want := range map[string]string{
		`一般公共预算"三公"经费支出表`: "一般公共预算“三公”经费支出表",
		"部门收支预算总表":        "收支总表",
	} {
		if c, ok := Canonical(in); !ok || c != want {
			t.Errorf("Canonical(%q) = %q %v, want %q", in, c, ok, want)
		}
	}
	if _, ok := Canonical("部门收支总表 一般公共预算支出表"); ok {
		t.Error("two titles have one canonical name")
	}
	if len(Tables(KindBudget)) != 8 || len(Tables(KindFinalAccounts)) != 9 {
		t.Errorf("%d budget tables, %d final-accounts tables", len(Tables(KindBudget)), len(Tables(KindFinalAccounts)))
	}
}

// FuzzFind: Find never panics, names only standard tables, in order and
// once each, and finds again exactly what it found when given those names.
func FuzzFind(f *testing.F) {
	for _, s := range []string{
		strings.Join(Tables(KindBudget), "\n"),
		"表7 一般公共预算“三公”经费支出表\n2026年“三公”经费预算数为12万元，",
		"一般公共预算基本支出表一般公共预算支出表财政拨款收支总表",
		"项目 | 收支总表 | 金额\n机关运行经费",
		"\xff\xfe表",
		"",
	} {
		f.Add(s)
	}
	known := append(Tables(KindBudget), Tables(KindFinalAccounts)...)
	f.Fuzz(func(t *testing.T, text string) {
		got := Find(text)
		last := -1
		for _, name := range got.Tables {
			i := slices.Index(known, name)
			if i <= last {
				t.Fatalf("tables %q: unknown, repeated or out of order", got.Tables)
			}
			last = i
		}
		for _, e := range got.Explanations {
			if e != ExplainOperatingCosts && e != ExplainThreePublic {
				t.Fatalf("explanation %q", e)
			}
		}
		if !utf8.ValidString(text) {
			return
		}
		again := Find(strings.Join(got.Tables, "\n")).Tables
		if !slices.Equal(again, got.Tables) {
			t.Fatalf("the names of %q are found as %q", got.Tables, again)
		}
	})
}
