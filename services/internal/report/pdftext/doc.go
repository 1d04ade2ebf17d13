// Package pdftext extracts the text layer of PDF documents, page by page, with
// layered back ends chosen for a long-running, memory-bounded process.
//
// The default ("auto") strategy reads every page with the small pure-Go
// parser github.com/ledongthuc/pdf and inspects the result with a garbage
// detector. Pages that come out garbled (Type 3 fonts, vertical Identity-V
// cells, parser errors) are read again, lazily, by the next back end that is
// available: poppler's pdftotext -raw when it is on PATH, then PDFium compiled
// to WebAssembly (github.com/klippa-app/go-pdfium, run by wazero, embedded in
// the binary, no download at run time). The PDFium pool is created only when
// a page first needs it and lives in the Extractor, so a process that never
// meets a difficult PDF never pays its start-up cost (seconds of CPU and a
// few hundred MB of memory without a compilation cache).
//
// Nothing here performs OCR: a scanned, image-only PDF yields pages with no
// text, which Text.NoTextLayer reports.
package pdftext
