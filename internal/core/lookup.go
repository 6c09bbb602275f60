package core

// Connection describes the open client connection cid, if there is one
// (JetStream names the requester in its API audit events).
func (s *Server) Connection(cid uint64) (ConnInfo, bool) {
	s.mu.Lock()
	c := s.clients[cid]
	s.mu.Unlock()
	if c == nil {
		return ConnInfo{}, false
	}
	return c.info(false), true
}
