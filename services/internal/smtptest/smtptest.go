// Package smtptest runs a real SMTP server (github.com/emersion/go-smtp) on
// loopback for tests: it records every message it accepts and can be told to
// refuse deliveries with temporary (4xx) or permanent (5xx) errors, to
// require STARTTLS and authentication, and to hold a delivery in a hook
// (to stop a client in the middle of a batch), so that retries, restarts
// and exactly-once delivery are exercised against the real protocol.
package smtptest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Message is one accepted message.
type Message struct {
	From string
	To   []string
	Data []byte
	// At is when the server accepted the message (before its reply was
	// written).
	At time.Time
}

// Hook is called for every DATA command after the body is read and before
// the server decides, outside the server's lock: it may block (to hold a
// client in the middle of a batch) and may return an error to refuse the
// message (an *smtp.SMTPError chooses the reply code). n counts DATA
// commands from 1.
type Hook func(n int, m Message) error

// Option configures a server.
type Option func(*config)

type config struct {
	tls        bool
	user, pass string
	noBodies   bool
}

// WithSTARTTLS offers STARTTLS with a fresh self-signed certificate for
// 127.0.0.1 and localhost; ClientTLSConfig returns a client configuration
// that trusts it.
func WithSTARTTLS() Option { return func(c *config) { c.tls = true } }

// WithoutBodies keeps only the envelope (From, To, At) of each message, for
// benchmarks that send thousands and should not measure the test server's
// memory.
func WithoutBodies() Option { return func(c *config) { c.noBodies = true } }

// WithAuth requires AUTH PLAIN with the given credentials before MAIL.
func WithAuth(user, pass string) Option { return func(c *config) { c.user, c.pass = user, pass } }

// Server is a running SMTP server.
type Server struct {
	// Addr is host:port of the listener.
	Addr string

	srv       *smtp.Server
	cfg       config
	clientTLS *tls.Config

	mu       sync.Mutex
	messages []Message
	failTemp int  // refuse the next n DATA commands with 451
	failPerm bool // refuse every DATA command with 550
	failRcpt map[string]int
	attempts int
	hook     Hook
	auths    int
	tlsConns int
}

// Start starts a server on a random loopback port and closes it when the
// test ends.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := &Server{failRcpt: map[string]int{}}
	for _, o := range opts {
		o(&s.cfg)
	}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		if _, ok := c.TLSConnectionState(); ok {
			s.mu.Lock()
			s.tlsConns++
			s.mu.Unlock()
		}
		return &session{s: s}, nil
	}))
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = s.cfg.user != "" && !s.cfg.tls
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	srv.MaxMessageBytes = 10 << 20
	srv.MaxRecipients = 100
	if s.cfg.tls {
		server, client, err := selfSigned()
		if err != nil {
			t.Fatalf("smtptest: certificate: %v", err)
		}
		srv.TLSConfig, s.clientTLS = server, client
	}
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

// URL returns an smtp:// URL for the server: without TLS, or with
// mandatory STARTTLS and the credentials when the server was started with
// WithSTARTTLS and WithAuth.
func (s *Server) URL() string {
	u := "smtp://"
	if s.cfg.user != "" {
		u += s.cfg.user + ":" + s.cfg.pass + "@"
	}
	u += s.Addr
	if s.cfg.tls {
		return u + "?tls=mandatory"
	}
	return u + "?tls=none"
}

// ClientTLSConfig returns a TLS client configuration that trusts the
// server's certificate, or nil without WithSTARTTLS.
func (s *Server) ClientTLSConfig() *tls.Config {
	if s.clientTLS == nil {
		return nil
	}
	return s.clientTLS.Clone()
}

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

// FailRecipient makes RCPT TO addr fail with code (for example 550 or
// 450); code 0 accepts it again.
func (s *Server) FailRecipient(addr string, code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if code == 0 {
		delete(s.failRcpt, strings.ToLower(addr))
		return
	}
	s.failRcpt[strings.ToLower(addr)] = code
}

// SetHook installs h (nil removes it).
func (s *Server) SetHook(h Hook) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hook = h
}

// Messages returns a copy of the accepted messages.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// Count returns the number of accepted messages.
func (s *Server) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.messages)
}

// Attempts returns the number of DATA commands received, accepted or not.
func (s *Server) Attempts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attempts
}

// Authentications returns the number of successful AUTH commands.
func (s *Server) Authentications() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.auths
}

// TLSSessions returns the number of sessions that ran over TLS (after
// STARTTLS).
func (s *Server) TLSSessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tlsConns
}

// WaitFor polls until at least n messages were accepted or timeout passes.
func (s *Server) WaitFor(n int, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if s.Count() >= n {
			return true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return s.Count() >= n
}

type session struct {
	s      *Server
	authed bool
	from   string
	to     []string
}

func (x *session) Reset()        { x.from, x.to = "", nil }
func (x *session) Logout() error { return nil }

func (x *session) AuthMechanisms() []string {
	if x.s.cfg.user == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (x *session) Auth(mech string) (sasl.Server, error) {
	if mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != x.s.cfg.user || pass != x.s.cfg.pass {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "authentication failed"}
		}
		x.authed = true
		x.s.mu.Lock()
		x.s.auths++
		x.s.mu.Unlock()
		return nil
	}), nil
}

func (x *session) Mail(from string, _ *smtp.MailOptions) error {
	if x.s.cfg.user != "" && !x.authed {
		return smtp.ErrAuthRequired
	}
	x.from = from
	return nil
}

func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	x.s.mu.Lock()
	code := x.s.failRcpt[strings.ToLower(to)]
	x.s.mu.Unlock()
	if code != 0 {
		return &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCode{code / 100, 1, 1}, Message: "recipient refused"}
	}
	x.to = append(x.to, to)
	return nil
}

func (x *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m := Message{From: x.from, To: append([]string(nil), x.to...), Data: b}
	x.s.mu.Lock()
	x.s.attempts++
	n, hook := x.s.attempts, x.s.hook
	x.s.mu.Unlock()
	if hook != nil {
		if err := hook(n, m); err != nil {
			return err
		}
	}
	x.s.mu.Lock()
	defer x.s.mu.Unlock()
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
	m.At = time.Now()
	if x.s.cfg.noBodies {
		m.Data = nil
	}
	x.s.messages = append(x.s.messages, m)
	return nil
}

// selfSigned returns a server TLS configuration with a new self-signed
// certificate for 127.0.0.1 and localhost, and a client configuration that
// trusts it.
func selfSigned() (server, client *tls.Config, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "smtptest"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		IsCA:         true,

		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, fmt.Errorf("certificate: %w", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	server = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}}, MinVersion: tls.VersionTLS12}
	client = &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
	return server, client, nil
}
