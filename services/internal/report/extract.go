package report

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/gongkai/gongkai/services/internal/report/pdftext"
)

// Errors returned (wrapped) by Extract. Test them with errors.Is.
var (
	// ErrUnsupported means the input is in a format Extract cannot read,
	// such as a legacy Word .doc or a spreadsheet.
	ErrUnsupported = errors.New("unsupported document format")
	// ErrTooLarge means the input, or the data it expands to, exceeds a
	// configured limit.
	ErrTooLarge = errors.New("document too large")
	// ErrMalformed means the input claims a format but cannot be parsed
	// in it.
	ErrMalformed = errors.New("malformed document")
)

// ExtractOptions bound the work Extract does. The zero value gives the
// defaults documented on each field.
type ExtractOptions struct {
	// MaxBytes is the largest input accepted. The default is 64 MiB.
	MaxBytes int64
	// MaxUncompressedBytes caps what the parts of a DOCX archive that are
	// read may expand to. The default is 128 MiB.
	MaxUncompressedBytes int64
	// MaxCompressionRatio is the largest uncompressed/compressed ratio
	// accepted for a DOCX part larger than 1 MiB, a zip-bomb guard. The
	// default is 200.
	MaxCompressionRatio int64
	// MaxTableCells caps the grid cells built for one HTML or DOCX table
	// (row and column spans expand them). The default is 200 000.
	MaxTableCells int
	// Timeout bounds one extraction in addition to ctx. The default is
	// 60 s; a negative value means no limit beyond ctx.
	Timeout time.Duration
	// ContentType is the Content-Type header an HTML document was served
	// with, if known; its charset parameter is used when the content is
	// not valid UTF-8.
	ContentType string
	// PDF is the PDF extractor to use. When nil, Extract creates one from
	// PDFOptions for the call and closes it afterwards, which restarts
	// PDFium every time it is needed: long-lived callers should share one
	// (a Checker does).
	PDF *pdftext.Extractor
	// PDFOptions configure the PDF extractor created when PDF is nil.
	PDFOptions pdftext.Options
}

func (o ExtractOptions) withDefaults() ExtractOptions {
	if o.MaxBytes <= 0 {
		o.MaxBytes = 64 << 20
	}
	if o.MaxUncompressedBytes <= 0 {
		o.MaxUncompressedBytes = 128 << 20
	}
	if o.MaxCompressionRatio <= 0 {
		o.MaxCompressionRatio = 200
	}
	if o.MaxTableCells <= 0 {
		o.MaxTableCells = 200_000
	}
	if o.Timeout == 0 {
		o.Timeout = 60 * time.Second
	}
	return o
}

// Extract reads data, the bytes of a document called name, into a Document.
// The format is detected from the content (PDF, ZIP and OLE signatures,
// HTML markup) with the name's extension as a tie-breaker: PDF, DOCX, HTML
// (UTF-8, GBK/GB18030 and any charset declared in a meta tag or BOM) and
// plain text (UTF-8, UTF-16 with BOM, GB18030; Markdown pipe tables become
// table rows). Errors name the document and wrap ErrUnsupported,
// ErrTooLarge, ErrMalformed or the context's error.
func Extract(ctx context.Context, name string, data []byte, opts ExtractOptions) (doc *Document, err error) {
	opts = opts.withDefaults()
	defer func() {
		if x := recover(); x != nil {
			doc, err = nil, fmt.Errorf("read %s: internal error: %v: %w", name, x, ErrMalformed)
		}
	}()
	if int64(len(data)) > opts.MaxBytes {
		return nil, fmt.Errorf("read %s: %d bytes, limit %d: %w", name, len(data), opts.MaxBytes, ErrTooLarge)
	}
	if opts.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opts.Timeout)
		defer cancel()
	}
	kind, err := sniff(name, data)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	switch kind {
	case KindPDF:
		ext := opts.PDF
		if ext == nil {
			ext = pdftext.New(opts.PDFOptions)
			defer ext.Close()
		}
		doc, err = readPDF(ctx, data, ext)
	case KindDOCX:
		doc, err = readDOCX(ctx, data, opts)
	case KindHTML:
		doc, err = readHTML(ctx, data, opts)
	default:
		doc, err = readText(data)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s as %s: %w", name, kind, err)
	}
	doc.Name = name
	doc.Kind = kind
	markFurniture(doc)
	return doc, nil
}

