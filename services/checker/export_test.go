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

// LimitPending bounds s's asynchronous publishes in flight to n (the
// client library's default is 4,000), so that a test can make the lanes
// wait for answers. Call it before Run.
func LimitPending(s *Service, n int) {
	if err := s.publishers(n); err != nil {
		panic(err)
	}
}
