package snapshot

import (
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"strconv"

	"github.com/minio/highwayhash"
)

// nats-server checksums its files with highwayhash-64, each kind with a
// key derived from names, so a block or file copied under another stream
// fails its check.

// newHash returns a highwayhash-64 keyed by sha256(key).
func newHash(key string) hash.Hash64 {
	k := sha256.Sum256([]byte(key))
	h, err := highwayhash.New64(k[:])
	if err != nil {
		// Only a key of the wrong length fails, and sha256 is 32 bytes.
		panic(err)
	}
	return h
}

// blockHash checks the records of block n of stream.
func blockHash(stream string, n uint32) hash.Hash64 {
	return newHash(stream + "-" + strconv.FormatUint(uint64(n), 10))
}

// streamHash checks the stream's meta.inf and msgs/index.db.
func streamHash(stream string) hash.Hash64 { return newHash(stream) }

// consumerHash checks a consumer's meta.inf.
func consumerHash(stream, consumer string) hash.Hash64 { return newHash(stream + "/" + consumer) }

// metaSum is the content of a meta.sum file: the hex checksum of meta.
func metaSum(h hash.Hash64, meta []byte) []byte {
	h.Reset()
	h.Write(meta)
	return []byte(hex.EncodeToString(h.Sum(nil)))
}
