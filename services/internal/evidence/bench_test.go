package evidence

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/gongkai/gongkai/pkg/events/eventstest"
)

// BenchmarkRetainedObjects measures what keeping evidence costs in memory:
// the live heap of an embedded NATS server holding 100,000 small evidence
// objects (the server's per-subject indexes: every object has a metadata
// subject and a chunk subject), once the blocks written have left the
// server's cache, and again after the server restarts on the same store.
// The process holds nothing else of size.
//
//	go test ./internal/evidence/ -run '^$' -bench RetainedObjects -benchtime 1x
func BenchmarkRetainedObjects(b *testing.B) {
	const n = 100_000
	for range b.N {
		dir := b.TempDir()
		srv := eventstest.RunServer(b, dir)
		nc, js := eventstest.Connect(b, srv.URL)
		ctx := context.Background()
		st, err := Open(ctx, js)
		if err != nil {
			b.Fatal(err)
		}
		before := liveHeap()
		for i := range n {
			body := fmt.Appendf(nil, "<html><body>page %d of agency %d</body></html>", i, i%1000)
			sum := sha256.Sum256(body)
			m := Meta{URL: fmt.Sprintf("http://agency%d.example.gov.cn/col/%d/index_%d.html", i%1000, i%13, i),
				Status: 200, ContentType: "text/html", FetchedAt: time.Now()}
			if _, err := st.Put(ctx, hex.EncodeToString(sum[:]), body, m); err != nil {
				b.Fatal(err)
			}
		}
		time.Sleep(12 * time.Second) // the server's block cache expires after ~10 s
		running := liveHeap()
		nc.Close()
		srv.Shutdown()
		srv.WaitForShutdown()
		down := liveHeap()
		srv = eventstest.RunServer(b, dir)
		_, js = eventstest.Connect(b, srv.URL)
		if _, err := Open(ctx, js); err != nil {
			b.Fatal(err)
		}
		restarted := liveHeap()
		b.ReportMetric(float64(running-before)/n, "live-bytes/object")
		b.ReportMetric(float64(restarted-down)/n, "after-restart-live-bytes/object")
		b.ReportMetric(float64(running-before)/(1<<20), "live-MiB")
	}
}

// liveHeap is the heap in use after a full collection.
func liveHeap() int64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}
