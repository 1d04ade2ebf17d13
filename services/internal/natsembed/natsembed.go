// Package natsembed runs the NATS server with JetStream inside the gongkai
// process, for the single-machine deployment.
package natsembed

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Options configures the embedded server.
type Options struct {
	// StoreDir is where JetStream keeps its file store. Required.
	StoreDir string
	// Host is the client listen address; default 127.0.0.1 so that only
	// local tools (the nats CLI) can connect.
	Host string
	// Port is the client port; 0 means the NATS default 4222, -1 a random
	// free port.
	Port int
	// MaxStore caps JetStream file storage in bytes; 0 lets the server pick.
	MaxStore int64
	// ReadyTimeout bounds the wait for the server to accept connections
	// and for JetStream to start; default 30 s.
	ReadyTimeout time.Duration
	// Logger receives the server's warnings and errors; nil discards them.
	Logger *slog.Logger
}

// Server is a running embedded NATS server.
type Server struct {
	srv *server.Server
}

// Start starts the server and waits until it accepts connections with
// JetStream enabled. A JetStream start failure (a store directory that cannot
// be written, for example) is otherwise silent in nats-server, so it is
// checked explicitly.
func Start(o Options) (*Server, error) {
	if o.StoreDir == "" {
		return nil, errors.New("embedded nats: store directory is required")
	}
	if err := os.MkdirAll(o.StoreDir, 0o750); err != nil {
		return nil, fmt.Errorf("embedded nats: create store directory: %w", err)
	}
	if o.Host == "" {
		o.Host = "127.0.0.1"
	}
	if o.Port == 0 {
		o.Port = 4222
	}
	if o.ReadyTimeout == 0 {
		o.ReadyTimeout = 30 * time.Second
	}
	abs, err := filepath.Abs(o.StoreDir)
	if err != nil {
		return nil, fmt.Errorf("embedded nats: %w", err)
	}
	opts := &server.Options{
		ServerName:         "gongkai-embedded",
		Host:               o.Host,
		Port:               o.Port,
		JetStream:          true,
		StoreDir:           abs,
		JetStreamMaxStore:  o.MaxStore,
		NoSigs:             true, // only main handles signals; services must drain first
		NoLog:              o.Logger == nil,
		MaxPayload:         8 << 20,
		JetStreamMaxMemory: 256 << 20,
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("embedded nats: %w", err)
	}
	if o.Logger != nil {
		srv.SetLoggerV2(&logAdapter{l: o.Logger}, false, false, false)
	}
	srv.Start()
	if !srv.ReadyForConnections(o.ReadyTimeout) {
		srv.Shutdown()
		return nil, fmt.Errorf("embedded nats: not ready for connections on %s within %v (is the port in use?)",
			net.JoinHostPort(o.Host, strconv.Itoa(o.Port)), o.ReadyTimeout)
	}
	if !srv.JetStreamEnabled() {
		srv.Shutdown()
		return nil, fmt.Errorf("embedded nats: JetStream did not start (store directory %s)", abs)
	}
	return &Server{srv: srv}, nil
}

// ClientURL returns the URL clients connect to.
func (s *Server) ClientURL() string { return s.srv.ClientURL() }

// Shutdown stops the server and waits for it to finish; call it after every
// client connection has drained.
func (s *Server) Shutdown() {
	s.srv.Shutdown()
	s.srv.WaitForShutdown()
}

type logAdapter struct{ l *slog.Logger }

func (a *logAdapter) Noticef(string, ...any) {}
func (a *logAdapter) Debugf(string, ...any)  {}
func (a *logAdapter) Tracef(string, ...any)  {}
func (a *logAdapter) Warnf(format string, v ...any) {
	a.l.Warn("nats server", "msg", fmt.Sprintf(format, v...))
}
func (a *logAdapter) Errorf(format string, v ...any) {
	a.l.Error("nats server", "msg", fmt.Sprintf(format, v...))
}
func (a *logAdapter) Fatalf(format string, v ...any) {
	a.l.Error("nats server fatal", "msg", fmt.Sprintf(format, v...))
}
