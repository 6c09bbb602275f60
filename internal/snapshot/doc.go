// Package snapshot reads and writes stream backups in nats-server's
// snapshot format, the archive that $JS.API.STREAM.SNAPSHOT streams out
// and $JS.API.STREAM.RESTORE takes back (natscli keeps it as
// stream.tar.s2). It is pure format code: it works on io.Reader and
// io.Writer and knows nothing of stores, consumers or the network.
//
// # Archive
//
// An S2 stream (github.com/klauspost/compress/s2, framed) around a tar
// archive of regular files, in this order:
//
//	meta.inf             the stream's configuration as JSON, plus "Created"
//	meta.sum             hex highwayhash-64 of meta.inf, keyed by sha256(stream name)
//	msgs/<n>.blk         message blocks, n = 1, 2, … in sequence order
//	msgs/<n>.idx         (nats-server 2.9 only) per-block index with deletes
//	msgs/index.db        (nats-server 2.10 and later) the stream's index with
//	                     every block's first sequence and deleted sequences
//	obs/<name>/meta.inf  a consumer's configuration as JSON, plus "Created", "Name"
//	obs/<name>/meta.sum  hex highwayhash-64 of it, keyed by sha256(stream/consumer)
//	obs/<name>/o.dat     the consumer's delivery state (consumer.go)
//
// # Message blocks
//
// A block is a run of records; integers are little endian:
//
//	offset  size  field
//	0       4     record length, whole record; bit 31 set when a header is present
//	4       8     sequence; bit 63 set: erased, bit 62 set: tombstone
//	12      8     time, unix nanoseconds
//	20      2     subject length
//	22      …     subject, [header length u32, header], payload
//	len-8   8     highwayhash-64 of bytes 4..20, subject, header and payload,
//	              keyed by sha256("<stream>-<block number>")
//
// An erased record keeps its sequence as used but holds no message; a
// tombstone records that the message at its sequence (usually in an
// earlier block) was deleted. Sequences missing between records were
// deleted too. Blocks in archives are never compressed or encrypted:
// nats-server decrypts and decompresses them when it snapshots. A block
// that starts with nats-server's compression marker is refused.
//
// What is deleted is the union of: erased records, tombstones, sequences
// below a block's first sequence and in its delete map (index.db or the
// 2.9 .idx files), and gaps. Readers apply all of them; Starling's writer
// leaves deleted messages out (gaps) and ends the last block with an
// erased record when the stream's last sequence holds no message, so the
// archive needs no index file and nats-server rebuilds its own from the
// blocks.
//
// Every decoder here is bounded: record, metadata and index sizes are
// checked before anything is allocated, and the set of deleted sequences
// has a cap (Limits), so a damaged or hostile archive gives an error,
// never a crash or an unbounded allocation.
package snapshot
