package checker

import "github.com/nats-io/nats.go/jetstream"

// WrapBucket makes s reach its obligations bucket through wrap, so that a
// test can inject faults the server does not produce on demand (a write
// that is stored but whose reply is lost). Call it before Run.
func WrapBucket(s *Service, wrap func(jetstream.KeyValue) jetstream.KeyValue) { s.wrapKV = wrap }

// Unsent returns the number of findings waiting for the resender.
func (s *Service) Unsent() int {
	s.unsentMu.Lock()
	defer s.unsentMu.Unlock()
	return len(s.unsent)
}
