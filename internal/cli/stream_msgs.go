package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

func runStreamGet(ctx context.Context, e *env, args []string) error {
	var lastFor string
	c, pos, err := nameCmd(e, args, "get", "<name> [seq]", "Print one message: by sequence, or the last on --last-for SUBJECT.", func(f *flagSet) {
		f.stringVar(&lastFor, "last-for", "", "SUBJECT", "", "the last message on this subject")
	})
	if err != nil {
		return err
	}
	var seq uint64
	switch {
	case len(pos) == 2 && lastFor == "":
		if seq, err = strconv.ParseUint(pos[1], 10, 64); err != nil || seq == 0 {
			return usageErrorf("invalid sequence %q", pos[1])
		}
	case len(pos) == 1 && lastFor != "":
	default:
		return usageErrorf("stream get needs a stream name and either a sequence or --last-for SUBJECT")
	}
	js, done, err := jsClient(c)
	if err != nil {
		return err
	}
	defer done()
	cctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	st, err := js.Stream(cctx, pos[0])
	if err != nil {
		return streamErr(pos[0], err)
	}
	var m *jetstream.RawStreamMsg
	if lastFor != "" {
		m, err = st.GetLastMsgForSubject(cctx, lastFor)
	} else {
		m, err = st.GetMsg(cctx, seq)
	}
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return errors.New("no message found")
	}
	if err != nil {
		return streamErr(pos[0], err)
	}
	return writeStoredMsg(e.stdout, m)
}

// viewLimit bounds `stream view` when --count is not given.
const viewLimit = 100

func runStreamView(ctx context.Context, e *env, args []string) error {
	var since, count int
	var filter string
	c, pos, err := nameCmd(e, args, "view", "<name>", "Print messages in sequence order (without creating a consumer).", func(f *flagSet) {
		f.intVar(&since, "since", "", 1, "first sequence to show")
		f.intVar(&count, "count", "", viewLimit, "most messages to show")
		f.stringVar(&filter, "subject", "", "FILTER", "", "only messages on subjects matching FILTER")
	})
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErrorf("stream view needs exactly one stream name")
	}
	if since < 1 || count < 1 {
		return usageErrorf("--since and --count must be at least 1")
	}
	if filter == "" {
		filter = ">"
	}
	js, done, err := jsClient(c)
	if err != nil {
		return err
	}
	defer done()
	st, err := func() (jetstream.Stream, error) {
		cctx, cancel := context.WithTimeout(ctx, c.timeout)
		defer cancel()
		return js.Stream(cctx, pos[0])
	}()
	if err != nil {
		return streamErr(pos[0], err)
	}
	seq := uint64(since)
	for shown := 0; shown < count; shown++ {
		cctx, cancel := context.WithTimeout(ctx, c.timeout)
		m, err := st.GetMsg(cctx, seq, jetstream.WithGetMsgSubject(filter))
		cancel()
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			return nil // the end of the stream
		}
		if err != nil {
			return streamErr(pos[0], err)
		}
		if err := writeStoredMsg(e.stdout, m); err != nil {
			return err
		}
		seq = m.Sequence + 1
	}
	return nil
}

// writeStoredMsg prints a message: its position, headers and body.
func writeStoredMsg(w io.Writer, m *jetstream.RawStreamMsg) error {
	var b strings.Builder
	fmt.Fprintf(&b, "[%d] %s %s (%s)\n", m.Sequence, m.Time.UTC().Format(time.RFC3339Nano), m.Subject, humanBytes(float64(len(m.Data))))
	keys := make([]string, 0, len(m.Header))
	for k := range m.Header {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range m.Header[k] {
			fmt.Fprintf(&b, "  %s: %s\n", k, v)
		}
	}
	b.Write(m.Data)
	b.WriteString("\n\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func printStreamInfo(e *env, info *jetstream.StreamInfo, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(info)
	}
	_, err := io.WriteString(e.stdout, streamInfoText(info))
	return err
}

func limit(v int64, unit func(int64) string) string {
	if v <= 0 {
		return "unlimited"
	}
	return unit(v)
}

func count(v int64) string { return commaInt(v) }
func bytesText(v int64) string {
	return humanBytes(float64(v))
}

