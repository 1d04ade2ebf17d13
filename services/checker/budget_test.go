package checker

import (
	"slices"
	"strings"
	"testing"

	"github.com/gongkai/gongkai/pkg/events"
	"github.com/gongkai/gongkai/services/internal/budget"
	"github.com/gongkai/gongkai/services/internal/obligation"
)

// The department budget's profile names the eight standard tables, and
// the finder knows every one of them; the government budget's and the
// final accounts' profiles name none and are not judged.
func TestBudgetProfilesFromThePack(t *testing.T) {
	cat, err := obligation.LoadEmbedded()
	if err != nil {
		t.Fatal(err)
	}
	for id, judged := range map[string]bool{
		"CN-BUD-DEPT-BUDGET": true, "CN-BUD-GOV-BUDGET": false, "CN-BUD-DEPT-FINAL": false, "CN-BUD-GOV-FINAL": false,
	} {
		o, ok := cat.Obligation(id)
		if !ok {
			t.Fatalf("no obligation %s", id)
		}
		p := o.Completeness.Profile
		tables, ok := requiredTables(profileKey(p))
		if ok != judged {
			t.Errorf("%s: judged %v, want %v", id, ok, judged)
		}
		if judged {
			if got := strings.Split(p.Params["tables"], ","); len(got) != len(tables) {
				t.Errorf("%s: the finder knows %d of the %d tables %q", id, len(tables), len(got), got)
			}
			if !slices.Equal(tables, budget.Tables(budget.KindBudget)) {
				t.Errorf("%s: tables %q", id, tables)
			}
		}
	}
	if profileKey(obligation.Profile{Name: "cn-annual-report-2021"}) != "cn-annual-report-2021" {
		t.Error("other profiles are passed by name")
	}
	if _, ok := requiredTables("cn-budget-tables"); ok {
		t.Error("a budget profile without tables is judged")
	}
}

func budgetText(omit ...string) string {
	var b strings.Builder
	b.WriteString("示范局2026年部门预算\n三、机关运行经费情况说明。机关运行经费预算40万元，\n")
	for i, t := range budget.Tables(budget.KindBudget) {
		if !slices.Contains(omit, t) {
			b.WriteString("表" + string(rune('1'+i)) + " " + t + "\n项目 | 合计\n一般公共服务支出 | 10.00\n")
		}
	}
	return b.String()
}

func TestMissingTables(t *testing.T) {
	required := budget.Tables(budget.KindBudget)
	three, fund := required[6], required[7]
	for _, tc := range []struct {
		name, text string
		want       []string
	}{
		{"complete", budgetText(), nil},
		{"two missing", budgetText(three, fund), []string{budgetRulePrefix + three, budgetRulePrefix + fund}},
		{"half shown: judged", budgetText(required[:4]...), []string{
			budgetRulePrefix + required[0], budgetRulePrefix + required[1], budgetRulePrefix + required[2], budgetRulePrefix + required[3]}},
		{"fewer than half shown: not judged", budgetText(required[:5]...), nil},
		{"a notice linking spreadsheets: not judged", "示范局2026年部门预算公开，详见附件《部门收支总表》。", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := missingTables(budget.Find(tc.text), required); !slices.Equal(got, tc.want) {
				t.Errorf("missingTables = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestExplainBudget(t *testing.T) {
	f := events.Finding{To: events.StateIncomplete, Period: "2026",
		Obligation: events.Text{ZH: "部门预算及报表公开", EN: "Department budget with tables"}}
	inst := &Instance{FailedRules: []string{budgetRulePrefix + "一般公共预算“三公”经费支出表", budgetRulePrefix + "政府性基金预算支出表"}}
	got, ok := explainBudget(f, inst)
	if !ok || !strings.Contains(got.ZH, "缺少以下标准表格：一般公共预算“三公”经费支出表、政府性基金预算支出表") ||
		!strings.Contains(got.EN, `一般公共预算“三公”经费支出表 (general public budget expenditure on the "three public" items); 政府性基金预算支出表 (government fund budget expenditure)`) {
		t.Fatalf("explanation %+v", got)
	}
	if _, ok := explainBudget(f, &Instance{FailedRules: []string{"T3-SUM"}}); ok {
		t.Error("an annual report's failure worded as a budget's")
	}
	f.To = events.StateSatisfied
	if _, ok := explainBudget(f, inst); ok {
		t.Error("a satisfied budget worded as incomplete")
	}
}
