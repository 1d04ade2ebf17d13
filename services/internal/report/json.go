package report

import (
	"encoding/json"
	"fmt"
	"io"
)

// ReadError is the Outcome of a document that could not be read at all
// (ErrorResult); no rules were evaluated.
const ReadError Outcome = "error"

// Output is the JSON document written by EncodeJSON (and by
// gongkai check-report --json): the schema version and one Result per
// document, in the order given.
type Output struct {
	// Schema is SchemaVersion.
	Schema string `json:"schema"`
	// Reports holds one Result per document.
	Reports []*Result `json:"reports"`
}

// ErrorResult returns the Result recorded for a document that could not be
// read: Outcome ReadError with the error as Reason.
func ErrorResult(name string, err error) *Result {
	return &Result{
		Name:    name,
		Outcome: ReadError,
		Reason:  &Message{ZH: "无法读取：" + err.Error(), EN: "cannot read: " + err.Error()},
		Rules:   []RuleResult{},
	}
}

// EncodeJSON writes results as an Output document, indented, with
// non-ASCII text unescaped.
func EncodeJSON(w io.Writer, results []*Result) error {
	if results == nil {
		results = []*Result{}
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(Output{Schema: SchemaVersion, Reports: results}); err != nil {
		return fmt.Errorf("encode check results: %w", err)
	}
	return nil
}
