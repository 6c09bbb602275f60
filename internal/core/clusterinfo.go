package core

// ClusterName is the name this server's routes announce: the configured
// one, or the generated one the cluster agreed on; "" without clustering.
func (s *Server) ClusterName() string { return s.clusterName() }
