package evidence

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
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
