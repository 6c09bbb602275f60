package cli

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/nats-io/nats.go/jetstream"
)

// Reading stored messages. Both actions use only the message-get API
// (STREAM.MSG.GET, or DIRECT.GET when the stream allows it), never a
// consumer, so they leave no state behind on the server.

// getTarget is what `stream get` fetches: a sequence or a subject's last.
type getTarget struct {
	seq     uint64
	lastFor string
}

// parseGetArgs checks "<name> <seq>" or "<name> --last-for SUBJECT".
func parseGetArgs(pos []string, lastFor string) (getTarget, error) {
	switch {
	case len(pos) == 2 && lastFor == "":
		seq, err := strconv.ParseUint(pos[1], 10, 64)
		if err != nil || seq == 0 {
			return getTarget{}, usageErrorf("invalid sequence %q: want a number from 1", pos[1])
		}
		return getTarget{seq: seq}, nil
	case len(pos) == 1 && lastFor != "":
		return getTarget{lastFor: lastFor}, checkSubject("--last-for subject", lastFor, false)
	case len(pos) == 2:
		return getTarget{}, usageErrorf("give either a sequence or --last-for, not both")
	case len(pos) > 2:
		return getTarget{}, usageErrorf("unexpected argument %q", pos[2])
	}
	return getTarget{}, usageErrorf("stream get needs a stream name and either a sequence or --last-for SUBJECT")
}

func runStreamGet(ctx context.Context, e *env, args []string) error {
	var lastFor string
	c, _, pos, err := nameCmd(e, args, "get", "<name> <seq> | <name> --last-for SUBJECT",
		"Print one stored message: its sequence, subject, time, headers and body.", func(f *flagSet) {
			f.stringVar(&lastFor, "last-for", "", "SUBJECT", "", "the newest message on this subject")
		})
	if err != nil {
		return err
	}
	target, err := parseGetArgs(pos, lastFor)
	if err != nil {
		return err
	}
	s, err := openJS(c)
	if err != nil {
		return err
	}
	defer s.close()
	st, err := s.stream(ctx, pos[0])
	if err != nil {
		return err
	}
	cctx, cancel := s.call(ctx)
	defer cancel()
	var m *jetstream.RawStreamMsg
	if target.lastFor != "" {
		m, err = st.GetLastMsgForSubject(cctx, target.lastFor)
	} else {
		m, err = st.GetMsg(cctx, target.seq)
	}
	switch {
	case errors.Is(err, jetstream.ErrMsgNotFound) && target.lastFor != "":
		return fmt.Errorf("no message on %s in stream %s", target.lastFor, pos[0])
	case errors.Is(err, jetstream.ErrMsgNotFound):
		return fmt.Errorf("no message %d in stream %s", target.seq, pos[0])
	case err != nil:
		return s.explain(pos[0], err)
	}
	_, err = fmt.Fprint(e.stdout, storedMsgText(m))
	return err
}

// viewOpts select the messages `stream view` prints.
type viewOpts struct {
	since, count int
	filter       string
}

func (v *viewOpts) check() error {
	if v.since < 1 {
		return usageErrorf("--since must be a sequence from 1")
	}
	if v.count < 0 {
		return usageErrorf("--count must not be negative")
	}
	if v.filter == "" {
		v.filter = ">"
	}
	return checkSubject("--subject filter", v.filter, false)
}

// viewDefault is how many messages `stream view` shows without --count.
const viewDefault = 100

func runStreamView(ctx context.Context, e *env, args []string) error {
	var v viewOpts
	c, f, pos, err := nameCmd(e, args, "view", "<name>",
		"Print stored messages in sequence order, up to the last one stored when\n"+
			"the command starts. It reads message by message and creates no consumer.", func(f *flagSet) {
			f.intVar(&v.since, "since", "", 1, "first sequence to show")
			f.intVar(&v.count, "count", "", viewDefault, "most messages to show (0: all)")
			f.stringVar(&v.filter, "subject", "", "FILTER", "", "only messages on subjects matching FILTER")
		})
	if err != nil {
		return err
	}
	if err := f.checkArgs(pos, 1, 1); err != nil {
		return err
	}
	if err := v.check(); err != nil {
		return err
	}
	s, err := openJS(c)
	if err != nil {
		return err
	}
	defer s.close()
	st, err := s.stream(ctx, pos[0])
	if err != nil {
		return err
	}
	shown, err := viewMsgs(ctx, e, s, st, v)
	if err == nil && shown == 0 {
		e.status("no messages in %s from sequence %d", pos[0], v.since)
	}
	return err
}

// viewMsgs prints the messages v selects, stepping with "next message at
// or after seq on the filter", and returns how many it printed. It stops
// at the last sequence the stream had when looked up, so a busy stream
// cannot keep it running; each request is bounded by the timeout.
func viewMsgs(ctx context.Context, e *env, s *jsSession, st jetstream.Stream, v viewOpts) (int, error) {
	last := st.CachedInfo().State.LastSeq
	name := st.CachedInfo().Config.Name
	seq, shown := uint64(v.since), 0
	for seq <= last && (v.count == 0 || shown < v.count) {
		if err := ctx.Err(); err != nil {
			return shown, err
		}
		cctx, cancel := s.call(ctx)
		m, err := st.GetMsg(cctx, seq, jetstream.WithGetMsgSubject(v.filter))
		cancel()
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			return shown, nil // nothing more on the filter
		}
		if err != nil {
			return shown, s.explain(name, err)
		}
		if m.Sequence > last || m.Sequence < seq {
			return shown, nil
		}
		if _, err := fmt.Fprint(e.stdout, storedMsgText(m)); err != nil {
			return shown, err
		}
		shown++
		seq = m.Sequence + 1
	}
	return shown, nil
}