// sniff detects the format of data.
func sniff(name string, data []byte) (Kind, error) {
	head := data
	if len(head) > 4096 {
		head = head[:4096]
	}
	switch {
	case bytes.Contains(head[:min(len(head), 1024)], []byte("%PDF-")):
		return KindPDF, nil
	case bytes.HasPrefix(data, []byte("PK\x03\x04")):
		if bytes.Contains(data, []byte("word/document.xml")) {
			return KindDOCX, nil
		}
		return "", fmt.Errorf("ZIP archive without word/document.xml (not a DOCX): %w", ErrUnsupported)
	case bytes.HasPrefix(data, []byte("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")):
		return "", fmt.Errorf("legacy OLE document (.doc/.wps/.xls); convert it to DOCX or PDF: %w", ErrUnsupported)
	case bytes.HasPrefix(data, []byte("{\\rtf")):
		return "", fmt.Errorf("RTF document; convert it to DOCX or PDF: %w", ErrUnsupported)
	}
	ext := strings.ToLower(path.Ext(name))
	switch ext {
	case ".html", ".htm", ".shtml", ".xhtml", ".jsp", ".asp", ".aspx", ".php":
		return KindHTML, nil
	case ".txt", ".md", ".text":
		return KindText, nil
	case ".pdf", ".docx":
		return "", fmt.Errorf("name says %s but the content is not: %w", ext, ErrMalformed)
	}
	if looksHTML(head) {
		return KindHTML, nil
	}
	if bytes.IndexByte(head, 0) >= 0 && !hasUTF16BOM(data) {
		return "", fmt.Errorf("binary content of unknown format: %w", ErrUnsupported)
	}
	return KindText, nil
}

func looksHTML(head []byte) bool {
	h := bytes.ToLower(bytes.TrimLeft(bytes.TrimPrefix(head, []byte("\xef\xbb\xbf")), " \t\r\n"))
	if !bytes.HasPrefix(h, []byte("<")) {
		return false
	}
	for _, tag := range []string{"<!doctype html", "<html", "<head", "<body", "<meta", "<table", "<div", "<p>", "<p ", "<title"} {
		if bytes.Contains(h, []byte(tag)) {
			return true
		}
	}
	return false
}

// Options configure a Checker.
type Options struct {
	// Extract bounds extraction; its PDF field is ignored (the Checker
	// owns its PDF extractor).
	Extract ExtractOptions
	// PDF configures the Checker's PDF extractor.
	PDF pdftext.Options
}

// Checker extracts, parses and checks reports. It owns a PDF extractor
// whose PDFium pool starts on first need; it is safe for concurrent use and
// must be closed.
type Checker struct {
	opts ExtractOptions
	pdf  *pdftext.Extractor
}

// NewChecker returns a Checker. It does no expensive work.
func NewChecker(opts Options) *Checker {
	pdf := pdftext.New(opts.PDF)
	eo := opts.Extract
	eo.PDF = pdf
	return &Checker{opts: eo, pdf: pdf}
}

// Extract is Extract with the Checker's options and PDF extractor.
func (c *Checker) Extract(ctx context.Context, name string, data []byte) (*Document, error) {
	return Extract(ctx, name, data, c.opts)
}

// Read extracts and parses one document.
func (c *Checker) Read(ctx context.Context, name string, data []byte) (*Report, error) {
	doc, err := c.Extract(ctx, name, data)
	if err != nil {
		return nil, err
	}
	return Parse(doc)
}

// PDF returns the Checker's PDF extractor, for callers that want to share
// it.
func (c *Checker) PDF() *pdftext.Extractor { return c.pdf }

// Close releases the PDF extractor.
func (c *Checker) Close() error {
	if err := c.pdf.Close(); err != nil {
		return fmt.Errorf("close report checker: %w", err)
	}
	return nil
}
