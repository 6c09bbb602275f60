package raftnode

import (
	"errors"
	"sync"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
)

// MemStorage is an in-memory Storage over raft.MemoryStorage, for tests
// and the simulation. What Save has returned from survives a "crash" (a
// new engine over the same MemStorage); CrashNextSave makes a Save fail
// part way, as a power cut during the write would.
type MemStorage struct {
	mu     sync.Mutex
	groups map[uint64]*raft.MemoryStorage
	saves  int // Save calls that needed a sync
	crash  int // >= 0: the next Save writes this many records, then fails
}

// ErrCrashed is returned by a Save that CrashNextSave cut short.
var ErrCrashed = errors.New("raftnode: storage crashed during save")

// NewMemStorage returns an empty MemStorage.
func NewMemStorage() *MemStorage {
	return &MemStorage{groups: make(map[uint64]*raft.MemoryStorage), crash: -1}
}

// Open implements Storage.
func (s *MemStorage) Open(group uint64) (raft.Storage, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.open(group), nil
}

func (s *MemStorage) open(group uint64) *raft.MemoryStorage {
	ms := s.groups[group]
	if ms == nil {
		ms = raft.NewMemoryStorage()
		s.groups[group] = ms
	}
	return ms
}

// CrashNextSave makes the next Save write only its first keep records (a
// group's snapshot, entries and hard state count one each, in that order)
// and return ErrCrashed.
func (s *MemStorage) CrashNextSave(keep int) {
	s.mu.Lock()
	s.crash = keep
	s.mu.Unlock()
}

// Syncs is how many Saves needed a sync: one per loop iteration that had
// anything durable to write, however many groups it covered.
func (s *MemStorage) Syncs() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.saves
}

// Save implements Storage.
func (s *MemStorage) Save(batch []Update) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	budget := s.crash
	s.crash = -1
	// write reports false when the crash budget is spent.
	write := func() bool {
		if budget == 0 {
			return false
		}
		budget--
		return true
	}
	sync := false
	for _, u := range batch {
		ms := s.open(u.Group)
		sync = sync || u.MustSync
		if u.Snapshot != nil {
			if !write() {
				return ErrCrashed
			}
			if err := ms.ApplySnapshot(u.Snapshot); err != nil {
				return err
			}
		}
		if len(u.Entries) > 0 {
			if !write() {
				return ErrCrashed
			}
			if err := ms.Append(u.Entries); err != nil {
				return err
			}
		}
		if u.HardState != nil {
			if !write() {
				return ErrCrashed
			}
			if err := ms.SetHardState(u.HardState); err != nil {
				return err
			}
		}
	}
	if budget >= 0 {
		return ErrCrashed // the crash came before the sync
	}
	if sync {
		s.saves++
	}
	return nil
}

// Compact implements Storage.
func (s *MemStorage) Compact(group uint64, snap *raftpb.Snapshot) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ms := s.open(group)
	i := snap.GetMetadata().GetIndex()
	if _, err := ms.CreateSnapshot(i, snap.GetMetadata().GetConfState(), snap.GetData()); err != nil {
		return err
	}
	return ms.Compact(i)
}

// Remove implements Storage.
func (s *MemStorage) Remove(group uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.groups, group)
	return nil
}
