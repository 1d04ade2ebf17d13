package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"golang.org/x/text/width"

	checkreport "github.com/gongkai/gongkai/services/internal/report"
	"github.com/gongkai/gongkai/services/internal/report/pdftext"
)

const checkReportUsage = `usage: gongkai check-report FILE... [--previous FILE] [--json] [--lang zh|en]

Checks government information disclosure annual reports (政府信息公开工作年度报告)
against the unified format of 国办公开办函〔2021〕30号: the six headings, tables
2, 3 and 4 and their arithmetic, the narrative figures and, with --previous,
the carry-over from the previous year. FILE may be plain text, HTML, DOCX or
PDF ("-" reads standard input). Flags may come before or after the files.

Exit status: 0 when no rule FAILs, 1 when a rule FAILs or a document is not
an annual report, 2 when a document cannot be read (including a PDF with no
text layer) or the arguments are wrong.

Flags:
`

// checkReportFlags are the parsed flags of check-checkreport.
type checkReportFlags struct {
	previous string
	json     bool
	lang     string
	backend  string
	noPDFium bool
	cacheDir string
	timeout  time.Duration
	dumpText bool
	maxBytes int64
	files    []string
}

func parseCheckReportFlags(args []string, stderr io.Writer) (checkReportFlags, int, bool) {
	var f checkReportFlags
	fs := flag.NewFlagSet("check-report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, checkReportUsage)
		fs.PrintDefaults()
	}
	defaultCache := ""
	if dir, err := os.UserCacheDir(); err == nil {
		defaultCache = filepath.Join(dir, "gongkai", "wazero")
	}
	fs.StringVar(&f.previous, "previous", "", "the previous year's report, for the cross-year rules X-T3-CARRY and X-T2-STOCK")
	fs.BoolVar(&f.json, "json", false, "write JSON (schema "+checkreport.SchemaVersion+") instead of a table")
	fs.StringVar(&f.lang, "lang", "zh", "language of the table output: zh or en")
	fs.StringVar(&f.backend, "pdf-backend", "auto", "PDF text back end: auto, ledongthuc, pdftotext or pdfium")
	fs.BoolVar(&f.noPDFium, "no-pdfium", false, "never start PDFium (its start-up costs seconds and ~300 MB without a warm cache)")
	fs.StringVar(&f.cacheDir, "pdfium-cache", defaultCache, "directory for PDFium's compilation cache (empty: none)")
	fs.DurationVar(&f.timeout, "timeout", time.Minute, "time limit for reading one document")
	fs.BoolVar(&f.dumpText, "dump-text", false, "print the extracted text with line numbers instead of checking")
	fs.Int64Var(&f.maxBytes, "max-bytes", 64<<20, "largest document accepted, in bytes")

	var flags []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			f.files = append(f.files, args[i+1:]...)
			break
		}
		if len(a) > 1 && a[0] == '-' {
			flags = append(flags, a)
			name := strings.TrimLeft(a, "-")
			if strings.Contains(name, "=") {
				continue
			}
			if fl := fs.Lookup(name); fl != nil && !crIsBoolFlag(fl) && i+1 < len(args) {
				flags = append(flags, args[i+1])
				i++
			}
			continue
		}
		f.files = append(f.files, a)
	}
	if err := fs.Parse(flags); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return f, 0, false
		}
		return f, 2, false
	}
	if f.lang != "zh" && f.lang != "en" {
		fmt.Fprintf(stderr, "gongkai check-report: --lang must be zh or en, not %q\n", f.lang)
		return f, 2, false
	}
	if _, err := pdftext.ParseBackend(f.backend); err != nil {
		fmt.Fprintf(stderr, "gongkai check-report: --pdf-backend: %v\n", err)
		return f, 2, false
	}
	if len(f.files) == 0 {
		fs.Usage()
		return f, 2, false
	}
	return f, 0, true
}

