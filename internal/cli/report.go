package cli

import (
	"fmt"
	"strings"
)

// Turning a finished run into the text report or the JSON summary. Pure:
// both are functions of a benchResult, so tests pin the formats exactly.

const (
	scenarioPubSub    = "pubsub"
	scenarioRequest   = "request"
	scenarioJSPub     = "jspub"
	scenarioJSConsume = "jsconsume"
	scenarioKV        = "kv"

	// jsonSchema names the JSON layout; bump it when a field changes meaning.
	jsonSchema = "starling-bench/v1"
)

// benchResult is everything a run measured.
type benchResult struct {
	scenario   string
	subject    string
	msgs       int
	size       int
	pubs       int // publishers, or requesters
	subs       int // subscribers, or responders
	queue      string
	pubSamples []sample // one per publisher/requester, in client order
	subSamples []sample // one per subscriber/responder
	latency    *latencyStats
}

// overall is the whole run as one sample: every message sent and every
// message received, over the span from the first start to the last end.
func (r *benchResult) overall() sample {
	all := append(append([]sample(nil), r.pubSamples...), r.subSamples...)
	return total(all)
}

// benchJSON is the --json output (schema "starling-bench/v1"). Every field
// is always present; a group that did not run is null, so a script can
// tell "none" from "zero".
//
//	scenario   "pubsub", "request" or "jspub" (JetStream publish, --js)
//	msgs, size --msgs and the payload size in bytes
//	pubs, subs publishers and subscribers; in "request" mode requesters
//	           and the responders the bench started (--reply)
//	queue      the queue group, "" for plain subscribers
//	overall    all messages sent plus all received, over the span from the
//	           first client's start to the last client's end
//	pub, sub   group aggregates (same span rule) with min/avg/max/stddev of
//	           the per-client rates and one row per client, ids from 1
//	latency_us round-trip times in microseconds ("request" only, else null):
//	           exact nearest-rank percentiles over every request
//
// bytes count payload bytes only (msgs × size); seconds are float seconds;
// a client whose first and last message coincide has no interval: rate 0.
type benchJSON struct {
	Schema    string       `json:"schema"`
	Scenario  string       `json:"scenario"` // "pubsub", "request" or "jspub"
	Subject   string       `json:"subject"`
	Msgs      int          `json:"msgs"`
	Size      int          `json:"size"`
	Pubs      int          `json:"pubs"`
	Subs      int          `json:"subs"`
	Queue     string       `json:"queue"`
	Overall   statJSON     `json:"overall"`
	Pub       *groupJSON   `json:"pub"`
	Sub       *groupJSON   `json:"sub"`
	LatencyUS *latencyJSON `json:"latency_us"`
}

type statJSON struct {
	Msgs        int64   `json:"msgs"`
	Bytes       int64   `json:"bytes"`
	Seconds     float64 `json:"seconds"`
	MsgsPerSec  float64 `json:"msgs_per_sec"`
	BytesPerSec float64 `json:"bytes_per_sec"`
}

type groupJSON struct {
	statJSON
	MinMsgsPerSec    float64      `json:"min_msgs_per_sec"`
	AvgMsgsPerSec    float64      `json:"avg_msgs_per_sec"`
	MaxMsgsPerSec    float64      `json:"max_msgs_per_sec"`
	StddevMsgsPerSec float64      `json:"stddev_msgs_per_sec"`
	Clients          []clientJSON `json:"clients"`
}

type clientJSON struct {
	ID int `json:"id"`
	statJSON
}

type latencyJSON struct {
	Count int     `json:"count"`
	Min   float64 `json:"min"`
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P99   float64 `json:"p99"`
	P999  float64 `json:"p99_9"`
	Max   float64 `json:"max"`
	Avg   float64 `json:"avg"`
}

func statOf(s sample) statJSON {
	return statJSON{
		Msgs:        s.msgs,
		Bytes:       s.bytes,
		Seconds:     s.duration().Seconds(),
		MsgsPerSec:  s.msgsPerSec(),
		BytesPerSec: s.bytesPerSec(),
	}
}

func groupOf(samples []sample) *groupJSON {
	if len(samples) == 0 {
		return nil
	}
	rs := rateSummary(samples)
	g := &groupJSON{
		statJSON:         statOf(total(samples)),
		MinMsgsPerSec:    rs.min,
		AvgMsgsPerSec:    rs.avg,
		MaxMsgsPerSec:    rs.max,
		StddevMsgsPerSec: rs.stddev,
		Clients:          make([]clientJSON, len(samples)),
	}
	for i, s := range samples {
		g.Clients[i] = clientJSON{ID: i + 1, statJSON: statOf(s)}
	}
	return g
}

