package jetstream

import (
	"os"

	"github.com/starling-mq/starling/internal/jsapi"
	"github.com/starling-mq/starling/internal/vfs"
)

// diskOps are the writes of stream metadata to the store's disk. Tests
// replace them to inject a full or failing disk.
type diskOps struct {
	mkdirAll  func(path string, perm os.FileMode) error
	writeFile func(path string, data []byte) error
}

func (m *jsAccount) diskOps() diskOps {
	if m.disk.mkdirAll == nil {
		return diskOps{
			mkdirAll:  func(dir string, perm os.FileMode) error { return vfs.MkdirAllSynced(m.fs, dir, perm) },
			writeFile: func(path string, data []byte) error { return vfs.WriteFileAtomic(m.fs, path, data) },
		}
	}
	return m.disk
}

// saveStreamMeta creates a stream's directory if needed and writes its
// metadata. A memory stream needs nothing else from the disk, so a disk
// that is full or failing does not stop it: it is created or updated
// anyway, and only its configuration is not kept for the next start (the
// log says so). nats-server keeps memory streams off the disk entirely.
func (m *jsAccount) saveStreamMeta(meta *streamMeta) error {
	disk := m.diskOps()
	err := disk.mkdirAll(m.streamDir(meta.Config.Name), 0o700)
	if err == nil {
		err = m.writeMeta(meta)
	}
	if err != nil && meta.Config.Storage == jsapi.MemoryStorage {
		m.log.Warn("memory stream configuration not saved: the stream will not be recovered at the next start",
			"stream", meta.Config.Name, "err", err)
		return nil
	}
	return err
}
