package jsapi

import (
	"errors"
	"fmt"
	"strings"

	"github.com/starling-mq/starling/internal/subject"
)

// checkMirror checks a mirror: it takes its subjects and sequence from the
// origin, so it has none of its own, no sources, and none of the features
// that write messages of their own (counters, batches, schedules, delete
// markers). Against a known origin it inherits direct gets and must allow
// messages as large as the origin's.
func checkMirror(cfg *StreamConfig, lim *Limits) *ApiError {
	m := cfg.Mirror
	if m == nil {
		return nil
	}
	switch {
	case cfg.FirstSeq > 0:
		return NewError(ErrMirrorWithFirstSeq)
	case len(cfg.Subjects) > 0:
		return NewError(ErrMirrorWithSubjects)
	case len(cfg.Sources) > 0:
		return NewError(ErrMirrorWithSources)
	case cfg.AllowMsgCounter:
		return NewError(ErrMirrorWithCounters)
	case cfg.AllowAtomicPublish:
		return NewError(ErrMirrorWithAtomicPublish)
	case cfg.AllowBatchPublish:
		return NewError(ErrMirrorWithBatchPublish)
	case cfg.AllowMsgSchedules:
		return NewError(ErrMirrorWithMsgSchedules)
	}
	if c := m.Consumer; c != nil && !validSourceConsumer(m, c) {
		return NewError(ErrMirrorDurableConsumerCfgInvalid)
	}
	if m.FilterSubject != "" && len(m.SubjectTransforms) != 0 {
		return NewError(ErrMirrorMultipleFiltersNotAllowed)
	}
	if cfg.SubjectDeleteMarkerTTL > 0 {
		// Markers would take sequences the origin does not have.
		return invalid("subject delete markers forbidden on mirrors")
	}
	for i, tr := range m.SubjectTransforms {
		if tr.Source != "" && !subject.Valid(tr.Source) {
			return NewError(ErrMirrorInvalidSubjectFilter, fmt.Errorf("%w %s", errBadSubject, tr.Source))
		}
		if _, err := subject.NewTransform(tr.Source, tr.Destination); err != nil {
			return NewError(ErrMirrorInvalidTransformDestination, err)
		}
		for j, other := range m.SubjectTransforms {
			if i != j && Collide(tr.Source, other.Source) {
				return NewError(ErrMirrorOverlappingSubjectFilters)
			}
		}
	}
	if m.External != nil {
		return nil // the origin is elsewhere; its name may even be ours
	}
	if !ValidName(m.Name) {
		return NewError(ErrMirrorInvalidStreamName)
	}
	origin, ok := lim.lookup(m.Name)
	if !ok {
		return nil // origins need not exist yet
	}
	if cfg.MaxMsgSize > 0 && origin.MaxMsgSize > 0 && cfg.MaxMsgSize < origin.MaxMsgSize {
		return NewError(ErrMirrorMaxMessageSizeTooBig)
	}
	if lim.Pedantic && cfg.MirrorDirect != origin.AllowDirect {
		return pedantic("origin stream has direct get set, mirror has it disabled")
	}
	cfg.MirrorDirect = origin.AllowDirect
	return nil
}

// validSourceConsumer checks a durable consumer named for sourcing: a
// valid name, a literal deliver subject, and no start position or filter
// of its own (the consumer has them).
func validSourceConsumer(src *StreamSource, c *StreamConsumerSource) bool {
	return ValidName(c.Name) && subject.ValidLiteral(c.DeliverSubject) &&
		src.OptStartSeq == 0 && src.OptStartTime == nil && src.FilterSubject == ""
}

// checkSources checks each source: a valid name, no two alike, either a
// filter or transforms whose sources do not overlap, and a known origin's
// message size.
func checkSources(cfg *StreamConfig, lim *Limits) *ApiError {
	if len(cfg.Sources) > 0 && cfg.AllowMsgSchedules {
		return NewError(ErrSourceWithMsgSchedules)
	}
	seen := make(map[string]bool, len(cfg.Sources))
	consumers := make(map[string]bool)
	for _, src := range cfg.Sources {
		if src == nil || !ValidName(src.Name) {
			return NewError(ErrSourceInvalidStreamName)
		}
		key := sourceKey(src)
		if seen[key] {
			return NewError(ErrSourceDuplicateDetected)
		}
		seen[key] = true
		if src.FilterSubject != "" && len(src.SubjectTransforms) != 0 {
			return NewError(ErrSourceMultipleFiltersNotAllowed)
		}
		for _, tr := range src.SubjectTransforms {
			if tr.Source != "" && !subject.Valid(tr.Source) {
				return NewError(ErrSourceInvalidSubjectFilter, fmt.Errorf("%w %s", errBadSubject, tr.Source))
			}
			if _, err := subject.NewTransform(tr.Source, tr.Destination); err != nil {
				return NewError(ErrSourceInvalidTransformDestination, err)
			}
		}
		for i, tr := range src.SubjectTransforms {
			for j, other := range src.SubjectTransforms {
				if i != j && SubsetOf(tr.Source, other.Source) {
					return NewError(ErrSourceOverlappingSubjectFilters)
				}
			}
		}
		if c := src.Consumer; c != nil {
			if !validSourceConsumer(src, c) {
				return NewError(ErrSourceDurableConsumerCfgInvalid)
			}
			key := src.Name + "\x00" + externalAPI(src) + "\x00" + c.Name
			if consumers[key] {
				return NewError(ErrSourceDurableConsumerDuplicateDetected)
			}
			consumers[key] = true
		}
		if src.External != nil {
			continue
		}
		if origin, ok := lim.lookup(src.Name); ok &&
			cfg.MaxMsgSize > 0 && origin.MaxMsgSize > 0 && cfg.MaxMsgSize < origin.MaxMsgSize {
			return NewError(ErrSourceMaxMessageSizeTooBig)
		}
	}
	return nil
}