func crIsBoolFlag(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// cmdCheckReport implements "gongkai check-report"; args exclude the
// subcommand. It returns the exit status.
func cmdCheckReport(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	f, code, ok := parseCheckReportFlags(args, stderr)
	if !ok {
		return code
	}
	backend, _ := pdftext.ParseBackend(f.backend)
	checker := checkreport.NewChecker(checkreport.Options{
		Extract: checkreport.ExtractOptions{Timeout: f.timeout, MaxBytes: f.maxBytes},
		PDF:     pdftext.Options{Backend: backend, NoPDFium: f.noPDFium, CacheDir: f.cacheDir},
	})
	defer checker.Close()

	if f.dumpText {
		return crDumpText(ctx, checker, f, stdout, stderr)
	}

	var prev *checkreport.Report
	if f.previous != "" {
		data, err := crReadInput(f.previous, f.maxBytes)
		if err == nil {
			prev, err = checker.Read(ctx, f.previous, data)
		}
		if err != nil {
			fmt.Fprintf(stderr, "gongkai check-report: previous report: %v\n", err)
			return 2
		}
	}

	exit := 0
	var results []*checkreport.Result
	for _, name := range f.files {
		if err := ctx.Err(); err != nil {
			fmt.Fprintf(stderr, "gongkai check-report: %v\n", err)
			return 2
		}
		data, err := crReadInput(name, f.maxBytes)
		var rep *checkreport.Report
		if err == nil {
			rep, err = checker.Read(ctx, name, data)
		}
		if err != nil {
			results = append(results, checkreport.ErrorResult(name, err))
			exit = 2
			if !f.json {
				fmt.Fprintf(stderr, "gongkai check-report: %v\n", err)
			}
			continue
		}
		res := checkreport.Check(rep, prev)
		results = append(results, res)
		switch {
		case res.Outcome == checkreport.NoText:
			exit = 2
		case res.Outcome == checkreport.NotAReport || res.Summary.Fail > 0:
			exit = max(exit, 1)
		}
	}
	if f.json {
		if err := checkreport.EncodeJSON(stdout, results); err != nil {
			fmt.Fprintf(stderr, "gongkai check-report: %v\n", err)
			return 2
		}
		return exit
	}
	for i, res := range results {
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		if res.Outcome == checkreport.ReadError {
			fmt.Fprintf(stdout, "== %s\n%s\n", res.Name, res.Reason.In(f.lang))
			continue
		}
		crWriteHuman(stdout, res, f.lang)
	}
	return exit
}

// crReadInput reads a file, or standard input for "-", refusing more than
// max bytes.
func crReadInput(name string, limit int64) ([]byte, error) {
	var r io.Reader
	if name == "-" {
		r = os.Stdin
	} else {
		fh, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer fh.Close()
		r = fh
	}
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("read %s: larger than %d bytes: %w", name, limit, checkreport.ErrTooLarge)
	}
	return data, nil
}

func crDumpText(ctx context.Context, c *checkreport.Checker, f checkReportFlags, stdout, stderr io.Writer) int {
	exit := 0
	for _, name := range f.files {
		data, err := crReadInput(name, f.maxBytes)
		var doc *checkreport.Document
		if err == nil {
			doc, err = c.Extract(ctx, name, data)
		}
		if err != nil {
			fmt.Fprintf(stderr, "gongkai check-report: %v\n", err)
			exit = 2
			continue
		}
		fmt.Fprintf(stdout, "== %s (%s", name, doc.Kind)
		if doc.Extractor != "" {
			fmt.Fprintf(stdout, ", %s", doc.Extractor)
		}
		fmt.Fprintln(stdout, ")")
		for i, l := range doc.Lines {
			mark := " "
			if l.Furniture {
				mark = "~"
			} else if l.IsRow() {
				mark = "|"
			}
			fmt.Fprintf(stdout, "%5d%s %s\n", i+1, mark, l.Text)
		}
		for _, n := range doc.Notes {
			fmt.Fprintf(stdout, "note: %s\n", n)
		}
	}
	return exit
}

// crSectionTitles name the groups of the table output.
var crSectionTitles = map[string][2]string{
	"":  {"全文", "whole document"},
	"一": {"一、总体情况", "一 overview"},
	"二": {"二、主动公开政府信息情况（表二）", "二 proactive disclosure (table 2)"},
	"三": {"三、收到和处理政府信息公开申请情况（表三）", "三 applications received and handled (table 3)"},
	"四": {"四、政府信息公开行政复议、行政诉讼情况（表四）", "四 reconsideration and litigation (table 4)"},
	"五": {"五、存在的主要问题及改进情况", "五 problems and improvements"},
	"六": {"六、其他需要报告的事项", "六 other matters"},
}

var crSectionOrder = []string{"", "一", "二", "三", "四", "五", "六"}

func crStatusRank(s checkreport.Status) int {
	switch s {
	case checkreport.Fail:
		return 0
	case checkreport.Warn:
		return 1
	case checkreport.Uncertain:
		return 2
	}
	return 3
}

func crTr(lang, zh, en string) string {
	if lang == "en" {
		return en
	}
	return zh
}

