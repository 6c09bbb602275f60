package chaos

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/nats-io/nats.go"

	"github.com/starling-mq/starling/internal/histcheck"
)

// Reading a stream back after the faults, through the plain JetStream
// API so that the same code reads nats-server and Starling.

// msgGetResponse is the part of a $JS.API.STREAM.MSG.GET reply read here.
type msgGetResponse struct {
	Message *struct {
		Subject string `json:"subject"`
		Seq     uint64 `json:"seq"`
		Data    []byte `json:"data"`
	} `json:"message"`
	Error *struct {
		Code    int    `json:"code"`
		ErrCode int    `json:"err_code"`
		Desc    string `json:"description"`
	} `json:"error"`
}

// errNoMessage is a get that found nothing: a known answer.
var errNoMessage = errors.New("no message")

// msgGet asks the stream's leader for one message: by sequence, or the
// last on a subject.
func msgGet(ctx context.Context, nc *nats.Conn, stream string, req map[string]any) (subject string, seq uint64, data []byte, err error) {
	body, err := json.Marshal(req)
	if err != nil {
		return "", 0, nil, err
	}
	m, err := nc.RequestWithContext(ctx, "$JS.API.STREAM.MSG.GET."+stream, body)
	if err != nil {
		return "", 0, nil, err
	}
	var r msgGetResponse
	if err := json.Unmarshal(m.Data, &r); err != nil {
		return "", 0, nil, fmt.Errorf("msg get reply %.80q: %w", m.Data, err)
	}
	switch {
	case r.Error != nil && r.Error.Code == 404:
		return "", 0, nil, errNoMessage
	case r.Error != nil:
		return "", 0, nil, fmt.Errorf("msg get: %d %d %s", r.Error.Code, r.Error.ErrCode, r.Error.Desc)
	case r.Message == nil:
		return "", 0, nil, fmt.Errorf("msg get reply %.80q has no message", m.Data)
	}
	return r.Message.Subject, r.Message.Seq, r.Message.Data, nil
}

// leaderGet reads a key of a bucket from its stream's leader: the value
// and revision, found false when the key has no message. An error is an
// unknown outcome.
func leaderGet(ctx context.Context, nc *nats.Conn, bucket, key string) (value string, rev uint64, found bool, err error) {
	_, seq, data, err := msgGet(ctx, nc, "KV_"+bucket, map[string]any{"last_by_subj": "$KV." + bucket + "." + key})
	if errors.Is(err, errNoMessage) {
		return "", 0, false, nil
	}
	if err != nil {
		return "", 0, false, err
	}
	return string(data), seq, true, nil
}

// ReadLeader reads sequences 1..last of a stream from its leader.
func ReadLeader(ctx context.Context, nc *nats.Conn, stream string, last uint64) ([]histcheck.Stored, error) {
	return readAll(last, func(seq uint64) ([]byte, error) {
		_, _, data, err := msgGet(ctx, nc, stream, map[string]any{"seq": seq})
		return data, err
	})
}

// ReadDirect reads sequences 1..last of a stream with direct gets, which
// the replicas answer (nc's own server's replica first, as a server
// prefers a local member of a queue group): each server's copy, read
// through a client connected to it alone.
func ReadDirect(ctx context.Context, nc *nats.Conn, stream string, last uint64) ([]histcheck.Stored, error) {
	return readAll(last, func(seq uint64) ([]byte, error) {
		body := fmt.Appendf(nil, `{"seq":%d}`, seq)
		m, err := nc.RequestWithContext(ctx, "$JS.API.DIRECT.GET."+stream, body)
		if err != nil {
			return nil, err
		}
		switch st := m.Header.Get("Status"); st {
		case "":
		case "404":
			return nil, errNoMessage
		default:
			return nil, fmt.Errorf("direct get %d: status %s %s", seq, st, m.Header.Get("Description"))
		}
		if got, _ := strconv.ParseUint(m.Header.Get("Nats-Sequence"), 10, 64); got != seq {
			return nil, fmt.Errorf("direct get %d answered sequence %d", seq, got)
		}
		return m.Data, nil
	})
}

// readers is how many gets a read has in flight: one at a time, a read
// of a few thousand messages waits on as many round trips.
const readers = 16

// readAll gets every sequence, readers at a time; a sequence with no
// message is skipped, any other error ends the read.
func readAll(last uint64, get func(seq uint64) ([]byte, error)) ([]histcheck.Stored, error) {
	got := make([][]byte, last+1)
	errs := make([]error, readers)
	var wg sync.WaitGroup
	for r := range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seq := uint64(r) + 1; seq <= last; seq += readers {
				data, err := get(seq)
				switch {
				case errors.Is(err, errNoMessage):
				case err != nil:
					errs[r] = fmt.Errorf("sequence %d: %w", seq, err)
					return
				default:
					got[seq] = data
				}
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	var out []histcheck.Stored
	for seq := uint64(1); seq <= last; seq++ {
		data := got[seq]
		if data == nil {
			continue
		}
		pub, n, err := ParsePayload(data)
		id := fmt.Sprintf("%s:%d", pub, n)
		if err != nil {
			id = fmt.Sprintf("unreadable %.40q", data)
		}
		out = append(out, histcheck.Stored{Seq: seq, ID: id})
	}
	return out, nil
}
