package jetstream

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/starling-mq/starling/internal/jscluster"
	"github.com/starling-mq/starling/internal/raftlog"
	"github.com/starling-mq/starling/internal/vfs"
)

// A server whose log of the meta group is refused (a record failed its
// checksum, a damaged record header made the whole shared log unreadable,
// or the log lost entries the server had acknowledged) must not take part
// in the group with that log, nor with an empty one while the group still
// counts it: it may have voted, or acknowledged entries, that it no
// longer remembers. It rejoins from its peers without an operator:
//
//  1. At start it puts its Raft log out of use, every group's (the
//     streams' groups shared the log, and a whole-log refusal leaves
//     none of them readable): the log directory is moved aside when the
//     log is refused as a whole, else every group is dropped from it; the
//     copies of replicated streams, which the lost logs vouched for, are
//     moved aside too. Streams this server stores alone (one replica) are
//     kept: their store is all there is. A marker file (rejoinMark),
//     written first, says the server is rejoining, so a crash on the way
//     finishes the job at the next start, and the server never founds a
//     meta group of its own meanwhile.
//  2. It asks the meta leader (subjRejoin, rejoin_leader.go) to take it
//     out: of every replicated stream's group (a replacement where one
//     can be placed, else the group shrinks and grows back later, as for
//     a repaired member of one stream), then of the meta group. It asks
//     again until the leader answers that it is out.
//  3. Only then does it accept the meta leader's invitation: the leader
//     adds servers with a route up that are not members (watchMembers),
//     and this server joins with an empty log, caught up by the leader.
//     The leader's answer names the meta log index by which it was out,
//     kept in the marker: the assignments before it name this server in
//     groups it no longer remembers, so nothing is hosted (Hosting.held)
//     until the new meta log is applied past that index; then hosting
//     reconciles with the whole state and the marker is removed.
//
// A meta group stopped while running, because its leader's heartbeat
// showed the log lost acknowledged entries, starts the same way: the
// marker is written and the server asks to be taken out; its streams'
// groups run on until the new assignments, which no longer name it,
// remove them.

const (
	rejoinFile = "_js_rejoin"
	// refusedSuffix names a Raft log moved aside: kept for an operator
	// to look at, and to delete once the server is current again.
	refusedSuffix = ".refused-"
)

// rejoinMark is the marker file's content.
type rejoinMark struct {
	Since time.Time `json:"since"`
	Why   string    `json:"why"`
	// Out is the meta log index by which the leader took this server
	// out (step 3); 0 until it answered.
	Out uint64 `json:"out,omitempty"`
}

func rejoinPath(storeDir string) string { return filepath.Join(Dir(storeDir), "$SYS", rejoinFile) }

// readRejoinMark returns the marker, nil when there is none. A marker that
// cannot be read still means the server is rejoining.
func readRejoinMark(fsys vfs.FS, storeDir string) *rejoinMark {
	b, err := vfs.ReadFile(fsys, rejoinPath(storeDir))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	mark := &rejoinMark{}
	if err != nil || json.Unmarshal(b, mark) != nil {
		return &rejoinMark{Why: "unreadable rejoin marker"}
	}
	return mark
}

func writeRejoinMark(fsys vfs.FS, storeDir string, mark *rejoinMark) error {
	b, err := json.Marshal(mark)
	if err != nil {
		return err
	}
	if err := vfs.MkdirAllSynced(fsys, filepath.Dir(rejoinPath(storeDir)), 0o750); err != nil {
		return err
	}
	return vfs.WriteFileAtomic(fsys, rejoinPath(storeDir), b)
}