// crWriteHuman writes one result as a table grouped by section: sections
// with failures first, and within a section failures, warnings, uncertain
// results, then passes (collapsed per rule).
func crWriteHuman(w io.Writer, res *checkreport.Result, lang string) {
	fmt.Fprintf(w, "== %s\n", res.Name)
	if res.Reason != nil {
		label := crTr(lang, "不是年度报告", "NOT A REPORT")
		if res.Outcome == checkreport.NoText {
			label = crTr(lang, "没有文字", "NO TEXT")
		}
		fmt.Fprintf(w, "%s: %s\n", label, res.Reason.In(lang))
		return
	}
	if res.Title != "" {
		fmt.Fprintln(w, res.Title)
	}
	var facts []string
	format := map[checkreport.Format][2]string{
		checkreport.Format2021:    {"2021 年统一格式", "2021 unified format"},
		checkreport.Format2019:    {"2019 年试行格式", "2019 trial format"},
		checkreport.FormatPre2019: {"2019 年以前", "pre-2019"},
	}[res.Format]
	facts = append(facts, crTr(lang, "格式 ", "format ")+crTr(lang, format[0], format[1]))
	if res.Year > 0 {
		facts = append(facts, fmt.Sprintf("%s%d", crTr(lang, "年度 ", "year "), res.Year))
	}
	if res.Organ != "" {
		facts = append(facts, crTr(lang, "机关 ", "organ ")+res.Organ)
	}
	src := string(res.Kind)
	if res.Extractor != "" {
		src += " (" + res.Extractor + ")"
	}
	facts = append(facts, crTr(lang, "来源 ", "source ")+src)
	if res.Previous != nil {
		facts = append(facts, fmt.Sprintf("%s%s", crTr(lang, "上年报告 ", "previous "), res.Previous.Name))
	}
	fmt.Fprintln(w, strings.Join(facts, " · "))
	fmt.Fprintf(w, "FAIL %d · WARN %d · UNCERTAIN %d · PASS %d\n",
		res.Summary.Fail, res.Summary.Warn, res.Summary.Uncertain, res.Summary.Pass)

	groups := map[string][]checkreport.RuleResult{}
	for _, r := range res.Rules {
		groups[r.Section] = append(groups[r.Section], r)
	}
	sections := append([]string(nil), crSectionOrder...)
	worst := func(s string) int {
		best := 4
		for _, r := range groups[s] {
			best = min(best, crStatusRank(r.Status))
		}
		return best
	}
	sort.SliceStable(sections, func(i, j int) bool { return worst(sections[i]) < worst(sections[j]) })
	for _, s := range sections {
		rules := groups[s]
		if len(rules) == 0 {
			continue
		}
		sort.SliceStable(rules, func(i, j int) bool { return crStatusRank(rules[i].Status) < crStatusRank(rules[j].Status) })
		title := crSectionTitles[s]
		fmt.Fprintf(w, "\n%s\n", crTr(lang, title[0], title[1]))
		passes := map[string]int{}
		var passOrder []string
		for _, r := range rules {
			if r.Status == checkreport.Pass {
				if passes[r.ID] == 0 {
					passOrder = append(passOrder, r.ID)
				}
				passes[r.ID]++
				continue
			}
			crWriteRuleLine(w, r, lang)
		}
		for _, id := range passOrder {
			var line bytes.Buffer
			if passes[id] == 1 {
				for _, r := range rules {
					if r.ID == id && r.Status == checkreport.Pass {
						crWriteRuleLine(&line, r, lang)
					}
				}
			} else {
				fmt.Fprintf(&line, "  %s %s ×%d\n", crPad("PASS", 9), id, passes[id])
			}
			w.Write(line.Bytes())
		}
	}
	if len(res.Notes) > 0 {
		fmt.Fprintf(w, "\n%s\n", crTr(lang, "说明", "Notes"))
		for _, n := range res.Notes {
			fmt.Fprintf(w, "  - %s\n", n)
		}
	}
}

func crWriteRuleLine(w io.Writer, r checkreport.RuleResult, lang string) {
	num := func(p *int64) string {
		if p == nil {
			return "-"
		}
		return fmt.Sprint(*p)
	}
	where := ""
	if r.Location.Line > 0 {
		where = fmt.Sprintf("L%d", r.Location.Line)
	}
	exp, act := "", ""
	if r.Expected != nil || r.Actual != nil {
		exp = crTr(lang, "应为 ", "exp ") + num(r.Expected)
		act = crTr(lang, "实为 ", "act ") + num(r.Actual)
	}
	fmt.Fprintf(w, "  %s %s %s %s %s %s\n",
		crPad(string(r.Status), 9), crPad(r.Name(), 16), crPad(exp, 13), crPad(act, 13),
		crPad(where, 6), r.Message.In(lang))
}

// pad pads s with spaces to n display columns (wide characters count 2).
func crPad(s string, n int) string {
	w := 0
	for _, r := range s {
		switch width.LookupRune(r).Kind() {
		case width.EastAsianWide, width.EastAsianFullwidth:
			w += 2
		default:
			w++
		}
	}
	if w >= n {
		return s
	}
	return s + strings.Repeat(" ", n-w)
}
