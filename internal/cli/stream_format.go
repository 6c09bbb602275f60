package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Pure text for the stream actions, kept apart so tests can pin it down
// without a server.

func printStreamInfo(e *env, info *jetstream.StreamInfo, asJSON bool) error {
	if asJSON {
		// Subjects hold '>' and '*': keep them readable, not \u003e.
		enc := json.NewEncoder(e.stdout)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		return enc.Encode(info)
	}
	_, err := io.WriteString(e.stdout, streamInfoText(info))
	return err
}

// section writes "  label:  value" rows aligned within one block.
type section struct{ tw *tabwriter.Writer }

func newSection(w io.Writer, title string) section {
	fmt.Fprintf(w, "%s:\n", title)
	return section{tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)}
}

func (s section) row(k, v string) { fmt.Fprintf(s.tw, "  %s:\t%s\n", k, v) }

// end flushes the block; tabwriter on a strings.Builder cannot fail.
func (s section) end() { _ = s.tw.Flush() }

// streamInfoText is `stream info`'s report, in the nats CLI's order.
func streamInfoText(si *jetstream.StreamInfo) string {
	var b strings.Builder
	cfg := si.Config
	fmt.Fprintf(&b, "Information for stream %s, created %s\n\n", cfg.Name, si.Created.UTC().Format(time.RFC3339))
	c := newSection(&b, "Configuration")
	if cfg.Description != "" {
		c.row("Description", cfg.Description)
	}
	if len(cfg.Subjects) > 0 {
		c.row("Subjects", strings.Join(cfg.Subjects, ", "))
	}
	if cfg.Mirror != nil {
		c.row("Mirror", cfg.Mirror.Name)
	}
	for _, src := range cfg.Sources {
		c.row("Source", src.Name)
	}
	c.row("Replicas", strconv.Itoa(cfg.Replicas))
	c.row("Storage", enumWord(cfg.Storage))
	if cfg.Compression != jetstream.NoCompression {
		c.row("Compression", enumWord(cfg.Compression))
	}
	c.row("Retention", enumWord(cfg.Retention))
	discard := enumWord(cfg.Discard)
	if cfg.DiscardNewPerSubject {
		discard += " (per subject)"
	}
	c.row("Discard policy", discard)
	c.row("Duplicate window", cfg.Duplicates.String())
	c.row("Allows msg delete", strconv.FormatBool(!cfg.DenyDelete))
	c.row("Allows purge", strconv.FormatBool(!cfg.DenyPurge))
	c.row("Allows rollups", strconv.FormatBool(cfg.AllowRollup))
	c.row("Direct get", strconv.FormatBool(cfg.AllowDirect))
	if cfg.AllowMsgTTL {
		c.row("Per-message TTL", "true")
	}
	if cfg.Sealed {
		c.row("Sealed", "true")
	}
	c.row("Max messages", limitText(cfg.MaxMsgs, commaInt))
	c.row("Max per subject", limitText(cfg.MaxMsgsPerSubject, commaInt))
	c.row("Max bytes", limitText(cfg.MaxBytes, bytesText))
	c.row("Max age", durationLimit(cfg.MaxAge))
	c.row("Max message size", limitText(int64(cfg.MaxMsgSize), bytesText))
	c.row("Max consumers", limitText(int64(cfg.MaxConsumers), commaInt))
	c.end()
	b.WriteString("\n")
	streamStateText(&b, si.State)
	return b.String()
}

func streamStateText(b *strings.Builder, st jetstream.StreamState) {
	s := newSection(b, "State")
	s.row("Messages", commaInt(int64(st.Msgs)))
	s.row("Bytes", bytesText(int64(st.Bytes)))
	s.row("First sequence", seqAt(st.FirstSeq, st.FirstTime))
	s.row("Last sequence", seqAt(st.LastSeq, st.LastTime))
	if st.NumDeleted > 0 {
		s.row("Deleted messages", commaInt(int64(st.NumDeleted)))
	}
	s.row("Subjects", commaInt(int64(st.NumSubjects)))
	s.row("Active consumers", strconv.Itoa(st.Consumers))
	if st.Lost != nil && len(st.Lost.Msgs) > 0 {
		s.row("Lost (damaged)", fmt.Sprintf("%s messages, %s", commaInt(int64(len(st.Lost.Msgs))), bytesText(int64(st.Lost.Bytes))))
	}
	s.end()
}

