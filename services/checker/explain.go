package checker

import (
	"fmt"
	"time"

	"github.com/gongkai/gongkai/pkg/events"
)

// explain says in plain words, in Chinese and English, what a transition
// means and what is needed.
func explain(f events.Finding, inst *Instance, loc *time.Location) events.Text {
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
