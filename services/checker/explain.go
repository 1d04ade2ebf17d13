package checker

import (
	"fmt"
	"strings"
	"time"

	"github.com/gongkai/gongkai/pkg/events"
)

// explain says in plain words, in Chinese and English, what a transition
// means and what is needed.
func explain(f events.Finding, inst *Instance, kind Kind, loc *time.Location) events.Text {
	if t, ok := explainSpecial(f, inst, kind, loc); ok {
		return t
	}
	due := f.DueAt.In(loc).Format("2006-01-02")
	today := f.DecidedAt.In(loc).Format("2006-01-02")
	zhT, enT := f.Obligation.ZH, f.Obligation.EN
	prov := ""
	provEN := ""
	if f.Provisional {
		prov = "（截止日期按暂定日历计算）"
		provEN = " (deadline computed on a provisional calendar)"
	}
	switch f.To {
	case events.StateNotDue:
		return events.Text{
			ZH: fmt.Sprintf("%s（%s）应于%s前公开%s，尚未到期。", zhT, f.Period, due, prov),
			EN: fmt.Sprintf("%s (%s) is due by %s%s; not yet due.", enT, f.Period, due, provEN),
		}
	case events.StateDueSoon:
		return events.Text{
			ZH: fmt.Sprintf("%s（%s）应于%s前公开%s，截至%s尚未发现，请按期公开。", zhT, f.Period, due, prov, today),
			EN: fmt.Sprintf("%s (%s) is due by %s%s and was not found as of %s; please publish it on time.", enT, f.Period, due, provEN, today),
		}
	case events.StateOverdue:
		return events.Text{
			ZH: fmt.Sprintf("%s（%s）应于%s前公开，截至%s未发现，已逾期，请尽快公开。", zhT, f.Period, due, today),
			EN: fmt.Sprintf("%s (%s) was due by %s and was not found as of %s: it is overdue; please publish it now.", enT, f.Period, due, today),
		}
	case events.StateEscalated:
		return events.Text{
			ZH: fmt.Sprintf("%s（%s）应于%s前公开，逾期至%s仍未发现，已提请上级政务公开部门督办。", zhT, f.Period, due, today),
			EN: fmt.Sprintf("%s (%s) was due by %s and is still missing as of %s; escalated to the supervising office.", enT, f.Period, due, today),
		}
	case events.StateSatisfied:
		return events.Text{
			ZH: fmt.Sprintf("%s（%s）已于%s公开，未超过截止日期%s。", zhT, f.Period, dateOr(f.PublishedOn, today), due),
			EN: fmt.Sprintf("%s (%s) was published on %s, by the deadline of %s.", enT, f.Period, dateOr(f.PublishedOn, today), due),
		}
	case events.StateSatisfiedLate:
		return events.Text{
			ZH: fmt.Sprintf("%s（%s）已于%s公开，晚于截止日期%s。", zhT, f.Period, dateOr(f.PublishedOn, today), due),
			EN: fmt.Sprintf("%s (%s) was published on %s, after the deadline of %s.", enT, f.Period, dateOr(f.PublishedOn, today), due),
		}
	case events.StateUnknown:
		return events.Text{
			ZH: fmt.Sprintf("无法核实%s（%s）的公开情况：网站未能访问（%s）。这不代表未公开。", zhT, f.Period, inst.LastError),
			EN: fmt.Sprintf("Could not verify %s (%s): the website could not be read (%s). This is not evidence that it is unpublished.", enT, f.Period, inst.LastError),
		}
	}
	return events.Text{
		ZH: fmt.Sprintf("%s（%s）状态变为%s。", zhT, f.Period, f.To),
		EN: fmt.Sprintf("%s (%s) is now %s.", enT, f.Period, f.To),
	}
}

func dateOr(d, fallback string) string {
	if d != "" {
		return d
	}
	return fallback
}

