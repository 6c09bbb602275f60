package jetstream

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/starling-mq/starling/internal/jscluster"
	"github.com/starling-mq/starling/internal/vfs"
)

// Raft log records as the tests below damage them: a header of length
// (4 bytes, the record's size less 4), kind (1), group (8) and the
// header's checksum (4); a segment's first record is its header.
const (
	recordHead      = 17
	segHeaderRecord = 34
)

// newestSegment is the newest segment file of a stopped server's Raft log
// (named by their hex sequence: the newest sorts last).
func newestSegment(t *testing.T, fsys *vfs.MemFS) string {
	t.Helper()
	dir := metaDir(powerStore)
	ents, err := fsys.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var last string
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".log") {
			last = filepath.Join(dir, e.Name())
		}
	}
	if last == "" {
		t.Fatalf("no segment in %s", dir)
	}
	return last
}

// flipAt flips a bit of the byte at off, where picks it from the file.
func flipAt(t *testing.T, fsys *vfs.MemFS, path string, where func(b []byte) int) {
	t.Helper()
	b, err := vfs.ReadFile(fsys, path)
	if err != nil {
		t.Fatal(err)
	}
	off := where(b)
	if off < 0 || off >= len(b) {
		t.Fatalf("nothing to damage in %s (%d bytes)", path, len(b))
	}
	f, err := fsys.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt([]byte{b[off] ^ 0x10}, int64(off)); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
}

// rejoinDamages are the refusals of the meta group's log that make a
// server rejoin: the whole log (a record header fails its checksum in
// the newest segment, so nothing after it can be framed), or a record
// of the meta group alone (its body fails its checksum).
var rejoinDamages = []struct {
	name  string
	where func(b []byte) int
}{
	{"whole log", func([]byte) int { return segHeaderRecord + 1 }},
	{"meta group record", func(b []byte) int {
		for off := segHeaderRecord; off+recordHead <= len(b); {
			size := int(binary.LittleEndian.Uint32(b[off:])) + 4
			if binary.LittleEndian.Uint64(b[off+5:]) == 1 {
				return off + recordHead
			}
			if size < recordHead {
				break
			}
			off += size
		}
		return -1
	}},
}

// TestClusterRejoinRefusedLog: a member whose meta group log is refused
// rejoins from its peers with no operator: refused at start as a whole (a
// damaged record header: neither its meta group nor its streams' groups
// can be read, the log is moved aside) or for the meta group alone, or
// stopped while running (as when the leader's heartbeat shows the log
// lost acknowledged entries). It is taken out of the meta group and the
// stream's group, added back empty, and ends as a current replica
// holding every acknowledged message; the others never stop taking
// publishes.
func TestClusterRejoinRefusedLog(t *testing.T) {
	for _, d := range rejoinDamages {
		t.Run(d.name, func(t *testing.T) { testRejoin(t, d.where, d.name == "whole log") })
	}
	t.Run("meta group stopped while running", func(t *testing.T) { testRejoin(t, nil, false) })
}

// testRejoin damages a member that does not lead the stream: with where,
// a byte of its newest segment while it is down; without, its meta group
// is dropped while it runs.
func testRejoin(t *testing.T, where func([]byte) int, whole bool) {
	ports, nodes, fss, _, js := startCompacting(t)
	ctx := context.Background()
	st, _ := streamWithConsumer(t, js, "RJ")
	publish := (&publisher{t: t, js: js}).publish
	publish("rj.x", 100)

	var leader string
	within(t, 20*time.Second, "leader", func() error {
		info, err := st.Info(ctx)
		if err != nil || info.Cluster == nil || info.Cluster.Leader == "" {
			return fmt.Errorf("no leader: %v", err)
		}
		leader = info.Cluster.Leader
		return nil
	})
	victim := 2
	if leader == nodes[2].name {
		victim = 1
	}
	if where != nil {
		nodes[victim].stop()
		flipAt(t, fss[victim], newestSegment(t, fss[victim]), where)
		publish("rj.x", 50)
		nodes[victim] = startPowerNode(t, victim, ports, fss[victim], 40)
	} else {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := nodes[victim].m.cl.node.Host.RemoveGroup(cctx, jscluster.MetaGroup)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		within(t, 20*time.Second, "the rejoin to start", func() error {
			if nodes[victim].m.cl.rejoin.Load() == nil {
				return errors.New("not rejoining")
			}
			return nil
		})
		publish("rj.x", 50)
	}
	publish("rj.x", 50)

	within(t, 90*time.Second, "the damaged member current again", func() error {
		if nodes[victim].m.cl.rejoin.Load() != nil {
			return errors.New("still rejoining")
		}
		info, err := st.Info(ctx)
		if err != nil {
			return err
		}
		if info.Cluster == nil || len(info.Cluster.Replicas) != 2 {
			return fmt.Errorf("cluster %+v", info.Cluster)
		}
		found := info.Cluster.Leader == nodes[victim].name
		for _, r := range info.Cluster.Replicas {
			if !r.Current || r.Offline {
				return fmt.Errorf("replica %+v", *r)
			}
			found = found || r.Name == nodes[victim].name
		}
		if !found {
			return fmt.Errorf("%s is not a replica", nodes[victim].name)
		}
		want, err := replicaView(nodes[(victim+1)%3], "RJ", "D")
		if err != nil {
			return err
		}
		got, err := replicaView(nodes[victim], "RJ", "D")
		if err != nil {
			return err
		}
		if got != want {
			return fmt.Errorf("rejoined member %s, another %s", got, want)
		}
		return nil
	})
	if _, err := fss[victim].Stat(rejoinPath(powerStore)); err == nil {
		t.Fatal("the rejoin marker is still there")
	}
	aside, err := fss[victim].ReadDir(filepath.Dir(metaDir(powerStore)))
	if err != nil {
		t.Fatal(err)
	}
	moved := false
	for _, e := range aside {
		moved = moved || strings.HasPrefix(e.Name(), "_js_"+refusedSuffix) && !strings.HasSuffix(e.Name(), ".streams")
	}
	if moved != whole {
		t.Fatalf("log moved aside: %v, want %v (%v)", moved, whole, aside)
	}
	got, err := readAll(ctx, js, "RJ")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 200 {
		t.Fatalf("read back %d messages, want 200", len(got))
	}
}
