package jetstream

// hostedConsumers counts the consumers of stream ent this server holds,
// as nats-server counts them per server in /jsz: a consumer of more than
// one replica on every member of the stream's group, one of a single
// replica only where it runs (here, the group's leader), and every
// consumer of a stream that is not replicated. replicated is how many of
// them have more than one replica (nats-server's HA assets).
func (ent *entry) hostedConsumers(streamReplicas int) (hosted, replicated int) {
	rep := ent.rep
	if rep == nil {
		return ent.numConsumers(), 0
	}
	leading := rep.leading.Load()
	rep.repMu.Lock()
	defer rep.repMu.Unlock()
	for _, cr := range rep.replicas {
		switch {
		case effectiveReplicas(cr.cfg.Replicas, streamReplicas) > 1:
			hosted++
			replicated++
		case leading:
			hosted++
		}
	}
	return hosted, replicated
}

// effectiveReplicas is a consumer's replica count: 0 inherits the
// stream's.
func effectiveReplicas(consumer, stream int) int {
	if consumer > 0 {
		return consumer
	}
	return stream
}
