package dashboard

import (
	"fmt"
	"html/template"
	"time"

	"github.com/gongkai/gongkai/pkg/events"
)

var labels = map[string]map[string]string{
	"zh": {
		"app": "政务公开监测", "matrix": "合规矩阵", "rollup": "分地区汇总", "region": "地区", "level": "层级",
		"pack": "规则包", "state": "状态", "search": "名称或编号", "filter": "筛选", "all": "全部", "agencies": "机构",
		"instances": "义务实例", "rate": "按期率", "due": "已到期", "page": "页", "prev": "上一页", "next": "下一页",
		"agency": "机构", "obligation": "义务", "period": "期间", "dueAt": "截止时间", "since": "状态起始",
		"published": "公开日期", "evidence": "证据", "timeline": "变化记录", "found": "发现位置", "parent": "上级机关",
		"website": "网站", "none": "暂无记录", "csv": "导出 CSV", "api": "JSON 接口", "provisional": "暂定",
		"lang": "English", "contacts": "联系人", "error": "说明", "total": "共",
		"state.not_due": "未到期", "state.due_soon": "即将到期", "state.overdue": "逾期", "state.escalated": "逾期督办",
		"state.satisfied": "按期公开", "state.satisfied_late": "逾期后公开", "state.incomplete": "不完整",
		"state.waived": "豁免", "state.not_applicable": "不适用", "state.unknown": "无法核实",
		"level.national": "国家", "level.province": "省", "level.city": "市", "level.county": "县", "level.township": "乡镇",
	},
	"en": {
		"app": "Disclosure monitor", "matrix": "Compliance matrix", "rollup": "By region", "region": "Region", "level": "Level",
		"pack": "Rule pack", "state": "State", "search": "Name or id", "filter": "Filter", "all": "All", "agencies": "agencies",
		"instances": "obligation instances", "rate": "On time", "due": "Due", "page": "page", "prev": "Previous", "next": "Next",
		"agency": "Agency", "obligation": "Obligation", "period": "Period", "dueAt": "Due", "since": "Since",
		"published": "Published", "evidence": "Evidence", "timeline": "History", "found": "Found at", "parent": "Supervised by",
		"website": "Website", "none": "Nothing recorded yet", "csv": "Export CSV", "api": "JSON API", "provisional": "provisional",
		"lang": "中文", "contacts": "Contacts", "error": "Note", "total": "total",
		"state.not_due": "Not due", "state.due_soon": "Due soon", "state.overdue": "Overdue", "state.escalated": "Escalated",
		"state.satisfied": "On time", "state.satisfied_late": "Late", "state.incomplete": "Incomplete",
		"state.waived": "Waived", "state.not_applicable": "N/A", "state.unknown": "Unknown",
		"level.national": "National", "level.province": "Province", "level.city": "City", "level.county": "County", "level.township": "Township",
	},
}

var funcs = template.FuncMap{
	"stateLabel": func(l map[string]string, s events.State) string { return l["state."+string(s)] },
	"levelLabel": func(l map[string]string, s string) string {
		if v, ok := l["level."+s]; ok {
			return v
		}
		return s
	},
	"pct": func(f float64) string { return fmt.Sprintf("%.0f%%", f*100) },
	"date": func(t time.Time) string {
		if t.IsZero() || t.Unix() == 0 {
			return "—"
		}
		return t.Format("2006-01-02") // in the zone the handler chose
	},
	"datetime": func(t time.Time) string { return t.Format("2006-01-02 15:04") },
	"short": func(h string) string {
		if len(h) > 12 {
			return h[:12]
		}
		return h
	},
	"textIn": func(t events.Text, lang string) string { return t.In(lang) },
	"eq":     func(a, b any) bool { return fmt.Sprint(a) == fmt.Sprint(b) },
}