func jsonReport(r *benchResult) benchJSON {
	j := benchJSON{
		Schema:   jsonSchema,
		Scenario: r.scenario,
		Subject:  r.subject,
		Msgs:     r.msgs,
		Size:     r.size,
		Pubs:     r.pubs,
		Subs:     r.subs,
		Queue:    r.queue,
		Overall:  statOf(r.overall()),
		Pub:      groupOf(r.pubSamples),
		Sub:      groupOf(r.subSamples),
	}
	if l := r.latency; l != nil {
		j.LatencyUS = &latencyJSON{
			Count: l.count,
			Min:   micros(l.min), P50: micros(l.p50), P90: micros(l.p90), P99: micros(l.p99),
			P999: micros(l.p999), Max: micros(l.max), Avg: micros(l.avg),
		}
	}
	return j
}

// textReport renders the classic nats bench report, e.g.
//
//	NATS Pub/Sub stats: 2,867,588 msgs/sec ~ 350.05 MB/sec
//	 Pub stats: 1,442,153 msgs/sec ~ 176.04 MB/sec
//	  [1] 721,077 msgs/sec ~ 88.02 MB/sec (500,000 msgs)
//	  [2] 721,076 msgs/sec ~ 88.02 MB/sec (500,000 msgs)
//	  min 721,076 | avg 721,076 | max 721,077 | stddev 0 msgs
//	 Sub stats: 1,433,794 msgs/sec ~ 175.02 MB/sec
//
// Per-client rows appear when a group has more than one client.
func textReport(r *benchResult) string {
	title, pubLabel, subLabel := "NATS Pub/Sub stats", "Pub stats", "Sub stats"
	switch r.scenario {
	case scenarioRequest:
		title, pubLabel, subLabel = "NATS Request/Reply stats", "Request stats", "Reply stats"
	case scenarioJSPub:
		pubLabel = "JetStream publish stats (acknowledged)"
	case scenarioJSConsume:
		subLabel = "JetStream consume stats"
	case scenarioKV:
		pubLabel = "KV stats (operations)"
	}
	var b strings.Builder
	indent := ""
	if len(r.pubSamples) > 0 && len(r.subSamples) > 0 {
		fmt.Fprintf(&b, "%s: %s\n", title, rateText(r.overall()))
		indent = " "
	}
	writeGroup(&b, indent, pubLabel, r.pubSamples)
	writeGroup(&b, indent, subLabel, r.subSamples)
	if r.latency != nil {
		writeLatency(&b, indent, *r.latency)
	}
	return b.String()
}

func rateText(s sample) string {
	return fmt.Sprintf("%s msgs/sec ~ %s/sec", commaFloat(s.msgsPerSec()), humanBytes(s.bytesPerSec()))
}

func writeGroup(b *strings.Builder, indent, label string, samples []sample) {
	if len(samples) == 0 {
		return
	}
	fmt.Fprintf(b, "%s%s: %s\n", indent, label, rateText(total(samples)))
	if len(samples) < 2 {
		return
	}
	rows := make([][]string, len(samples))
	for i, s := range samples {
		rows[i] = []string{
			fmt.Sprintf("[%d]", i+1),
			commaFloat(s.msgsPerSec()) + " msgs/sec",
			"~ " + humanBytes(s.bytesPerSec()) + "/sec",
			"(" + commaInt(s.msgs) + " msgs)",
		}
	}
	for _, line := range alignRows(rows) {
		fmt.Fprintf(b, "%s %s\n", indent, line)
	}
	rs := rateSummary(samples)
	fmt.Fprintf(b, "%s min %s | avg %s | max %s | stddev %s msgs\n", indent,
		commaFloat(rs.min), commaFloat(rs.avg), commaFloat(rs.max), commaFloat(rs.stddev))
}

func writeLatency(b *strings.Builder, indent string, l latencyStats) {
	fmt.Fprintf(b, "%sLatency over %s requests (microseconds):\n", indent, commaInt(int64(l.count)))
	head := []string{"min", "p50", "p90", "p99", "p99.9", "max", "avg"}
	vals := []string{}
	for _, d := range []float64{micros(l.min), micros(l.p50), micros(l.p90), micros(l.p99), micros(l.p999), micros(l.max), micros(l.avg)} {
		vals = append(vals, fmt.Sprintf("%.1f", d))
	}
	for _, line := range alignRows([][]string{head, vals}) {
		fmt.Fprintf(b, "%s %s\n", indent, line)
	}
}

// alignRows right-aligns each column to its widest cell, one space apart.
func alignRows(rows [][]string) []string {
	var widths []int
	for _, row := range rows {
		for i, c := range row {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], len(c))
		}
	}
	lines := make([]string, len(rows))
	for r, row := range rows {
		cells := make([]string, len(row))
		for i, c := range row {
			cells[i] = fmt.Sprintf("%*s", widths[i], c)
		}
		lines[r] = strings.Join(cells, " ")
	}
	return lines
}