// limitText shows a limit, where zero or less means none.
func limitText(v int64, unit func(int64) string) string {
	if v <= 0 {
		return "unlimited"
	}
	return unit(v)
}

func durationLimit(d time.Duration) string {
	if d <= 0 {
		return "unlimited"
	}
	return d.String()
}

func bytesText(v int64) string { return humanBytes(float64(v)) }

// enumWord is an enum as the API spells it ("file", "limits", "old").
func enumWord(v json.Marshaler) string {
	b, err := v.MarshalJSON()
	if err != nil {
		return fmt.Sprint(v)
	}
	return strings.Trim(string(b), `"`)
}

func seqAt(seq uint64, t time.Time) string {
	if seq == 0 || t.Unix() <= 0 {
		return commaInt(int64(seq))
	}
	return fmt.Sprintf("%s @ %s", commaInt(int64(seq)), t.UTC().Format(time.RFC3339))
}

// streamTable is `stream ls`'s table, in the order given.
func streamTable(infos []*jetstream.StreamInfo, now time.Time) string {
	if len(infos) == 0 {
		return "No streams defined\n"
	}
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSUBJECTS\tMESSAGES\tBYTES\tLAST MESSAGE")
	for _, si := range infos {
		last := "never"
		if si.State.Msgs > 0 && si.State.LastTime.Unix() > 0 {
			last = ageText(now.Sub(si.State.LastTime)) + " ago"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", si.Config.Name, strings.Join(si.Config.Subjects, ", "),
			commaInt(int64(si.State.Msgs)), bytesText(int64(si.State.Bytes)), last)
	}
	_ = tw.Flush() // into a strings.Builder: cannot fail
	return trimLines(b.String())
}

// ageText is a duration to a useful precision: 42s, 5m3s, 3h7m, 2d4h.
func ageText(d time.Duration) string {
	switch {
	case d < time.Second:
		return "0s"
	case d < time.Hour:
		return d.Round(time.Second).String()
	case d < 24*time.Hour:
		return strings.TrimSuffix(d.Round(time.Minute).String(), "0s")
	}
	d = d.Round(time.Hour)
	days := d / (24 * time.Hour)
	return fmt.Sprintf("%dd%dh", days, (d-days*24*time.Hour)/time.Hour)
}

// directGetHeaders are the headers the direct get API (streams with
// allow_direct) adds to say where a message is stored. The header line
// already says it, and they were not published with the message, so they
// are not shown among its headers.
var directGetHeaders = map[string]bool{
	jetstream.StreamHeader: true, jetstream.SequenceHeader: true, jetstream.SubjectHeader: true,
	jetstream.TimeStampHeaer: true, jetstream.LastSequenceHeader: true,
	"Nats-Num-Pending": true, "Nats-UpTo-Sequence": true,
}

// storedMsgText shows a message as `stream get` and `view` print it: a
// header line, the headers sorted by name, the body, and a blank line.
func storedMsgText(m *jetstream.RawStreamMsg) string {
	var b strings.Builder
	fmt.Fprintf(&b, "[%d] Subject: %s Received: %s\n", m.Sequence, m.Subject, m.Time.UTC().Format(time.RFC3339Nano))
	keys := make([]string, 0, len(m.Header))
	for k := range m.Header {
		if !directGetHeaders[k] {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		for _, v := range m.Header[k] {
			fmt.Fprintf(&b, "  %s: %s\n", k, v)
		}
	}
	if len(keys) > 0 {
		b.WriteString("\n")
	}
	b.Write(m.Data)
	if len(m.Data) == 0 || m.Data[len(m.Data)-1] != '\n' {
		b.WriteString("\n")
	}
	b.WriteString("\n")
	return b.String()
}
