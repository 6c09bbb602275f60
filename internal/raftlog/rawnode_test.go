package raftlog

import (
	"fmt"
	"io"
	"log"
	"testing"

	"go.etcd.io/raft/v3"
	pb "go.etcd.io/raft/v3/raftpb"

	"github.com/starling-mq/starling/internal/vfs"
)

// raftGroups drives single-voter RawNodes over one Log, the way the
// server's loop will: every group's Ready goes into one Save.
type raftGroups struct {
	t       *testing.T
	l       *Log
	nodes   []*raft.RawNode // group id i+1
	applied [][]string      // normal entries applied, per group
}

func startGroups(t *testing.T, l *Log, n int, fresh bool) *raftGroups {
	rg := &raftGroups{t: t, l: l, applied: make([][]string, n)}
	for i := range n {
		id := uint64(i + 1)
		if fresh {
			// Bootstrapped as raft recommends: a first snapshot holding
			// the configuration.
			mustSave(t, l, Update{Group: id, Snapshot: snap(1, 1, "", 1)})
		}
		rn, err := raft.NewRawNode(&raft.Config{ID: 1, ElectionTick: 10, HeartbeatTick: 1,
			Storage: l.Storage(id), MaxSizePerMsg: 1 << 20, MaxInflightMsgs: 16,
			Logger: &raft.DefaultLogger{Logger: log.New(io.Discard, "", 0)}})
		if err != nil {
			t.Fatalf("group %d: %v", id, err)
		}
		if err := rn.Campaign(); err != nil {
			t.Fatal(err)
		}
		rg.nodes = append(rg.nodes, rn)
	}
	rg.settle()
	return rg
}

// settle runs Ready cycles until no group has one; bounded.
func (rg *raftGroups) settle() {
	for range 100 {
		var batch []Update
		var rds []raft.Ready
		var ids []int
		for i, rn := range rg.nodes {
			if !rn.HasReady() {
				continue
			}
			rd := rn.Ready()
			batch = append(batch, Update{Group: uint64(i + 1), HardState: rd.HardState, Entries: rd.Entries, Snapshot: rd.Snapshot})
			rds, ids = append(rds, rd), append(ids, i)
		}
		if len(rds) == 0 {
			return
		}
		mustSave(rg.t, rg.l, batch...)
		for k, rd := range rds {
			for _, e := range rd.CommittedEntries {
				if e.GetType() == pb.EntryNormal && len(e.GetData()) > 0 {
					rg.applied[ids[k]] = append(rg.applied[ids[k]], string(e.GetData()))
				}
			}
			rg.nodes[ids[k]].Advance(rd)
		}
	}
	rg.t.Fatal("groups did not settle in 100 rounds")
}

// TestRawNodes: etcd raft runs on the log's storages, many groups sharing
// each Save, and restarts from the log after a crash with its term, commit
// and entries.
func TestRawNodes(t *testing.T) {
	const groups = 8
	mem := vfs.NewMem()
	l := mustOpen(t, mem, Options{SegmentSize: 8192})
	rg := startGroups(t, l, groups, true)
	for round := range 20 {
		for i, rn := range rg.nodes {
			if err := rn.Propose([]byte(fmt.Sprintf("g%d-r%d", i+1, round))); err != nil {
				t.Fatal(err)
			}
		}
		rg.settle()
	}
	for i := range groups {
		if len(rg.applied[i]) != 20 {
			t.Fatalf("group %d applied %d entries", i+1, len(rg.applied[i]))
		}
		// The state machine has them: compact, as the server will.
		st := rg.nodes[i].Status()
		if err := l.Compact(uint64(i+1), st.Applied-5); err != nil {
			t.Fatal(err)
		}
	}
	want := make([]raft.Status, groups)
	for i, rn := range rg.nodes {
		want[i] = rn.Status()
	}
	mustSave(t, l, Update{Group: 1, Entries: nil}) // nothing: no sync, no change
	l.Close()

	l = mustOpen(t, mem.CrashClone(), Options{SegmentSize: 8192})
	defer l.Close()
	rg = startGroups(t, l, groups, false)
	for i, rn := range rg.nodes {
		st := rn.Status()
		if st.GetTerm() <= want[i].GetTerm() || st.GetCommit() < want[i].GetCommit() {
			t.Fatalf("group %d restarted at term %d commit %d, before term %d commit %d",
				i+1, st.GetTerm(), st.GetCommit(), want[i].GetTerm(), want[i].GetCommit())
		}
		if err := rn.Propose([]byte("after")); err != nil {
			t.Fatal(err)
		}
	}
	rg.settle()
	for i := range groups {
		// The entries after the compaction are applied again (Applied was
		// not given), then the new one.
		got := rg.applied[i]
		if len(got) == 0 || got[len(got)-1] != "after" {
			t.Fatalf("group %d after the restart applied %v", i+1, got)
		}
	}
}
