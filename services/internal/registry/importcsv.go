package registry

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/gongkai/gongkai/pkg/events"
	"github.com/gongkai/gongkai/services/internal/calendar"
	"github.com/gongkai/gongkai/services/internal/sheet"
)

// CSVColumns returns the columns ImportCSV understands, in the order
// documented: the header row names them (case-insensitive, in any order;
// the Chinese aliases of csvAliases are accepted too). "column:KEY" headers
// (for example column:annual_report) give a column's URL.
func CSVColumns() []string {
	return []string{"id", "name", "name_en", "level", "kind", "parent", "region", "jurisdiction", "website",
		"schedule", "robots", "packs", "budget_approved", "final_accounts_approved",
		"contact_name", "contact_role", "contact_email", "contact_lang", "contact_mode"}
}

// csvAliases maps the Chinese headers of typical spreadsheet exports to
// column names.
func csvAliases() map[string]string {
	return map[string]string{
		"编号": "id", "标识": "id", "名称": "name", "单位名称": "name", "机构名称": "name", "英文名称": "name_en",
		"层级": "level", "级别": "level", "类型": "kind", "上级": "parent", "上级单位": "parent", "地区": "region",
		"网址": "website", "网站": "website", "网站地址": "website", "联系人": "contact_name", "角色": "contact_role",
		"邮箱": "contact_email", "电子邮箱": "contact_email", "年报栏目": "column:annual_report",
	}
}

// ImportCSV converts a spreadsheet export (CSV, UTF-8 with or without a
// byte-order mark, or GBK/GB18030) into registry YAML. The first row names
// the columns (see CSVColumns). A row whose id repeats an earlier row adds
// a contact to that agency. Multi-valued cells separate values with ';':
// packs "cn-ogi-2019;cn-budget", approval dates "2026=2026-02-10;2025=2025-02-12".
//
// Errors name the file, the line and the column:
//
//	agencies.csv:7: column level: "municipal": expected national, province, city, county or township
//
// The result is validated as a registry before it is returned.
func ImportCSV(name string, data []byte) ([]byte, error) {
	sh, err := sheet.Open(name, data, sheet.Spec{
		Kind: "registry", Columns: CSVColumns(), Aliases: csvAliases(),
		Required: []string{"id", "name", "level", "kind", "website"}, Prefix: "column:",
	})
	if err != nil {
		return nil, err
	}
	var errs []error
	var agencies []*Agency
	byID := map[string]*Agency{}
	for {
		row, err := sh.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		line, cell := row.Line, row.Cell
		bad := func(col, format string, args ...any) {
			errs = append(errs, fmt.Errorf("%s:%d: column %s: %s", name, line, col, fmt.Sprintf(format, args...)))
		}
		id := cell("id")
		a, repeat := byID[id]
		if !repeat {
			a = &Agency{ID: id, Name: cell("name"), NameEN: cell("name_en"), Level: cell("level"), Kind: cell("kind"),
				Parent: cell("parent"), Region: cell("region"), Jurisdiction: cell("jurisdiction"), Website: cell("website"),
				Schedule: cell("schedule"), Robots: cell("robots")}
			if !events.ValidToken(a.ID) {
				bad("id", "%q: expected 1-128 ASCII letters, digits, '-' or '_'", a.ID)
			}
			if a.Name == "" {
				bad("name", "empty")
			}
			if !oneOf(a.Level, LevelNational, LevelProvince, LevelCity, LevelCounty, LevelTownship) {
				bad("level", "%q: expected national, province, city, county or township", a.Level)
			}
			if !oneOf(a.Kind, KindGovernment, KindDepartment) {
				bad("kind", "%q: expected government or department", a.Kind)
			}
			if err := checkURL(a.Website); err != nil {
				bad("website", "%v", err)
			}
			if p := cell("packs"); p != "" {
				for _, v := range strings.Split(p, ";") {
					if v = strings.TrimSpace(v); v != "" {
						a.Packs = append(a.Packs, v)
					}
				}
			}
			for _, f := range []struct {
				col string
				dst *ApprovalDates
			}{{"budget_approved", &a.BudgetApproved}, {"final_accounts_approved", &a.FinalAccountsApproved}} {
				v := cell(f.col)
				if v == "" {
					continue
				}
				m := ApprovalDates{}
				for _, kv := range strings.Split(v, ";") {
					ys, ds, ok := strings.Cut(strings.TrimSpace(kv), "=")
					y, yerr := strconv.Atoi(strings.TrimSpace(ys))
					d, derr := calendar.ParseDate(strings.TrimSpace(ds))
					if !ok || yerr != nil || derr != nil {
						bad(f.col, "%q: expected YEAR=YYYY-MM-DD, several separated by ';'", kv)
						continue
					}
					m[y] = d
				}
				*f.dst = m
			}
			for ck, u := range row.Prefixed("column:") {
				if err := checkURL(u); err != nil {
					bad("column:"+ck, "%v", err)
				}
				if a.Columns == nil {
					a.Columns = map[string]ColumnHint{}
				}
				a.Columns[ck] = ColumnHint{URL: u}
			}
			byID[id] = a
			agencies = append(agencies, a)
		}
		if email := cell("contact_email"); email != "" || cell("contact_name") != "" {
			c := Contact{Name: cell("contact_name"), Role: cell("contact_role"), Email: email,
				Lang: cell("contact_lang"), Mode: cell("contact_mode")}
			if c.Role == "" {
				c.Role = "disclosure_office"
			}
			if c.Name == "" {
				c.Name = a.Name
			}
			if err := checkEmail(c.Email); err != nil {
				bad("contact_email", "%q is not a valid email address", c.Email)
			}
			a.Contacts = append(a.Contacts, c)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if len(agencies) == 0 {
		return nil, fmt.Errorf("%s: no agencies: the file has a header row but no data rows", name)
	}
	out := struct {
		Agencies []*Agency `yaml:"agencies"`
	}{agencies}
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "# Agency registry imported from %s by gongkai agencies import.\n", name)
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(out); err != nil {
		return nil, fmt.Errorf("%s: encode registry: %w", name, err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("%s: encode registry: %w", name, err)
	}
	if _, err := Parse(name+" (imported)", buf.Bytes()); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func oneOf(s string, vals ...string) bool {
	for _, v := range vals {
		if s == v {
			return true
		}
	}
	return false
}
