package chaos

import (
	"math/rand/v2"
	"path/filepath"
	"strings"
)

// Disk damage on one member of a JetStream cluster: the files a Starling
// server keeps for a replicated stream, damaged while the server is down,
// so that the next start must find the damage. Only a minority is ever
// damaged: what a majority synced is what the cluster promises to keep.

// RaftLogDir is where a Starling server keeps its Raft log (the write-
// ahead log shared by the meta group and every stream's group).
func RaftLogDir(store string) string {
	return filepath.Join(store, "jetstream", "$SYS", "_js_")
}

// StreamDir is where a Starling server keeps a stream's store.
func StreamDir(store, account, stream string) string {
	return filepath.Join(store, "jetstream", account, "streams", stream)
}

// DiskDamage is one way to damage a stopped member's files.
type DiskDamage struct {
	Name string
	// Apply damages the store directory store; stream names the stream
	// whose store files are fair game.
	Apply func(store, stream string, rng *rand.Rand) ([]Damage, error)
}

// flips is how many bits one flip damage changes: a few, so that some
// land in records and not only in the slack a segment may end with.
const flips = 8

// isSegment keeps a stream store's log segments: its side files
// (meta, highwater, ...) have their own tests and a damaged meta file is
// meant to keep the stream from loading at all.
func isSegment(p string) bool { return strings.HasSuffix(p, ".seg") }

// DiskDamages lists the damages of the corruption scenarios, in a fixed
// order.
var DiskDamages = []DiskDamage{
	{"flip-raftlog", func(store, _ string, rng *rand.Rand) ([]Damage, error) {
		return FlipBits(RaftLogDir(store), flips, rng, nil)
	}},
	{"cut-raftlog", func(store, _ string, rng *rand.Rand) ([]Damage, error) {
		d, err := Truncate(RaftLogDir(store), rng, nil)
		return []Damage{d}, err
	}},
	{"flip-store", func(store, stream string, rng *rand.Rand) ([]Damage, error) {
		return FlipBits(StreamDir(store, "$G", stream), flips, rng, isSegment)
	}},
	{"cut-store", func(store, stream string, rng *rand.Rand) ([]Damage, error) {
		d, err := Truncate(StreamDir(store, "$G", stream), rng, isSegment)
		return []Damage{d}, err
	}},
}

// DamageMember kills server i, applies d to its store and starts it
// again: a member whose disk went bad under it. It returns what was
// changed, for the log and for a replay to compare.
func (c *Cluster) DamageMember(i int, d DiskDamage, stream string, rng *rand.Rand) []Damage {
	c.t.Helper()
	store := c.specs[i].StoreDir
	if store == "" {
		c.t.Fatalf("server %d has no store", i)
	}
	c.Kill(i)
	done, err := d.Apply(store, stream, rng)
	if err != nil {
		c.t.Fatalf("server %d: %s: %v", i, d.Name, err)
	}
	for _, x := range done {
		rel, _ := filepath.Rel(store, x.Path)
		x.Path = rel
		c.t.Logf("server %d: %s", i, x)
	}
	c.start(i)
	return done
}
