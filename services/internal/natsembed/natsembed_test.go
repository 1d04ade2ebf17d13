package natsembed

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"
)

func TestStartAndConnect(t *testing.T) {
	s, err := Start(Options{StoreDir: filepath.Join(t.TempDir(), "js"), Port: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown()
	if !strings.HasPrefix(s.ClientURL(), "nats://127.0.0.1:") {
		t.Fatalf("listens on %s, want loopback", s.ClientURL())
	}
	nc, err := nats.Connect(s.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := nc.JetStream()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.AccountInfo(); err != nil {
		t.Fatalf("JetStream not available: %v", err)
	}
}

func TestStoreDirMustBeWritable(t *testing.T) {
	if _, err := Start(Options{Port: -1}); err == nil {
		t.Fatal("started without a store directory")
	}
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Start(Options{StoreDir: filepath.Join(file, "js"), Port: -1}); err == nil {
		t.Fatal("started with a store directory under a regular file")
	}
}
