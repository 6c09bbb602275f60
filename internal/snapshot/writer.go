package snapshot

import (
	"archive/tar"
	"errors"
	"fmt"
	"hash"
	"io"
	"strconv"
	"time"

	"github.com/klauspost/compress/s2"
	"github.com/starling-mq/starling/internal/jsapi"
)

// Archive member names.
const (
	metaFile     = "meta.inf"
	sumFile      = "meta.sum"
	msgsDir      = "msgs/"
	blockSuffix  = ".blk"
	idxSuffix    = ".idx"
	indexFile    = "msgs/index.db"
	consumersDir = "obs/"
	stateFile    = "o.dat"
	errorsFile   = "errors.txt"
)

// BlockSize is the size at which the writer starts a new block, as
// nats-server's default for file streams.
const BlockSize = 8 << 20

// Writer writes an archive: NewWriter (meta.inf), Append for each message
// in sequence order, EndMessages, AddConsumer for each consumer, Close.
// Memory is bounded by one block (or one record, if larger).
type Writer struct {
	stream   string
	s2w      *s2.Writer
	tw       *tar.Writer
	modTime  time.Time
	block    []byte
	blockN   uint32
	h        hash.Hash64
	last     uint64
	lastTime int64
	// blockSize is BlockSize; tests make it small.
	blockSize int
	ended     bool
	rec       Record
}

// NewWriter starts an archive of the stream cfg describes on w.
func NewWriter(w io.Writer, cfg jsapi.StreamConfig, created time.Time) (*Writer, error) {
	s2w := s2.NewWriter(w, s2.WriterConcurrency(1))
	aw := &Writer{stream: cfg.Name, s2w: s2w, tw: tar.NewWriter(s2w), modTime: time.Now().UTC(), blockSize: BlockSize}
	meta, err := EncodeStreamMeta(cfg, created)
	if err != nil {
		return nil, err
	}
	if err := aw.file(metaFile, meta); err != nil {
		return nil, err
	}
	if err := aw.file(sumFile, metaSum(streamHash(cfg.Name), meta)); err != nil {
		return nil, err
	}
	return aw, nil
}

func (w *Writer) file(name string, data []byte) error {
	hdr := &tar.Header{
		Typeflag: tar.TypeReg,
		Name:     name,
		Mode:     0o600,
		ModTime:  w.modTime,
		Size:     int64(len(data)),
		Format:   tar.FormatPAX,
	}
	if err := w.tw.WriteHeader(hdr); err != nil {
		return err
	}
	_, err := w.tw.Write(data)
	return err
}

// Append adds a message; sequences must increase. Sequences skipped
// between calls are deleted messages.
func (w *Writer) Append(seq uint64, ts int64, subject string, hdr, data []byte) error {
	w.rec = Record{Seq: seq, Time: ts, Subject: []byte(subject), Header: hdr, Data: data}
	return w.append(&w.rec)
}

func (w *Writer) append(r *Record) error {
	switch {
	case w.ended:
		return errors.New("snapshot: append after EndMessages")
	case r.Seq <= w.last:
		return fmt.Errorf("snapshot: sequence %d after %d", r.Seq, w.last)
	case r.Len() > MaxRecordLen:
		return fmt.Errorf("snapshot: message %d too large for an archive (%d bytes)", r.Seq, r.Len())
	}
	if err := w.bridge(r.Seq); err != nil {
		return err
	}
	if len(w.block) > 0 && len(w.block)+r.Len() > w.blockSize {
		if err := w.flushBlock(); err != nil {
			return err
		}
	}
	if w.h == nil {
		w.blockN++
		w.h = blockHash(w.stream, w.blockN)
		if w.block == nil {
			w.block = make([]byte, 0, w.blockSize+minRecordLen)
		}
	}
	w.block = AppendRecord(w.block, w.h, r)
	w.last, w.lastTime = r.Seq, r.Time
	return nil
}

// maxErasedRun is the longest run of deleted sequences written as erased
// records; a longer one starts a new block instead.
const maxErasedRun = 32

// bridge handles the deleted sequences before seq. nats-server 2.9
// expects a block's records to have consecutive sequences (it indexes
// them by position), so a short run of deleted messages is written as
// erased records, as nats-server itself leaves them; after a long run the
// next record starts a new block, so an archive does not grow with the
// number of deleted messages. Later servers take either.
func (w *Writer) bridge(seq uint64) error {
	if w.h == nil || seq <= w.last+1 {
		return nil
	}
	if seq-w.last-1 > maxErasedRun {
		return w.flushBlock()
	}
	for s := w.last + 1; s < seq; s++ {
		w.block = AppendRecord(w.block, w.h, &Record{Seq: s, Time: w.lastTime, Erased: true})
	}
	return nil
}

func (w *Writer) flushBlock() error {
	if w.h == nil {
		return nil
	}
	err := w.file(msgsDir+strconv.FormatUint(uint64(w.blockN), 10)+blockSuffix, w.block)
	w.block, w.h = w.block[:0], nil
	if cap(w.block) > 2*w.blockSize {
		w.block = nil // a huge record grew it: do not keep it
	}
	return err
}

// EndMessages finishes the messages. When the stream's last sequence
// holds no message, an erased record keeps it, so the restored stream
// continues from the same sequence.
func (w *Writer) EndMessages(lastSeq uint64, lastTime int64) error {
	if w.ended {
		return nil
	}
	if lastSeq > w.last {
		if err := w.append(&Record{Seq: lastSeq, Time: lastTime, Erased: true}); err != nil {
			return err
		}
	}
	w.ended = true
	return w.flushBlock()
}

// AddConsumer adds a consumer's configuration and, when st is not nil,
// its state.
func (w *Writer) AddConsumer(m *ConsumerMeta, st *ConsumerState, now time.Time) error {
	if err := w.EndMessages(0, 0); err != nil {
		return err
	}
	meta, err := EncodeConsumerMeta(m)
	if err != nil {
		return err
	}
	dir := consumersDir + m.Name + "/"
	if err := w.file(dir+metaFile, meta); err != nil {
		return err
	}
	if err := w.file(dir+sumFile, metaSum(consumerHash(w.stream, m.Name), meta)); err != nil {
		return err
	}
	if st == nil {
		return nil
	}
	return w.file(dir+stateFile, EncodeConsumerState(st, now))
}

// Fail records that the snapshot could not finish, as nats-server does:
// a reader of the archive then refuses it.
func (w *Writer) Fail(reason string) error {
	return w.file(errorsFile, []byte(reason))
}

// Close ends the archive and flushes the compressor; it does not close
// the underlying writer.
func (w *Writer) Close() error {
	err := w.EndMessages(0, 0)
	if cerr := w.tw.Close(); err == nil {
		err = cerr
	}
	if cerr := w.s2w.Close(); err == nil {
		err = cerr
	}
	return err
}
