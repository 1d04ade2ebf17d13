package evidence

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gongkai/gongkai/pkg/events/eventstest"
)

func TestPutGetInfo(t *testing.T) {
	srv := eventstest.RunServer(t, "")
	_, js := eventstest.Connect(t, srv.URL)
	ctx := context.Background()
	st, err := Open(ctx, js)
	if err != nil {
		t.Fatal(err)
	}
	body := []byte("<html>政府信息公开</html>")
	sum := sha256.Sum256(body)
	h := hex.EncodeToString(sum[:])
	at := time.Date(2026, 2, 3, 1, 2, 3, 0, time.UTC)
	m := Meta{URL: "http://x.example/", Status: 200, ContentType: "text/html", ETag: `"v1"`, FetchedAt: at}
	fresh, err := st.Put(ctx, h, body, m)
	if err != nil || !fresh {
		t.Fatalf("first put: %v %v", fresh, err)
	}
	if fresh, err := st.Put(ctx, h, body, m); err != nil || fresh {
		t.Fatalf("second put stored again: %v %v", fresh, err)
	}
	b, got, err := st.Get(ctx, h)
	if err != nil || string(b) != string(body) {
		t.Fatalf("get: %v", err)
	}
	if got.URL != m.URL || got.Status != 200 || got.ETag != `"v1"` || !got.FetchedAt.Equal(at) || got.Size != uint64(len(body)) {
		t.Fatalf("meta %+v", got)
	}
	missing := "0000000000000000000000000000000000000000000000000000000000000000"
	if _, _, err := st.Get(ctx, missing); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing: %v", err)
	}
	if _, err := st.Info(ctx, "../etc"); err == nil {
		t.Fatal("a bad digest was looked up")
	}
}

// Text bodies are stored compressed and read back as they were fetched;
// binary bodies and small ones are stored as they are.
func TestCompressedBodies(t *testing.T) {
	srv := eventstest.RunServer(t, "")
	_, js := eventstest.Connect(t, srv.URL)
	ctx := context.Background()
	st, err := Open(ctx, js)
	if err != nil {
		t.Fatal(err)
	}
	page := []byte("<html><body>" + strings.Repeat("<li><a href=\"./t1.html\">政府信息公开工作年度报告</a><span>2026-01-20</span></li>\n", 200) + "</body></html>")
	pdf := append([]byte("%PDF-1.7\n"), bytes.Repeat([]byte{0x8f, 0x13, 0x77}, 2000)...)
	for _, c := range []struct {
		name, ctype string
		body        []byte
		compressed  bool
	}{
		{"html", "text/html; charset=utf-8", page, true},
		{"text", "text/plain; charset=utf-8", append([]byte("正文\n"), page...), true},
		{"pdf", "application/pdf", pdf, false},
		{"small", "text/html", []byte("<html>短</html>"), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			sum := sha256.Sum256(c.body)
			h := hex.EncodeToString(sum[:])
			if _, err := st.Put(ctx, h, c.body, Meta{URL: "http://x.example/" + c.name, ContentType: c.ctype, FetchedAt: time.Now()}); err != nil {
				t.Fatal(err)
			}
			b, m, err := st.Get(ctx, h)
			if err != nil || !bytes.Equal(b, c.body) || m.Size != uint64(len(c.body)) || m.ContentType != c.ctype {
				t.Fatalf("Get: %v, %d bytes, %+v", err, len(b), m)
			}
			info, err := st.obj.GetInfo(ctx, h)
			if err != nil {
				t.Fatal(err)
			}
			if got := info.Headers.Get(headerEncoding) == "gzip"; got != c.compressed || (c.compressed && info.Size*4 > uint64(len(c.body))) {
				t.Fatalf("stored %d of %d bytes, compressed %v", info.Size, len(c.body), got)
			}
		})
	}
}