// explainSpecial covers the states and kinds whose wording differs from a
// dated deadline: waivers, incomplete reports, unknown triggers and the
// continuous website obligations.
func explainSpecial(f events.Finding, inst *Instance, kind Kind, loc *time.Location) (events.Text, bool) {
	zhT, enT := f.Obligation.ZH, f.Obligation.EN
	today := f.DecidedAt.In(loc).Format("2006-01-02")
	switch {
	case f.To == events.StateWaived:
		return events.Text{
			ZH: fmt.Sprintf("%s（%s）已豁免：%s。", zhT, f.Period, inst.Note),
			EN: fmt.Sprintf("%s (%s) is waived: %s.", enT, f.Period, inst.Note),
		}, true
	case f.To == events.StateIncomplete && len(inst.FailedRules) > 0:
		return events.Text{
			ZH: fmt.Sprintf("%s（%s）已公开，但未通过以下核查：%s。请核对表格数据与正文后更正。", zhT, f.Period, strings.Join(inst.FailedRules, "、")),
			EN: fmt.Sprintf("%s (%s) is published but fails these checks: %s. Please correct the tables and text.", enT, f.Period, strings.Join(inst.FailedRules, ", ")),
		}, true
	case f.To == events.StateUnknown && errorsIsTrigger(inst.LastError):
		return events.Text{
			ZH: fmt.Sprintf("%s（%s）的截止日期取决于批复日期，登记表未提供，无法判断是否逾期。", zhT, f.Period),
			EN: fmt.Sprintf("The deadline of %s (%s) counts from its approval date, which the registry does not give; timeliness cannot be judged.", enT, f.Period),
		}, true
	}
	if kind == KindRequest && f.To != events.StateUnknown {
		return explainRequest(f, inst, loc), true
	}
	if !kind.Continuous() {
		return events.Text{}, false
	}
	switch f.To {
	case events.StateSatisfied:
		return events.Text{
			ZH: fmt.Sprintf("%s：符合要求（%s）。", zhT, today),
			EN: fmt.Sprintf("%s: compliant as of %s.", enT, today),
		}, true
	case events.StateIncomplete:
		return events.Text{
			ZH: fmt.Sprintf("%s：栏目存在但内容为空（空白栏目），请补充内容。", zhT),
			EN: fmt.Sprintf("%s: the column exists but is blank; please publish its content.", enT),
		}, true
	case events.StateOverdue, events.StateEscalated:
		esc, escEN := "", ""
		if f.To == events.StateEscalated {
			esc, escEN = "，已提请上级政务公开部门督办", "; escalated to the supervising office"
		}
		switch kind {
		case KindFresh:
			newest := inst.PublishedOn
			if newest == "" {
				return events.Text{
					ZH: fmt.Sprintf("%s：未发现注明发布日期的信息，视为不更新%s。", zhT, esc),
					EN: fmt.Sprintf("%s: no dated item was found, which counts as not updated%s.", enT, escEN),
				}, true
			}
			return events.Text{
				ZH: fmt.Sprintf("%s：最新信息发布于%s，截至%s已超过更新时限%s。", zhT, newest, today, esc),
				EN: fmt.Sprintf("%s: the newest item is dated %s; as of %s it is past the update limit%s.", enT, newest, today, escEN),
			}, true
		case KindBlank:
			return events.Text{
				ZH: fmt.Sprintf("%s：空白栏目过多（%s）%s。", zhT, inst.Note, esc),
				EN: fmt.Sprintf("%s: too many blank columns (%s)%s.", enT, inst.Note, escEN),
			}, true
		default:
			return events.Text{
				ZH: fmt.Sprintf("%s：网站未设置该栏目（%s 检查）%s。", zhT, today, esc),
				EN: fmt.Sprintf("%s: the website has no such column (checked %s)%s.", enT, today, escEN),
			}, true
		}
	}
	return events.Text{}, false
}

func errorsIsTrigger(msg string) bool { return strings.HasPrefix(msg, ErrTriggerUnknown.Error()) }
