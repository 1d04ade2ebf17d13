package checker

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/gongkai/gongkai/pkg/events"
	"github.com/gongkai/gongkai/services/internal/budget"
	"github.com/gongkai/gongkai/services/internal/obligation"
)

// Budgets are judged complete by the standard tables their text shows
// (预算法 art. 14 ¶2; the eight tables of a department budget). Ingest
// records the tables it finds in the observation; the checker finds them
// again, with the same finder (package budget), in the text ingest stored
// as evidence, the way annual reports are checked with the report checker.
// Only a profile that lists its tables is judged: the department budget's.
// The government budget's tables and the final accounts' (whose list the
// reference leaves uncertain) are recorded, not judged.

// budgetProfile is the completeness profile of budgets and their tables.
const budgetProfile = "cn-budget-tables"

// budgetRulePrefix starts the failed rule of a missing table:
// "BUD-TABLE:政府性基金预算支出表".
const budgetRulePrefix = "BUD-TABLE:"

// profileKey is a completeness profile as Rule.Profile hands it to
// completeness: its name, followed for a budget profile that lists its
// tables by those tables ("cn-budget-tables?tables=收支总表,…").
func profileKey(p obligation.Profile) string {
	if p.Name == budgetProfile && p.Params["tables"] != "" {
		return p.Name + "?" + url.Values{"tables": {p.Params["tables"]}}.Encode()
	}
	return p.Name
}

// requiredTables returns the tables a profile key requires, by their
// standard names; false when the profile does not judge budget tables.
// Names the finder does not know are left out (they cannot be looked for).
func requiredTables(key string) ([]string, bool) {
	name, query, ok := strings.Cut(key, "?")
	if !ok || name != budgetProfile {
		return nil, false
	}
	q, err := url.ParseQuery(query)
	if err != nil || q.Get("tables") == "" {
		return nil, false
	}
	var out []string
	for _, t := range strings.Split(q.Get("tables"), ",") {
		if c, ok := budget.Canonical(strings.TrimSpace(t)); ok {
			out = append(out, c)
		}
	}
	return out, len(out) > 0
}

// missingTables returns the failed rules of a budget whose text shows the
// tables found: one per required table not among them. A text that shows
// fewer than half of the required tables is not judged (nil): it is most
// likely a notice whose tables sit in documents gongkai does not read
// (spreadsheets, images), and accusing an agency of missing tables it may
// have published would be a false finding.
func missingTables(found budget.Found, required []string) []string {
	var missing []string
	for _, t := range required {
		if !found.Has(t) {
			missing = append(missing, budgetRulePrefix+t)
		}
	}
	if 2*(len(required)-len(missing)) < len(required) {
		return nil
	}
	return missing
}

// budgetCompleteness judges a budget's tables. Ingest records the tables it
// found in the budget's text with the observation (events.BudgetText); only
// an observation without them (an older ingest) makes the checker read the
// text (evidence textHash) and look for them itself.
func (s *Service) budgetCompleteness(ctx context.Context, f Facts, required []string) ([]string, error) {
	if f.Budget != nil {
		return missingTables(budget.Found{Tables: f.Budget.Tables}, required), nil
	}
	st, err := s.evidenceStore(ctx)
	if err != nil {
		return nil, err
	}
	body, _, err := st.Get(ctx, f.Text)
	if err != nil {
		return nil, fmt.Errorf("budget completeness: %w", err)
	}
	return missingTables(budget.Find(string(body)), required), nil
}

// explainBudget words the finding of a budget that lacks standard tables,
// naming them; false for any other finding.
func explainBudget(f events.Finding, inst *Instance) (events.Text, bool) {
	if f.To != events.StateIncomplete || len(inst.FailedRules) == 0 {
		return events.Text{}, false
	}
	var zh, en []string
	for _, r := range inst.FailedRules {
		t, ok := strings.CutPrefix(r, budgetRulePrefix)
		if !ok {
			return events.Text{}, false
		}
		zh = append(zh, t)
		if g := budget.English(t); g != "" {
			en = append(en, fmt.Sprintf("%s (%s)", t, g))
		} else {
			en = append(en, t)
		}
	}
	return events.Text{
		ZH: fmt.Sprintf("%s（%s）已公开，但缺少以下标准表格：%s。请补充公开完整的预算报表。", f.Obligation.ZH, f.Period, strings.Join(zh, "、")),
		EN: fmt.Sprintf("%s (%s) is published but lacks these standard tables: %s. Please publish the complete set of budget tables.", f.Obligation.EN, f.Period, strings.Join(en, "; ")),
	}, true
}
