package consumer

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/starling-mq/starling/internal/jsapi"
)

// Acks arrive on the reply subject of each delivery:
// $JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<time>.<pending>
// with a body saying what to do: +ACK (or empty), -NAK (optionally
// {"delay": ns}), +WPI (still working), +NXT (ack and pull), +TERM.

// AckSeqs parses the stream sequence out of an ack subject.
func AckSeqs(subject string) (sseq uint64, ok bool) {
	toks := strings.Split(subject, ".")
	if len(toks) < 9 || toks[0] != "$JS" || toks[1] != "ACK" {
		return 0, false
	}
	// The 12-token form adds domain and account hash after "ACK".
	off := 4
	if len(toks) >= 12 {
		off = 6
	}
	n, err := strconv.ParseUint(toks[off+1], 10, 64)
	return n, err == nil
}

// Ack handles one ack message. reply is set for acks that want a
// confirmation (AckSync); it is answered once the ack is applied.
func (c *Consumer) Ack(subject, reply string, body []byte) {
	sseq, ok := AckSeqs(subject)
	if !ok {
		return
	}
	verb, arg, _ := bytes.Cut(bytes.TrimSpace(body), []byte(" "))
	now := c.now().UnixNano()
	var next *jsapi.NextRequest
	c.mu.Lock()
	switch string(verb) {
	case "", "+ACK":
		c.ackLocked(sseq)
	case "-NAK":
		if p, ok := c.pending[sseq]; ok {
			var d struct {
				Delay time.Duration `json:"delay"`
			}
			if len(arg) > 0 && json.Unmarshal(arg, &d) == nil && d.Delay > 0 {
				p.deadline = now + int64(d.Delay)
			} else {
				p.deadline = 0
				c.redeliver = append(c.redeliver, sseq)
			}
		}
	case "+WPI":
		if p, ok := c.pending[sseq]; ok {
			p.deadline = now + int64(c.ackWait(p.dc))
		}
	case "+NXT":
		c.ackLocked(sseq)
		if reply != "" {
			r, err := ParseNext(arg)
			if err == nil {
				next = &r
			}
		}
	case "+TERM":
		if p, ok := c.pending[sseq]; ok {
			delete(c.pending, sseq)
			c.updateFloorLocked()
			c.dirty = true
			c.adviseLocked("CONSUMER.MSG_TERMINATED", &jsapi.TerminatedAdvisory{
				TypedEvent: c.event(jsapi.TypeTerminated), Stream: c.src.Name(), Consumer: c.name,
				ConsumerSeq: p.cseq, StreamSeq: sseq, Deliveries: p.dc, Reason: string(bytes.TrimSpace(arg)),
			})
		}
	}
	c.mu.Unlock()
	if reply != "" && next == nil && c.persist != nil {
		// AckSync: confirmed only once the ack is on disk.
		c.persist()
	}
	if next != nil {
		c.Pull(reply, *next)
	} else if reply != "" {
		if _, err := c.out.Publish(reply, "", nil, nil); err != nil {
			c.log.Debug("ack reply not sent", "err", err)
		}
	}
	c.poke()
}

// ackLocked applies an ack of sseq (and, with ack all, of everything
// delivered before it).
func (c *Consumer) ackLocked(sseq uint64) {
	var acked []uint64
	switch c.cfg.AckPolicy {
	case jsapi.AckNone:
		return
	case jsapi.AckAll:
		for seq := range c.pending {
			if seq <= sseq {
				acked = append(acked, seq)
			}
		}
	default:
		if _, ok := c.pending[sseq]; ok {
			acked = append(acked, sseq)
		}
	}
	for _, seq := range acked {
		if c.pending[seq].dc > 1 {
			c.redelivers--
		}
		delete(c.pending, seq)
	}
	if len(acked) == 0 {
		return
	}
	c.updateFloorLocked()
	c.dirty = true
	if c.onAck != nil {
		for _, seq := range acked {
			c.onAck(seq)
		}
	}
}

// updateFloorLocked moves the ack floor to just below the oldest
// outstanding delivery, or to the last delivery when none is outstanding.
func (c *Consumer) updateFloorLocked() {
	if len(c.pending) == 0 {
		c.floorS, c.floorC = max(c.floorS, c.lastSSeq), c.dseq
		return
	}
	var low uint64
	var lowC uint64
	for seq, p := range c.pending {
		if low == 0 || seq < low {
			low, lowC = seq, p.cseq
		}
	}
	if low-1 > c.floorS {
		c.floorS = low - 1
	}
	if lowC > 0 && lowC-1 > c.floorC {
		c.floorC = lowC - 1
	}
}
