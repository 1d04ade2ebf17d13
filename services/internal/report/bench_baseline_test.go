package report

import (
	"bytes"
	"fmt"

	"github.com/ledongthuc/pdf"
)

// plainTextBaseline reads every page with ledongthuc's Page.GetPlainText,
// the cheapest text extraction there is, as the baseline of BenchmarkCheckPDF.
func plainTextBaseline(data []byte) error {
	r, err := pdf.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return err
	}
	for i := 1; i <= r.NumPage(); i++ {
		if _, err := r.Page(i).GetPlainText(nil); err != nil {
			return fmt.Errorf("page %d: %w", i, err)
		}
	}
	return nil
}
