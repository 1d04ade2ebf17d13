// Package smtptest runs a real SMTP server (github.com/emersion/go-smtp) on
// loopback for tests: it records every message it accepts and can be told to
// refuse deliveries with temporary (4xx) or permanent (5xx) errors, to
// exercise retries.
package smtptest

import (
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// Message is one accepted message.
type Message struct {
	From string
	To   []string
	Data []byte
}

// Server is a running SMTP server.
type Server struct {
	// Addr is host:port of the listener.
	Addr string

	srv *smtp.Server

	mu       sync.Mutex
	messages []Message
	failTemp int  // refuse the next n DATA commands with 451
	failPerm bool // refuse every DATA command with 550
	attempts int
}

// Start starts a server on a random loopback port and closes it when the
// test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	s := &Server{}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &session{s: s}, nil }))
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	srv.MaxMessageBytes = 10 << 20
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("smtptest: listen: %v", err)
	}
	s.Addr = ln.Addr().String()
	s.srv = srv
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return s
}

// URL returns an smtp:// URL for the server, without TLS.
func (s *Server) URL() string { return "smtp://" + s.Addr + "?tls=none" }

// FailTemporarily makes the next n deliveries fail with 451.
func (s *Server) FailTemporarily(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failTemp = n
}

// FailPermanently makes every delivery fail with 550 until called with false.
func (s *Server) FailPermanently(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failPerm = on
}

// Messages returns a copy of the accepted messages.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// Attempts returns the number of DATA commands received, accepted or not.
func (s *Server) Attempts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attempts
}

// WaitFor polls until at least n messages were accepted or timeout passes.
func (s *Server) WaitFor(n int, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if len(s.Messages()) >= n {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return len(s.Messages()) >= n
}

type session struct {
	s    *Server
	from string
	to   []string
}

func (x *session) Reset()        { x.from, x.to = "", nil }
func (x *session) Logout() error { return nil }
func (x *session) Mail(from string, _ *smtp.MailOptions) error {
	x.from = from
	return nil
}
func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	x.to = append(x.to, to)
	return nil
}

func (x *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	x.s.mu.Lock()
	defer x.s.mu.Unlock()
	x.s.attempts++
	if x.s.failPerm {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "mailbox unavailable"}
	}
	if x.s.failTemp > 0 {
		x.s.failTemp--
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
	}
	if x.from == "" || len(x.to) == 0 {
		return errors.New("smtptest: DATA without MAIL FROM and RCPT TO")
	}
	x.s.messages = append(x.s.messages, Message{From: x.from, To: append([]string(nil), x.to...), Data: b})
	return nil
}