// streamInfoText is `stream info`'s report.
func streamInfoText(si *jetstream.StreamInfo) string {
	var b strings.Builder
	cfg, st := si.Config, si.State
	fmt.Fprintf(&b, "Stream %s", cfg.Name)
	if cfg.Description != "" {
		fmt.Fprintf(&b, " (%s)", cfg.Description)
	}
	fmt.Fprintf(&b, ", created %s\n\nConfiguration:\n", si.Created.UTC().Format(time.RFC3339))
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	row := func(k, v string) { fmt.Fprintf(tw, "  %s:\t%s\n", k, v) }
	row("Subjects", strings.Join(cfg.Subjects, ", "))
	row("Storage", jsonWord(cfg.Storage))
	row("Retention", jsonWord(cfg.Retention))
	row("Discard", jsonWord(cfg.Discard))
	row("Replicas", strconv.Itoa(cfg.Replicas))
	row("Max messages", limit(cfg.MaxMsgs, count))
	row("Max bytes", limit(cfg.MaxBytes, bytesText))
	age := "unlimited"
	if cfg.MaxAge > 0 {
		age = cfg.MaxAge.String()
	}
	row("Max age", age)
	row("Max message size", limit(int64(cfg.MaxMsgSize), bytesText))
	row("Max per subject", limit(cfg.MaxMsgsPerSubject, count))
	row("Duplicate window", cfg.Duplicates.String())
	var flags []string
	for _, f := range []struct {
		on   bool
		name string
	}{{cfg.AllowRollup, "rollup"}, {cfg.DenyDelete, "deny delete"}, {cfg.DenyPurge, "deny purge"},
		{cfg.AllowDirect, "direct get"}, {cfg.Sealed, "sealed"}, {cfg.AllowMsgTTL, "message TTL"}} {
		if f.on {
			flags = append(flags, f.name)
		}
	}
	if len(flags) > 0 {
		row("Options", strings.Join(flags, ", "))
	}
	tw.Flush()
	b.WriteString("\nState:\n")
	tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	row = func(k, v string) { fmt.Fprintf(tw, "  %s:\t%s\n", k, v) }
	row("Messages", commaInt(int64(st.Msgs)))
	row("Bytes", humanBytes(float64(st.Bytes)))
	row("First sequence", seqAt(st.FirstSeq, st.FirstTime))
	row("Last sequence", seqAt(st.LastSeq, st.LastTime))
	row("Subjects", commaInt(int64(st.NumSubjects)))
	row("Deleted", commaInt(int64(st.NumDeleted)))
	if st.Lost != nil && len(st.Lost.Msgs) > 0 {
		row("Lost (corrupt)", fmt.Sprintf("%d messages, %s", len(st.Lost.Msgs), humanBytes(float64(st.Lost.Bytes))))
	}
	row("Consumers", strconv.Itoa(st.Consumers))
	tw.Flush()
	return b.String()
}

// jsonWord is an enum as the API spells it ("file", "limits", "old").
func jsonWord(v json.Marshaler) string {
	b, err := v.MarshalJSON()
	if err != nil {
		return fmt.Sprint(v)
	}
	return strings.Trim(string(b), `"`)
}

func seqAt(seq uint64, t time.Time) string {
	if t.IsZero() || t.Unix() <= 0 {
		return commaInt(int64(seq))
	}
	return fmt.Sprintf("%s @ %s", commaInt(int64(seq)), t.UTC().Format(time.RFC3339))
}

// streamTable is `stream ls`'s table.
func streamTable(infos []*jetstream.StreamInfo, now time.Time) string {
	if len(infos) == 0 {
		return "No streams defined\n"
	}
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSUBJECTS\tSTORAGE\tMESSAGES\tBYTES\tLAST MESSAGE")
	for _, si := range infos {
		last := "never"
		if si.State.Msgs > 0 && !si.State.LastTime.IsZero() {
			last = now.Sub(si.State.LastTime).Round(time.Second).String() + " ago"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", si.Config.Name, strings.Join(si.Config.Subjects, ", "),
			jsonWord(si.Config.Storage), commaInt(int64(si.State.Msgs)), humanBytes(float64(si.State.Bytes)), last)
	}
	tw.Flush()
	return b.String()
}