func removeRejoinMark(fsys vfs.FS, storeDir string) error {
	if err := fsys.Remove(rejoinPath(storeDir)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return fsys.SyncDir(filepath.Dir(rejoinPath(storeDir)))
}

// refusedMeta says why the meta group may not run from wal ("" when it
// may), and whether the log is refused as a whole.
func refusedMeta(wal *raftlog.Log) (why string, whole bool) {
	if wal.Damaged() {
		return "the Raft log is damaged as a whole", true
	}
	if !slices.Contains(wal.Groups(), jscluster.MetaGroup) {
		return "", false
	}
	if _, err := (&jscluster.LogStorage{Log: wal}).Open(jscluster.MetaGroup); err != nil {
		return "the meta group's log is refused: " + err.Error(), false
	}
	return "", false
}

// openRaftLog opens the server's Raft log and, when the meta group's log
// is refused or a rejoin had not been answered yet, puts it out of use
// (step 1 above). It returns the marker while the server rejoins.
func (m *Manager) openRaftLog() (*raftlog.Log, *rejoinMark, error) {
	dir, store := metaDir(m.cfg.StoreDir), m.cfg.StoreDir
	wal, err := raftlog.Open(m.fs, dir, raftlog.Options{Logger: m.log})
	if err != nil {
		return nil, nil, err
	}
	mark := readRejoinMark(m.fs, store)
	why, whole := refusedMeta(wal)
	switch {
	case why != "":
		mark = &rejoinMark{Since: time.Now().UTC(), Why: why}
		m.log.Error("JetStream cluster: the meta group's log is refused; this server drops its Raft log and rejoins from its peers", "why", why)
		if err := writeRejoinMark(m.fs, store, mark); err != nil {
			wal.Close()
			return nil, nil, fmt.Errorf("rejoin marker: %w", err)
		}
	case mark == nil:
		return wal, nil, nil
	case mark.Out > 0:
		// Taken out already: the new log is the one to go on with.
		return wal, mark, nil
	}
	aside := dir + refusedSuffix + mark.Since.UTC().Format("20060102T150405Z")
	if whole {
		wal.Close()
		if err := m.fs.Rename(dir, aside); err != nil {
			return nil, nil, fmt.Errorf("move the refused Raft log aside: %w", err)
		}
		if err := m.fs.SyncDir(filepath.Dir(dir)); err != nil {
			return nil, nil, err
		}
		m.log.Error("JetStream cluster: refused Raft log moved aside", "to", aside)
		if wal, err = raftlog.Open(m.fs, dir, raftlog.Options{Logger: m.log}); err != nil {
			return nil, nil, err
		}
	} else {
		for _, g := range wal.Groups() {
			if err := wal.RemoveGroup(g); err != nil {
				wal.Close()
				return nil, nil, fmt.Errorf("drop group %d from the Raft log: %w", g, err)
			}
		}
	}
	if err := m.moveReplicatedCopies(aside); err != nil {
		wal.Close()
		return nil, nil, err
	}
	return wal, mark, nil
}

// moveReplicatedCopies moves the store of every stream of more than one
// replica into aside: its group's log is gone, so the copy cannot be
// trusted to match the group; the server gets a new one from its peers if
// it is placed in the group again.
func (m *Manager) moveReplicatedCopies(aside string) error {
	root := Dir(m.cfg.StoreDir)
	accounts, err := m.fs.ReadDir(root)
	if err != nil {
		return nil // nothing stored yet
	}
	for _, a := range accounts {
		if !a.IsDir() {
			continue
		}
		streams := streamsRoot(m.cfg.StoreDir, a.Name())
		ents, err := m.fs.ReadDir(streams)
		if err != nil {
			continue
		}
		for _, de := range ents {
			sdir := filepath.Join(streams, de.Name())
			b, err := vfs.ReadFile(m.fs, filepath.Join(sdir, metaFile))
			if err != nil {
				continue
			}
			meta, err := decodeMeta(b)
			if err != nil || meta.Config.Replicas <= 1 {
				continue
			}
			to := filepath.Join(aside+".streams", a.Name(), de.Name())
			if err := vfs.MkdirAllSynced(m.fs, filepath.Dir(to), 0o750); err != nil {
				return err
			}
			if err := m.fs.Rename(sdir, to); err != nil {
				return fmt.Errorf("move the copy of stream %q aside: %w", meta.Config.Name, err)
			}
			if err := m.fs.SyncDir(streams); err != nil {
				return err
			}
			m.log.Warn("JetStream cluster: replica of a stream moved aside with the Raft log it depended on", "stream", meta.Config.Name, "account", a.Name(), "to", to)
		}
	}
	return nil
}
