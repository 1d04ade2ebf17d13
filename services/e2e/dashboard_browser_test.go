package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// chromium finds Debian's chromium (installed by .ci/run). Outside CI the
// test is skipped when it is missing; in CI it must be there.
func chromium(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("GONGKAI_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"} {
		if p == "" {
			continue
		}
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium not found (.ci/run installs Debian's chromium)")
	}
	t.Skip("chromium not found")
	return ""
}

// The dashboard in a real headless browser, after the demo audit: the
// matrix loads, the state filter works, the agency page shows the timeline,
// and no page logs a console error or throws.
func TestDashboardInBrowser(t *testing.T) {
	exe := chromium(t)
	asOf := time.Date(2026, 2, 3, 9, 0, 0, 0, cst)
	h := newHarness(t, asOf)
	p := h.startWith(func(o *pipelineOptions) { o.DashboardAddr = "127.0.0.1:0" })
	defer p.Stop()
	if _, _, err := p.Ingest().PublishRun(context.Background(), "manual", asOf, nil); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, p, 4, true)
	base := "http://" + p.DashboardAddr()

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1400, 900),
	)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 60*time.Second)
	defer cancel()

	var mu sync.Mutex
	var problems []string
	if err := chromedp.Listen(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError {
				problems = append(problems, "console.error")
			}
		case *runtime.EventExceptionThrown:
			problems = append(problems, "exception: "+ev.ExceptionDetails.Text)
		case *log.EventEntryAdded:
			if ev.Entry.Level == log.EntryLevelError {
				problems = append(problems, "log: "+ev.Entry.Text+" "+ev.Entry.URL)
			}
		}
	}); err != nil {
		t.Fatalf("browser: %v", err)
	}

	step := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("browser: %s: %v", what, err)
		}
	}
	step("open the matrix", chromedp.Do(ctx, chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.ID("matrix"))))
	matrix, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#matrix tbody")))
	step("read the matrix", err)
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	step("screenshot", err)
	step("filter by state", chromedp.Do(ctx,
		chromedp.SetValue(chromedp.ID("f-state"), "overdue"),
		chromedp.Click(chromedp.ID("f-submit")),
		chromedp.WaitReady(chromedp.CSS(`#f-state option[value="overdue"][selected]`)),
	))
	afterFilter, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#matrix tbody")))
	step("read the filtered matrix", err)
	step("open the agency", chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#matrix tbody a")), chromedp.WaitVisible(chromedp.ID("timeline"))))
	agency, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
	step("read the agency page", err)
	for _, name := range []string{"示范市财政局", "示范市教育局", "示范市卫生健康委员会", "示范市人民政府办公室"} {
		if !strings.Contains(matrix, name) {
			t.Errorf("matrix lacks %s:\n%s", name, matrix)
		}
	}
	if !strings.Contains(afterFilter, "示范市卫生健康委员会") || strings.Contains(afterFilter, "示范市财政局") {
		t.Errorf("state filter did not narrow the matrix to the overdue agency:\n%s", afterFilter)
	}
	if !strings.Contains(agency, "示范市卫生健康委员会") || !strings.Contains(agency, "已逾期") {
		t.Errorf("agency page:\n%s", agency)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(problems) > 0 {
		t.Errorf("browser reported errors: %v", problems)
	}
	if os.Getenv("GONGKAI_UPDATE_SCREENSHOT") != "" {
		if err := os.WriteFile(filepath.Join("..", "..", "docs", "dashboard-matrix.png"), shot, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
