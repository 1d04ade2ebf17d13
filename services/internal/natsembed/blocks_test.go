package natsembed

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/gongkai/gongkai/pkg/events"
)

// blocks returns the sizes of the message block files of a stream.
func blocks(t *testing.T, storeDir, stream string) []int64 {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(storeDir, "jetstream", "*", "streams", stream, "msgs", "*.blk"))
	if err != nil {
		t.Fatal(err)
	}
	var sizes []int64
	for _, f := range files {
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, fi.Size())
	}
	return sizes
}

func connect(t *testing.T, s *Server) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	nc, err := nats.Connect(s.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return nc, js
}

// writeSixMiB stores a 6 MiB object in the evidence store and publishes
// 6 MiB of observations on one subject, and checks that all of it is kept:
// the per-subject limit that sets the block size must never discard data.
func writeSixMiB(t *testing.T, ctx context.Context, js jetstream.JetStream, name string) {
	t.Helper()
	obj, err := js.ObjectStore(ctx, events.ObjectStoreEvidence)
	if err != nil {
		t.Fatal(err)
	}
	body := make([]byte, 6<<20)
	_, _ = rand.Read(body) // incompressible
	if _, err := obj.PutBytes(ctx, name, body); err != nil {
		t.Fatal(err)
	}
	if got, err := obj.GetBytes(ctx, name); err != nil || !bytes.Equal(got, body) {
		t.Fatalf("object read back: %d bytes, %v", len(got), err)
	}
	st, err := js.Stream(ctx, events.StreamObservations)
	if err != nil {
		t.Fatal(err)
	}
	before, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 60 {
		if _, err := js.Publish(ctx, events.ObservationSubject("a1"), body[i*100<<10:(i+1)*100<<10]); err != nil {
			t.Fatal(err)
		}
	}
	after, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n := after.State.Msgs - before.State.Msgs; n != 60 {
		t.Fatalf("observations stream kept %d of 60 messages", n)
	}
}

// checkSmallBlocks checks that what writeSixMiB wrote went into blocks of
// at most 4 MiB: with the server's default for these streams (8 MiB blocks)
// it would fit in one.
func checkSmallBlocks(t *testing.T, dir string, atLeast int) {
	t.Helper()
	for _, stream := range []string{"OBJ_" + events.ObjectStoreEvidence, events.StreamObservations} {
		sizes := blocks(t, dir, stream)
		if len(sizes) < atLeast {
			t.Errorf("%s: %d blocks %v, want at least %d (4 MiB each)", stream, len(sizes), sizes, atLeast)
		}
		for _, n := range sizes {
			if n > 4<<20 {
				t.Errorf("%s: a block of %d bytes, want at most 4 MiB", stream, n)
			}
		}
	}
}

// The evidence store and the observations stream are written in 4 MiB
// blocks (events.Topology, smallBlocksPerSubject): the server holds the
// blocks written in the last seconds in memory, in buffers of that size.
func TestEvidenceAndObservationsIn4MiBBlocks(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "js")
	s, err := Start(Options{StoreDir: dir, Port: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown()
	nc, js := connect(t, s)
	defer nc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := events.Provision(ctx, js, events.DefaultTopology()); err != nil {
		t.Fatal(err)
	}
	writeSixMiB(t, ctx, js, "a")
	checkSmallBlocks(t, dir, 2)
}

// A store created before (by the object store client, without the
// per-subject limit) is updated in place, keeps its objects, and writes
// 4 MiB blocks once the server has restarted.
func TestExistingEvidenceStoreGetsSmallBlocksAfterRestart(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "js")
	s, err := Start(Options{StoreDir: dir, Port: -1})
	if err != nil {
		t.Fatal(err)
	}
	nc, js := connect(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	old := events.DefaultTopology().ObjectStores()[0]
	obj, err := js.CreateOrUpdateObjectStore(ctx, old)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := obj.PutString(ctx, "old", "stored before"); err != nil {
		t.Fatal(err)
	}
	if err := events.Provision(ctx, js, events.DefaultTopology()); err != nil {
		t.Fatal(err)
	}
	info, err := js.Stream(ctx, "OBJ_"+events.ObjectStoreEvidence)
	if err != nil {
		t.Fatal(err)
	}
	if got := info.CachedInfo().Config.MaxMsgsPerSubject; got <= 0 {
		t.Fatalf("per-subject limit after provisioning: %d", got)
	}
	nc.Close()
	s.Shutdown()

	s, err = Start(Options{StoreDir: dir, Port: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown()
	nc, js = connect(t, s)
	defer nc.Close()
	if err := events.Provision(ctx, js, events.DefaultTopology()); err != nil {
		t.Fatal(err)
	}
	obj, err = js.ObjectStore(ctx, events.ObjectStoreEvidence)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := obj.GetString(ctx, "old"); err != nil || got != "stored before" {
		t.Fatalf("object stored before: %q, %v", got, err)
	}
	writeSixMiB(t, ctx, js, "new")
	checkSmallBlocks(t, dir, 2)
}