// sourceKey identifies a source as nats-server's composeIName does: the
// same stream, domain, consumer, filter and transforms twice is a
// duplicate. An empty filter or destination means '>'.
func sourceKey(src *StreamSource) string {
	or := func(s string) string {
		if s == "" {
			return ">"
		}
		return s
	}
	var from, to []string
	if len(src.SubjectTransforms) == 0 {
		from, to = []string{or(src.FilterSubject)}, []string{">"}
	}
	for _, tr := range src.SubjectTransforms {
		from, to = append(from, or(tr.Source)), append(to, or(tr.Destination))
	}
	consumer := ""
	if src.Consumer != nil {
		consumer = src.Consumer.Name
	}
	return strings.Join([]string{src.Name, externalAPI(src), consumer,
		strings.Join(from, "\f"), strings.Join(to, "\f")}, "\x00")
}

func externalAPI(src *StreamSource) string {
	if src.External == nil {
		return ""
	}
	return src.External.ApiPrefix
}

// origins lists the mirror and sources.
func origins(cfg *StreamConfig) []*StreamSource {
	all := make([]*StreamSource, 0, len(cfg.Sources)+1)
	if cfg.Mirror != nil {
		all = append(all, cfg.Mirror)
	}
	return append(all, cfg.Sources...)
}

// checkExternal checks the prefixes of origins in other accounts or
// domains: a deliver prefix must be a literal subject that does not
// overlap the subjects of local origins, an API prefix a literal subject
// that is not this account's own $JS.API.
func checkExternal(cfg *StreamConfig, lim *Limits) *ApiError {
	var localSubjects, deliver, api []string
	for _, src := range origins(cfg) {
		if src.External == nil {
			if origin, ok := lim.lookup(src.Name); ok {
				localSubjects = append(localSubjects, origin.Subjects...)
			}
			continue
		}
		if p := src.External.DeliverPrefix; p != "" {
			deliver = append(deliver, p)
		}
		if p := src.External.ApiPrefix; p != "" {
			api = append(api, p)
		}
	}
	for _, p := range deliver {
		if !subject.ValidLiteral(p) {
			return NewError(ErrStreamInvalidExternalDeliverySubj, p)
		}
		for _, s := range localSubjects {
			if Collide(s, p+"."+s) {
				return NewError(ErrStreamExternalDelPrefixOverlaps, p, s)
			}
		}
	}
	for _, p := range api {
		if !subject.ValidLiteral(p) {
			return invalid("stream external api prefix %q must be a valid subject without wildcards", p)
		}
		if Collide(p, "$JS.API") {
			return NewError(ErrStreamExternalApiOverlap, p, "$JS.API")
		}
	}
	return nil
}

// checkCycles follows local mirrors and sources through Lookup and refuses
// a configuration through which messages would come back to a stream
// they left.
func checkCycles(cfg *StreamConfig, lim *Limits) *ApiError {
	if lim.Lookup == nil {
		return nil
	}
	errCycle := NewError(ErrStreamInvalidConfig, errors.New("detected cycle"))
	visited := make(map[string]bool)
	queue := []StreamConfig{*cfg}
	for len(queue) > 0 && len(visited) <= 10_000 {
		c := queue[0]
		queue = queue[1:]
		visited[c.Name] = true
		for _, src := range c.Sources {
			if src == nil || src.External != nil {
				continue
			}
			if visited[src.Name] {
				// Only a cycle if the filter lets the stream's own subjects through.
				if src.FilterSubject == "" || SubjectsOverlap(c.Subjects, []string{src.FilterSubject}) {
					return errCycle
				}
			} else if next, ok := lim.Lookup(src.Name); ok {
				queue = append(queue, next)
			}
		}
		if m := c.Mirror; m != nil && m.External == nil {
			if visited[m.Name] {
				return errCycle
			}
			if next, ok := lim.Lookup(m.Name); ok {
				queue = append(queue, next)
			}
		}
	}
	return nil
}

// CheckOriginFilters checks the filter subjects of the mirror and sources,
// which nats-server checks only when it adds the stream, after the subject
// overlap and limit checks, and reports as a stream create error: the
// caller sends NewError(ErrStreamCreate, err) (10049).
func CheckOriginFilters(cfg StreamConfig) error {
	if m := cfg.Mirror; m != nil && len(m.SubjectTransforms) == 0 && m.FilterSubject != "" && !subject.Valid(m.FilterSubject) {
		return fmt.Errorf("subject filter '%s' for the mirror %w", m.FilterSubject, errBadSubject)
	}
	for _, src := range cfg.Sources {
		if src != nil && len(src.SubjectTransforms) == 0 && src.FilterSubject != "" && !subject.Valid(src.FilterSubject) {
			return fmt.Errorf("subject filter '%s' for the source: %w", src.FilterSubject, errBadSubject)
		}
	}
	return nil
}
