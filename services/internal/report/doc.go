// Package report checks Chinese government information disclosure annual
// reports (政府信息公开工作年度报告) against the unified format of
// 国办公开办函〔2021〕30号 and its 2019 trial predecessor: the six section
// headings, table 2 (主动公开), table 3 (收到和处理申请, 25 rows × 7
// columns), table 4 (复议、诉讼, 15 cells) and the arithmetic identities
// between their cells, the narrative figures, and the carry-over between
// consecutive years.
//
// The work is done in three steps that callers may use separately:
//
//	doc, err := report.Extract(ctx, name, data, opts) // plain text, HTML, DOCX or PDF → lines and table rows
//	rep, err := report.Parse(doc)                      // headings, tables, title, year, organ, format
//	res := report.Check(rep, prev)                     // one RuleResult per rule instance
//
// A Checker bundles the three and owns the resources that are expensive to
// create (the lazily started PDFium pool of package pdftext); close it when
// done. Extraction never panics on hostile input: sizes, decompression ratios
// and time are bounded, and recovered panics become errors naming the file.
//
// Every rule result is PASS, FAIL, WARN or UNCERTAIN. A blank cell is not a
// zero: a rule whose verdict depends on a blank cell is UNCERTAIN, and a rule
// that fails whatever non-negative numbers the blanks stand for is FAIL. A
// document that is not an annual report, or that has no text layer, gets a
// distinct Outcome instead of a list of failures. docs/report-checker.md in
// the repository describes the rules and the JSON schema.
package report
