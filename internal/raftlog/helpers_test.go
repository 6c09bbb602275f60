package raftlog

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"go.etcd.io/raft/v3"
	pb "go.etcd.io/raft/v3/raftpb"

	"github.com/starling-mq/starling/internal/vfs"
)

const testDir = "/raft"

func ent(index, term uint64, data string) *pb.Entry {
	return &pb.Entry{Index: new(index), Term: new(term), Type: new(pb.EntryNormal), Data: []byte(data)}
}

// ents makes entries first..first+len(terms)-1 with the given terms; the
// payload names index and term so a wrong read shows.
func ents(first uint64, terms ...uint64) []*pb.Entry {
	out := make([]*pb.Entry, len(terms))
	for i, t := range terms {
		idx := first + uint64(i)
		out[i] = ent(idx, t, fmt.Sprintf("i%d-t%d", idx, t))
	}
	return out
}

func hardst(term, vote, commit uint64) *pb.HardState {
	return &pb.HardState{Term: new(term), Vote: new(vote), Commit: new(commit)}
}

func snap(index, term uint64, data string, voters ...uint64) *pb.Snapshot {
	return &pb.Snapshot{Data: []byte(data), Metadata: &pb.SnapshotMetadata{
		Index: new(index), Term: new(term), ConfState: &pb.ConfState{Voters: voters}}}
}

func mustOpen(t testing.TB, fsys vfs.FS, opts Options) *Log {
	t.Helper()
	l, err := Open(fsys, testDir, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return l
}

func mustSave(t testing.TB, l *Log, us ...Update) {
	t.Helper()
	if err := l.Save(us); err != nil {
		t.Fatalf("Save: %v", err)
	}
}

// view is what a group's raft.Storage shows, for comparisons.
type view struct {
	first, last uint64
	terms       []uint64 // of first-1 .. last
	data        []string // of first .. last
	hs          [3]uint64
	snapIndex   uint64
	snapTerm    uint64
	snapData    string
	voters      string
}

func viewOf(t testing.TB, s raft.Storage) view {
	t.Helper()
	var v view
	var err error
	if v.first, err = s.FirstIndex(); err != nil {
		t.Fatalf("FirstIndex: %v", err)
	}
	if v.last, err = s.LastIndex(); err != nil {
		t.Fatalf("LastIndex: %v", err)
	}
	for i := v.first - 1; i <= v.last; i++ {
		term, err := s.Term(i)
		if err != nil {
			t.Fatalf("Term(%d): %v", i, err)
		}
		v.terms = append(v.terms, term)
	}
	if v.last >= v.first {
		es, err := s.Entries(v.first, v.last+1, 1<<62)
		if err != nil {
			t.Fatalf("Entries(%d, %d): %v", v.first, v.last+1, err)
		}
		for _, e := range es {
			v.data = append(v.data, string(e.GetData()))
		}
	}
	hs, cs, err := s.InitialState()
	if err != nil {
		t.Fatalf("InitialState: %v", err)
	}
	v.hs = [3]uint64{hs.GetTerm(), hs.GetVote(), hs.GetCommit()}
	v.voters = fmt.Sprint(cs.GetVoters())
	sn, err := s.Snapshot()
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	v.snapIndex, v.snapTerm, v.snapData = sn.GetMetadata().GetIndex(), sn.GetMetadata().GetTerm(), string(sn.GetData())
	return v
}

func (v view) String() string {
	return fmt.Sprintf("first %d last %d terms %v hs %v snap %d/%d %q voters %s data %v",
		v.first, v.last, v.terms, v.hs, v.snapIndex, v.snapTerm, v.snapData, v.voters, v.data)
}

func sameView(a, b view) bool { return a.String() == b.String() }

// fileBytes reads a file whole.
func fileBytes(t testing.TB, fsys vfs.FS, name string) []byte {
	t.Helper()
	b, err := vfs.ReadFile(fsys, name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// writeBytes replaces a file's content durably (for damage tests).
func writeBytes(t testing.TB, fsys vfs.FS, name string, b []byte) {
	t.Helper()
	if err := vfs.WriteFileAtomic(fsys, name, bytes.Clone(b)); err != nil {
		t.Fatal(err)
	}
}

func isDamaged(err error) bool { return errors.Is(err, ErrDamaged) }
