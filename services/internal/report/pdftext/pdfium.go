package pdftext

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/klippa-app/go-pdfium"
	"github.com/klippa-app/go-pdfium/requests"
	"github.com/klippa-app/go-pdfium/webassembly"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
)

// pdfiumSource reads pages with PDFium (WebAssembly, run by wazero).
type pdfiumSource struct {
	e        *Extractor
	maxPages int
}

func (pdfiumSource) name() Backend { return PDFium }

// pdfiumPool returns the pool, creating it on first use. A failed start is
// remembered and returned again, without retrying.
func (e *Extractor) pdfiumPool() (pdfium.Pool, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, ErrClosed
	}
	if e.pool != nil || e.poolErr != nil {
		return e.pool, e.poolErr
	}
	rc := wazero.NewRuntimeConfig().
		// The bundled module lowers setjmp/longjmp to exception handling.
		WithCoreFeatures(api.CoreFeaturesV2 | experimental.CoreFeaturesExceptionHandling).
		// Lets Kill interrupt a running call when a deadline passes, at the
		// price of checks compiled into every loop (about 4× slower).
		WithCloseOnContextDone(!e.opts.PDFiumUninterruptible).
		WithMemoryLimitPages(uint32(e.opts.PDFiumMemoryLimitMB) * 16) // 64 KiB pages
	if e.opts.CacheDir != "" {
		cc, err := wazero.NewCompilationCacheWithDir(e.opts.CacheDir)
		if err == nil {
			e.cache = cc
			rc = rc.WithCompilationCache(cc)
		}
		// A cache that cannot be opened only costs time; go on without.
	}
	pool, err := webassembly.Init(webassembly.Config{
		MinIdle:  0,
		MaxIdle:  1,
		MaxTotal: 1,
		// Keep the instance between documents: instantiating the module
		// and initialising PDFium costs ~100 ms and 20 MB of garbage per
		// document otherwise. Its linear memory stays allocated (bounded by
		// PDFiumMemoryLimitMB).
		ReuseWorkers:  true,
		RuntimeConfig: rc,
		// Documents are passed as bytes: mount nothing (the default
		// mounts the host's root directory into the sandbox).
		FSConfig: wazero.NewFSConfig(),
		Stdout:   io.Discard,
		Stderr:   io.Discard,
	})
	if err != nil {
		e.poolErr = fmt.Errorf("start PDFium: %w", err)
		return nil, e.poolErr
	}
	e.pool = pool
	return pool, nil
}

func (s pdfiumSource) pages(ctx context.Context, data []byte, want []int) (out map[int]pageOut, n int, err error) {
	pool, err := s.e.pdfiumPool()
	if err != nil {
		return nil, 0, err
	}
	getCtx := ctx
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		getCtx, cancel = context.WithTimeout(ctx, instanceTimeout)
		defer cancel()
	}
	inst, err := pool.GetInstanceWithContext(getCtx)
	if err != nil {
		return nil, 0, fmt.Errorf("get PDFium instance: %w", err)
	}
	// Kill the instance if ctx ends while PDFium works; otherwise return it.
	var (
		wg     sync.WaitGroup
		killed bool
	)
	done := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		select {
		case <-ctx.Done():
			killed = true
			_ = inst.Kill()
		case <-done:
		}
	}()
	defer func() {
		close(done)
		wg.Wait()
		if !killed {
			_ = inst.Close()
		}
		if x := recover(); x != nil {
			out, n, err = nil, 0, fmt.Errorf("PDFium panic: %v", x)
		}
		if killed && err == nil {
			out, n, err = nil, 0, ctx.Err()
		}
	}()

	doc, err := inst.OpenDocument(&requests.OpenDocument{File: &data})
	if err != nil {
		return nil, 0, fmt.Errorf("open: %w", err)
	}
	defer func() {
		if !killed {
			_, _ = inst.FPDF_CloseDocument(&requests.FPDF_CloseDocument{Document: doc.Document})
		}
	}()
	cnt, err := inst.FPDF_GetPageCount(&requests.FPDF_GetPageCount{Document: doc.Document})
	if err != nil {
		return nil, 0, fmt.Errorf("page count: %w", err)
	}
	n = cnt.PageCount
	if want == nil {
		for p := 1; p <= min(n, s.maxPages); p++ {
			want = append(want, p)
		}
	}
	out = make(map[int]pageOut, len(want))
	for _, p := range want {
		if err := ctx.Err(); err != nil {
			return nil, 0, err
		}
		if p < 1 || p > n {
			continue
		}
		t, err := inst.GetPageText(&requests.GetPageText{Page: requests.Page{
			ByIndex: &requests.PageByIndex{Document: doc.Document, Index: p - 1},
		}})
		if err != nil {
			if errors.Is(ctx.Err(), context.Canceled) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return nil, 0, ctx.Err()
			}
			out[p] = pageOut{problem: err.Error()}
			continue
		}
		out[p] = pageOut{text: strings.ReplaceAll(t.Text, "\r\n", "\n")}
	}
	return out, n, nil
}
