// Package raftnet carries Raft messages between the servers of a cluster.
//
// It knows nothing of the server: it works on net.Conn values. Outbound
// connections come from a dial function the caller supplies (which dials
// the peer's cluster port and does that port's handshake, TLS and
// authorization); inbound ones are accepted by the caller and handed to
// Serve, or to ServeAs with the server the handshake authenticated, which
// the hello must then name. The core server's DialRaft and Raft handler
// fit these two without glue beyond a closure. So Raft traffic reuses the cluster's security without sharing the
// routes' queues: a route held up by a slow consumer never delays a
// heartbeat.
//
// # Addressing
//
// A server has one raft node id, the same in every group it is a member of.
// A message goes to the peer named by its To; its group travels beside it
// in an Envelope, since an etcd raft message has no group field. Messages
// to this node itself are not the transport's business (the raft loop steps
// them directly); messages to no known peer are counted as unroutable.
//
// # Connections
//
// Each server dials one connection to each peer and only writes on it; the
// peer's messages come back on the connection it dialled. One direction per
// connection keeps each side's writer the only user of its socket and lets
// a reader block on reads alone. The first frame names the sender (server
// id, node id) and the protocol version; a receiver refuses another
// version, a refused hello (Options.Accept), and any message whose From is
// not the node of the hello.
//
// # Wire format
//
// Every frame is a 9-byte header (body length, CRC-32C of kind and body,
// kind) and a body: a hello, a batch, or an empty keepalive. A batch is a
// count and, per message, its group and length as uvarints, a form byte
// and its encoding: a hand-written fast form for every message but those
// with a Snapshot or Responses, which keep their protobuf encoding
// (codec.go). The fast form keeps each field's presence exactly, and its
// decoding takes an allocation per 32 messages, two per message with
// entries, and one copy of the body shared by every message's byte fields,
// where protobuf took one per field. Version 2 of the protocol brought the fast form;
// servers of versions 1 and 2 refuse each other at the hello. Lengths are checked against Options.MaxFrameSize
// before any buffer is sized; a bad frame ends the connection, as the
// stream cannot be resynchronised. A sender cannot learn the receiver's
// limit (nothing flows back), so every server of a cluster must run with
// the same MaxFrameSize. FuzzFrame and FuzzBatch hold the decoder to
// errors, never panics, and to exact round trips.
//
// # Decoding budget
//
// Decoding a batch allocates per message and per entry, so a peer past
// the cluster's authentication could make a few bytes cost much heap (one
// byte per empty entry made 120, some 2 GB for a 16 MiB frame). A batch
// of L body bytes may hold M messages and E entries (P in the protobuf
// form) only when 8M + 3E + 6P <= L + 64, and no Responses (budget.go).
// Raft's own traffic always fits: its messages name Type, To and From,
// its log entries have a Term and an Index (3 bytes at least), its
// ReadIndex entries carry 16 bytes, and Responses never leave a node.
// AppendBatch holds its batches to the same rule and drops a message that
// breaks it alone (ErrUnsendable), so a sender is never refused. The heap
// a hostile batch can make the decoder allocate is then about 41 bytes per
// body byte (TestDecodeBudget measures 41.0 for one-byte entries: 120
// bytes per entry over 3 units, and one copy of the body; 39.0 for
// 8-byte empty messages; 23.6 for empty protobuf-form entries), some
// 700 MB for a 16 MiB frame, where it was 120 to 126.
//
// Decoded byte fields share one copy of the batch body, so an entry kept
// after its batch (a log cache) pins the whole body. Not measured yet; a
// copy of small Data out of a large body is the candidate.
//
// # Queues and drops
//
// Send never blocks: the raft loop must keep ticking. Each peer has a queue
// bounded in messages and in bytes; a message that does not fit, or that
// is sent while the peer is not connected, is dropped and counted, and Raft
// retransmits. Messages queued when a connection fails are dropped rather
// than kept for the next one, where they would be stale. Two callbacks feed
// the raft loop what etcd raft wants to hear: Unreachable when a dial or a
// connection fails, and SnapshotStatus for every MsgSnap, since a leader
// sends a follower nothing more after a snapshot until it is told the
// snapshot's fate.
//
// A snapshot travels as one message in one frame, so MaxFrameSize bounds
// the size of a snapshot; a larger one is dropped and reported failed.
//
// # Writers and readers
//
// A peer's writer goroutine takes everything queued at once and writes it
// as one frame (more only when it exceeds MaxFrameSize), each write under
// a write deadline; so a busy peer gets large batches and an idle one
// small, prompt frames. When it has written nothing for a while it writes
// a keepalive, which refreshes the reader's deadline at the other end: a
// silent connection is a dead one. A failed dial or connection is retried
// after a backoff that doubles up to a bound, with jitter.
//
// A reader goroutine per inbound connection decodes frames under a read
// deadline and hands each batch to the handler, in order. The handler runs
// on that goroutine and should only queue.
//
// # Locks
//
// Transport.mu (the peer map, the inbound set) is taken before a peer's mu
// (its queue and connection) or an inbound connection's mu (its hello);
// none is held across I/O or a callback.
// Close and RemovePeer stop writers by closing their connections and
// cancelling their dials, then wait for every goroutine they started.
package raftnet
