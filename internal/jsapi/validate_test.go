package jsapi

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestCheckStreamConfigDefaults(t *testing.T) {
	cfg, err := CheckStreamConfig(StreamConfig{Name: "ORDERS"}, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MaxMsgs != -1 || cfg.MaxBytes != -1 || cfg.MaxMsgsPer != -1 || cfg.MaxMsgSize != -1 || cfg.MaxConsumers != -1 ||
		cfg.Replicas != 1 || cfg.Duplicates != 2*time.Minute || len(cfg.Subjects) != 1 || cfg.Subjects[0] != "ORDERS" {
		t.Fatalf("defaults: %+v", cfg)
	}
	tests := []struct {
		name  string
		in    StreamConfig
		lim   Limits
		check func(StreamConfig) bool
	}{
		{"max age caps the window", StreamConfig{Name: "A", MaxAge: time.Minute / 2},
			Limits{}, func(c StreamConfig) bool { return c.Duplicates == 30*time.Second }},
		{"server limit caps the window", StreamConfig{Name: "A"},
			Limits{Duplicates: time.Minute}, func(c StreamConfig) bool { return c.Duplicates == time.Minute }},
		{"no window for mirrors", StreamConfig{Name: "A", Mirror: &StreamSource{Name: "B"}},
			Limits{}, func(c StreamConfig) bool { return c.Duplicates == 0 && c.Subjects == nil }},
		{"no window or subjects for sourcing", StreamConfig{Name: "A", Sources: []*StreamSource{{Name: "B"}}},
			Limits{}, func(c StreamConfig) bool { return c.Duplicates == 0 && c.Subjects == nil }},
		{"below -1 is unlimited", StreamConfig{Name: "A", MaxMsgs: -2, MaxBytes: -5, MaxConsumers: -3, MaxMsgSize: -7, MaxMsgsPer: -9},
			Limits{}, func(c StreamConfig) bool {
				return c.MaxMsgs == -1 && c.MaxBytes == -1 && c.MaxConsumers == -1 && c.MaxMsgSize == -1 && c.MaxMsgsPer == -1
			}},
		{"delete markers turn on TTLs and roll-ups", StreamConfig{Name: "K", SubjectDeleteMarkerTTL: time.Minute, DenyPurge: false},
			Limits{}, func(c StreamConfig) bool { return c.AllowMsgTTL && c.AllowRollup && !c.DenyPurge }},
		{"schedules turn on roll-ups", StreamConfig{Name: "K", AllowMsgSchedules: true},
			Limits{}, func(c StreamConfig) bool { return c.AllowRollup }},
		{"empty placement dropped", StreamConfig{Name: "A", Placement: &Placement{}},
			Limits{}, func(c StreamConfig) bool { return c.Placement == nil }},
		{"republish source defaults to >", StreamConfig{Name: "A", RePublish: &RePublish{Destination: "rp.>"}},
			Limits{}, func(c StreamConfig) bool { return c.RePublish.Source == ">" }},
		{"implicit republish of a transformed subject",
			StreamConfig{Name: "A", Subjects: []string{"in.>"}, SubjectTransform: &SubjectTransformConfig{Source: "in.>", Destination: "out.>"},
				RePublish: &RePublish{Source: ">", Destination: ">"}},
			Limits{}, func(c StreamConfig) bool { return c.RePublish.Source == "out.>" && c.RePublish.Destination == "out.>" }},
		{"mirror inherits direct get", StreamConfig{Name: "M", Mirror: &StreamSource{Name: "O"}},
			Limits{Lookup: lookupOf(StreamConfig{Name: "O", AllowDirect: true})}, func(c StreamConfig) bool { return c.MirrorDirect }},
		{"mirror of a stream without direct get", StreamConfig{Name: "M", Mirror: &StreamSource{Name: "O"}, MirrorDirect: true},
			Limits{Lookup: lookupOf(StreamConfig{Name: "O"})}, func(c StreamConfig) bool { return !c.MirrorDirect }},
	}
	for _, tt := range tests {
		out, err := CheckStreamConfig(tt.in, tt.lim)
		if err != nil || !tt.check(out) {
			t.Errorf("%s: %v %+v", tt.name, err, out)
		}
	}
	// The caller's republish is not changed.
	rp := &RePublish{Destination: "rp.>"}
	CheckStreamConfig(StreamConfig{Name: "A", RePublish: rp}, Limits{})
	if rp.Source != "" {
		t.Error("CheckStreamConfig changed the caller's RePublish")
	}
}

func lookupOf(cfgs ...StreamConfig) func(string) (StreamConfig, bool) {
	return func(name string) (StreamConfig, bool) {
		for _, c := range cfgs {
			if c.Name == name {
				return c, true
			}
		}
		return StreamConfig{}, false
	}
}

func TestCheckStreamConfigErrors(t *testing.T) {
	long := strings.Repeat("x", MaxNameLen+1)
	ext := &ExternalStream{ApiPrefix: "$JS.hub.API", DeliverPrefix: "deliver.hub"}
	tests := []struct {
		cfg  StreamConfig
		lim  Limits
		code uint16
		desc string
	}{
		{StreamConfig{Name: "a.b"}, Limits{}, 10052, `stream name is required and can not contain '.', '*', '>', '\', '/'`},
		{StreamConfig{Name: ""}, Limits{}, 10052, "stream name is required and can not contain"},
		{StreamConfig{Name: "a b"}, Limits{}, 10052, "stream name is required and can not contain"},
		{StreamConfig{Name: long}, Limits{}, 10052, "stream name is too long, maximum allowed is 255"},
		{StreamConfig{Name: "A", Description: strings.Repeat("d", 4097)}, Limits{}, 10052, "stream description is too long, maximum allowed is 4096"},
		{StreamConfig{Name: "A", Metadata: map[string]string{"k": strings.Repeat("v", 128*1024)}}, Limits{}, 10052, "stream metadata exceeds maximum size of 131072 bytes"},
		{StreamConfig{Name: "A", Retention: 3}, Limits{}, 10052, "invalid retention"},
		{StreamConfig{Name: "A", Storage: 2}, Limits{}, 10052, "invalid storage type"},
		{StreamConfig{Name: "A", Replicas: 7}, Limits{}, 10052, "maximum replicas is 5"},
		{StreamConfig{Name: "A", Replicas: -1}, Limits{}, 10133, "replicas count cannot be negative"},
		{StreamConfig{Name: "A", MaxMsgs: -2}, Limits{Pedantic: true}, 10157, "pedantic mode: max_msgs must be set to -1"},
		{StreamConfig{Name: "A", MaxAge: -1}, Limits{}, 10052, "max age can not be negative"},
		{StreamConfig{Name: "A", MaxAge: time.Millisecond}, Limits{}, 10052, "max age needs to be >= 100ms"},
		{StreamConfig{Name: "A", MaxAge: time.Second}, Limits{Pedantic: true}, 10157, "pedantic mode: duplicate window cannot be bigger than max age"},
		{StreamConfig{Name: "A", Duplicates: -1}, Limits{}, 10052, "duplicates window can not be negative"},
		{StreamConfig{Name: "A", MaxAge: time.Second, Duplicates: time.Minute}, Limits{}, 10052, "duplicates window can not be larger then max age"},
		{StreamConfig{Name: "A", Duplicates: time.Hour}, Limits{Duplicates: time.Minute}, 10052, "duplicates window can not be larger then server limit of 1m0s"},
		{StreamConfig{Name: "A", Duplicates: time.Millisecond}, Limits{}, 10052, "duplicates window needs to be >= 100ms"},
		{StreamConfig{Name: "A", DenyPurge: true, AllowRollup: true}, Limits{}, 10052, "roll-ups require the purge permission"},
		{StreamConfig{Name: "A", AllowMsgCounter: true, Discard: DiscardNew}, Limits{}, 10052, "counter stream cannot use discard new"},
		{StreamConfig{Name: "A", AllowMsgCounter: true, AllowMsgTTL: true}, Limits{}, 10052, "counter stream cannot use message TTLs"},
		{StreamConfig{Name: "A", AllowMsgCounter: true, Retention: InterestPolicy}, Limits{}, 10052, "counter stream can only use limits retention"},
		{StreamConfig{Name: "A", DiscardNewPer: true}, Limits{}, 10052, "discard new per subject requires discard new policy to be set"},
		{StreamConfig{Name: "A", DiscardNewPer: true, Discard: DiscardNew}, Limits{}, 10052, "discard new per subject requires max msgs per subject > 0"},
		{StreamConfig{Name: "A", SubjectDeleteMarkerTTL: time.Millisecond}, Limits{}, 10052, "subject delete marker TTL must be at least 1 second"},
		{StreamConfig{Name: "A", SubjectDeleteMarkerTTL: -1}, Limits{}, 10052, "subject delete marker TTL must not be negative"},
		{StreamConfig{Name: "A", SubjectDeleteMarkerTTL: time.Second}, Limits{Pedantic: true}, 10052, "subject delete marker cannot be set if message TTLs are disabled"},
		{StreamConfig{Name: "A", AllowMsgSchedules: true, Discard: DiscardNew}, Limits{}, 10052, "message scheduling cannot use discard new"},
		{StreamConfig{Name: "A", PersistMode: AsyncPersistMode, Storage: MemoryStorage}, Limits{}, 10052, "async persist mode is only supported on file storage"},
		{StreamConfig{Name: "A", PersistMode: AsyncPersistMode, AllowAtomicPublish: true}, Limits{}, 10052, "async persist mode is not supported with atomic batch publish"},
		// Mirrors.
		{StreamConfig{Name: "A", Mirror: &StreamSource{Name: "B"}, FirstSeq: 5}, Limits{}, 10143, "stream mirrors can not have first sequence configured"},
		{StreamConfig{Name: "A", Mirror: &StreamSource{Name: "B"}, Subjects: []string{"x"}}, Limits{}, 10034, "stream mirrors can not contain subjects"},
		{StreamConfig{Name: "A", Mirror: &StreamSource{Name: "B"}, Sources: []*StreamSource{{Name: "C"}}}, Limits{}, 10031, "stream mirrors can not also contain other sources"},
		{StreamConfig{Name: "A", Mirror: &StreamSource{Name: "B"}, AllowMsgCounter: true}, Limits{}, 10173, "stream mirrors can not also calculate counters"},
		{StreamConfig{Name: "A", Mirror: &StreamSource{Name: "B"}, AllowAtomicPublish: true}, Limits{}, 10198, "stream mirrors can not also use atomic publishing"},
		{StreamConfig{Name: "A", Mirror: &StreamSource{Name: "B"}, AllowMsgSchedules: true}, Limits{}, 10186, "stream mirrors can not also schedule messages"},
		{StreamConfig{Name: "A", Mirror: &StreamSource{Name: "B", OptStartSeq: 1, Consumer: &StreamConsumerSource{Name: "c", DeliverSubject: "d"}}}, Limits{}, 10213, "stream mirror consumer config is invalid"},
		{StreamConfig{Name: "A", Mirror: &StreamSource{Name: "B", FilterSubject: "x", SubjectTransforms: []SubjectTransformConfig{{Source: "y"}}}}, Limits{}, 10150, "mirror with multiple subject transforms cannot also have a single subject filter"},
		{StreamConfig{Name: "A", Mirror: &StreamSource{Name: "B"}, SubjectDeleteMarkerTTL: time.Second}, Limits{}, 10052, "subject delete markers forbidden on mirrors"},
		{StreamConfig{Name: "A", Mirror: &StreamSource{Name: "B", SubjectTransforms: []SubjectTransformConfig{{Source: "a..b"}}}}, Limits{}, 10151, "mirror transform source: invalid subject a..b"},
		{StreamConfig{Name: "A", Mirror: &StreamSource{Name: "B", SubjectTransforms: []SubjectTransformConfig{{Source: "a.*", Destination: "b.$2"}}}}, Limits{}, 10154, "mirror transform: "},
		{StreamConfig{Name: "A", Mirror: &StreamSource{Name: "B", SubjectTransforms: []SubjectTransformConfig{{Source: "a.*"}, {Source: "a.b"}}}}, Limits{}, 10152, "mirror subject filters can not overlap"},
		{StreamConfig{Name: "A", Mirror: &StreamSource{Name: "B.C"}}, Limits{}, 10142, "mirrored stream name is invalid"},
		{StreamConfig{Name: "A", Mirror: &StreamSource{Name: "B"}, MaxMsgSize: 10}, Limits{Lookup: lookupOf(StreamConfig{Name: "B", MaxMsgSize: 100})}, 10030, "stream mirror must have max message size >= source"},
		{StreamConfig{Name: "A", Mirror: &StreamSource{Name: "B"}}, Limits{Pedantic: true, Lookup: lookupOf(StreamConfig{Name: "B", AllowDirect: true})}, 10157, "pedantic mode: origin stream has direct get set, mirror has it disabled"},
		// Sources.
		{StreamConfig{Name: "A", Sources: []*StreamSource{{Name: "B"}}, AllowMsgSchedules: true}, Limits{}, 10187, "stream source can not also schedule messages"},
		{StreamConfig{Name: "A", Sources: []*StreamSource{{Name: "a.b"}}}, Limits{}, 10141, "sourced stream name is invalid"},
		{StreamConfig{Name: "A", Sources: []*StreamSource{nil}}, Limits{}, 10141, "sourced stream name is invalid"},
		{StreamConfig{Name: "A", Sources: []*StreamSource{{Name: "B"}, {Name: "B", FilterSubject: ">"}}}, Limits{}, 10140, "duplicate source configuration detected"},
		{StreamConfig{Name: "A", Sources: []*StreamSource{{Name: "B", FilterSubject: "x", SubjectTransforms: []SubjectTransformConfig{{Source: "y"}}}}}, Limits{}, 10144, "source with multiple subject transforms cannot also have a single subject filter"},
		{StreamConfig{Name: "A", Sources: []*StreamSource{{Name: "B", SubjectTransforms: []SubjectTransformConfig{{Source: "a b"}}}}}, Limits{}, 10145, "source transform source: invalid subject a b"},
		{StreamConfig{Name: "A", Sources: []*StreamSource{{Name: "B", SubjectTransforms: []SubjectTransformConfig{{Source: "a.*", Destination: "b..c"}}}}}, Limits{}, 10146, "source transform: "},
		{StreamConfig{Name: "A", Sources: []*StreamSource{{Name: "B", SubjectTransforms: []SubjectTransformConfig{{Source: "a.>"}, {Source: "a.b"}}}}}, Limits{}, 10147, "source filters can not overlap"},
		{StreamConfig{Name: "A", Sources: []*StreamSource{{Name: "B", Consumer: &StreamConsumerSource{Name: "c", DeliverSubject: "d.*"}}}}, Limits{}, 10215, "stream source consumer config is invalid"},
		{StreamConfig{Name: "A", Sources: []*StreamSource{{Name: "B", Consumer: &StreamConsumerSource{Name: "c", DeliverSubject: "d"}}, {Name: "B", Consumer: &StreamConsumerSource{Name: "c", DeliverSubject: "e"}, SubjectTransforms: []SubjectTransformConfig{{Source: "x"}}}}}, Limits{}, 10216, "duplicate stream source consumer detected"},
		{StreamConfig{Name: "A", Sources: []*StreamSource{{Name: "B"}}, MaxMsgSize: 10}, Limits{Lookup: lookupOf(StreamConfig{Name: "B", MaxMsgSize: 100})}, 10046, "stream source must have max message size >= target"},
		// External origins.
		{StreamConfig{Name: "A", Sources: []*StreamSource{{Name: "B", External: &ExternalStream{ApiPrefix: "$JS.hub.API", DeliverPrefix: "d.*"}}}}, Limits{}, 10024, "stream external delivery prefix d.* must not contain wildcards"},
		{StreamConfig{Name: "A", Sources: []*StreamSource{{Name: "B", External: ext}, {Name: "C"}}}, Limits{Lookup: lookupOf(StreamConfig{Name: "C", Subjects: []string{">"}})}, 10022, "stream external delivery prefix deliver.hub overlaps with stream subject >"},
		{StreamConfig{Name: "A", Sources: []*StreamSource{{Name: "B", External: &ExternalStream{ApiPrefix: "$JS.*.API"}}}}, Limits{}, 10052, `stream external api prefix "$JS.*.API" must be a valid subject without wildcards`},
		{StreamConfig{Name: "A", Sources: []*StreamSource{{Name: "B", External: &ExternalStream{ApiPrefix: "$JS.API"}}}}, Limits{}, 10021, "stream external api prefix $JS.API must not overlap with $JS.API"},
		// Cycles.
		{StreamConfig{Name: "A", Subjects: []string{"a"}, Sources: []*StreamSource{{Name: "B"}}},
			Limits{Lookup: lookupOf(StreamConfig{Name: "B", Sources: []*StreamSource{{Name: "A"}}})}, 10052, "detected cycle"},
		{StreamConfig{Name: "A", Mirror: &StreamSource{Name: "B"}},
			Limits{Lookup: lookupOf(StreamConfig{Name: "B", Mirror: &StreamSource{Name: "A"}})}, 10052, "detected cycle"},
		// Subjects.
		{StreamConfig{Name: "A", Subjects: []string{"a.>", "a.b"}}, Limits{}, 10052, `subject "a.>" overlaps with "a.b"`},
		// Current nats-server checks overlap before it would see the
		// duplicate; 2.9 said "duplicate subjects detected".
		{StreamConfig{Name: "A", Subjects: []string{"a", "a"}}, Limits{}, 10052, `subject "a" overlaps with "a"`},
		{StreamConfig{Name: "A", Subjects: []string{"a..b"}}, Limits{}, 10052, "invalid subject"},
		{StreamConfig{Name: "A", Subjects: []string{">"}}, Limits{}, 10052, "capturing all subjects requires no-ack to be true"},
		{StreamConfig{Name: "A", Subjects: []string{">"}, NoAck: true, Replicas: 3}, Limits{}, 10052, "capturing all subjects requires replicas of 1"},
		{StreamConfig{Name: "A", Subjects: []string{"$JS.API.>"}}, Limits{}, 10052, "subjects that overlap with jetstream api require no-ack to be true"},
		{StreamConfig{Name: "A", Subjects: []string{"$NRG.x"}}, Limits{}, 10052, "subjects that overlap with jetstream api require no-ack to be true"},
		{StreamConfig{Name: "A", Subjects: []string{"$SYS.>"}}, Limits{}, 10052, "subjects that overlap with system api require no-ack to be true"},
		// Account limits, transforms, republish, placement.
		{StreamConfig{Name: "A"}, Limits{MaxBytesRequired: true}, 10113, "account requires a stream config to have max bytes set"},
		{StreamConfig{Name: "A", MaxBytes: 100}, Limits{StoreMaxStreamBytes: 10}, 10122, "stream max bytes exceeds account limit max stream bytes"},
		{StreamConfig{Name: "A", SubjectTransform: &SubjectTransformConfig{Source: "a..b", Destination: "c"}}, Limits{}, 10155, "stream transform source: invalid subject a..b"},
		{StreamConfig{Name: "A", SubjectTransform: &SubjectTransformConfig{Source: "a.*", Destination: "b.$2"}}, Limits{}, 10156, "stream transform: "},
		{StreamConfig{Name: "A", Subjects: []string{"a.>"}, RePublish: &RePublish{Source: ">", Destination: "a.b.>"}}, Limits{}, 10052, "stream configuration for republish destination forms a cycle"},
		{StreamConfig{Name: "A", Subjects: []string{"a.>"}, RePublish: &RePublish{Source: "a.>", Destination: "b.*"}}, Limits{}, 10052, "stream configuration for republish with transform from 'a.>' to 'b.*' not valid"},
		{StreamConfig{Name: "A", RePublish: &RePublish{Destination: "x"}}, Limits{Pedantic: true}, 10157, "pedantic mode: republish source can not be empty"},
		{StreamConfig{Name: "A", Placement: &Placement{Preferred: "s1"}}, Limits{}, 10052, "preferred server not permitted in placement"},
	}
	for _, tt := range tests {
		_, err := CheckStreamConfig(tt.cfg, tt.lim)
		if err == nil || err.ErrCode != tt.code || !strings.HasPrefix(err.Description, tt.desc) ||
			err.Code != ErrorID(tt.code).Code() {
			t.Errorf("%s: got %v, want %d %q", tt.cfg.Name, err, tt.code, tt.desc)
		}
	}
}

func TestCheckStreamCreate(t *testing.T) {
	tests := []struct {
		subj string
		cfg  StreamConfig
		want uint16
		desc string
	}{
		{"A", StreamConfig{Name: "A"}, 0, ""},
		{"A", StreamConfig{Name: "B"}, 10056, "stream name in subject does not match request"},
		{`A\B`, StreamConfig{Name: `A\B`}, 10128, "Stream name can not contain path separators"},
		{"A", StreamConfig{Name: "A", Sealed: true}, 10052, "stream configuration for create can not be sealed"},
		{"A", StreamConfig{Name: "A", MirrorDirect: true}, 10052, "stream has no mirror but does have mirror direct"},
	}
	for _, tt := range tests {
		err := CheckStreamCreate(tt.subj, tt.cfg)
		if (tt.want == 0) != (err == nil) || (err != nil && (err.ErrCode != tt.want || err.Description != tt.desc)) {
			t.Errorf("%s: got %v, want %d %q", tt.subj, err, tt.want, tt.desc)
		}
	}
}

func TestCheckStreamUpdate(t *testing.T) {
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	base, _ := CheckStreamConfig(StreamConfig{Name: "A", DenyDelete: true, AllowMsgTTL: true}, Limits{})
	mirror, _ := CheckStreamConfig(StreamConfig{Name: "M", Mirror: &StreamSource{Name: "O", OptStartTime: &start}}, Limits{})
	tests := []struct {
		old    StreamConfig
		mutate func(*StreamConfig)
		desc   string
	}{
		{base, func(c *StreamConfig) { c.MaxMsgs = 5 }, ""},
		{base, func(c *StreamConfig) { c.Retention = InterestPolicy }, ""},
		{base, func(c *StreamConfig) { c.Name = "B" }, "stream configuration name must match original"},
		{base, func(c *StreamConfig) { c.Storage = MemoryStorage }, "stream configuration update can not change storage type"},
		{base, func(c *StreamConfig) { c.Retention = WorkQueuePolicy }, "stream configuration update can not change retention policy to/from workqueue"},
		{base, func(c *StreamConfig) { c.DenyDelete = false }, "stream configuration update can not cancel deny message deletes"},
		{base, func(c *StreamConfig) { c.AllowMsgTTL = false }, "message TTL status can not be disabled"},
		{base, func(c *StreamConfig) { c.AllowMsgCounter = true }, "stream configuration update can not change message counter setting"},
		{base, func(c *StreamConfig) { c.PersistMode = AsyncPersistMode }, "stream configuration update can not change persist mode"},
		{base, func(c *StreamConfig) { c.Mirror = &StreamSource{Name: "X"} }, "stream mirror configuration can not be updated"},
		{mirror, func(c *StreamConfig) { c.Mirror = nil }, ""}, // promotion
		{mirror, func(c *StreamConfig) { t := start.Local(); c.Mirror = &StreamSource{Name: "O", OptStartTime: &t} }, ""},
		{mirror, func(c *StreamConfig) { c.Mirror = &StreamSource{Name: "O"} }, "stream mirror configuration can not be updated"},
		{func() StreamConfig { c := base; c.Sealed = true; Seal(&c); return c }(),
			func(c *StreamConfig) { c.Sealed = false }, "stream configuration update can not unseal a sealed stream"},
		{func() StreamConfig { c := base; c.DenyPurge = true; return c }(),
			func(c *StreamConfig) { c.DenyPurge = false }, "stream configuration update can not cancel deny purge"},
		{func() StreamConfig { c := base; c.AllowMsgSchedules = true; return c }(),
			func(c *StreamConfig) { c.AllowMsgSchedules = false }, "message schedules can not be disabled"},
	}
	for i, tt := range tests {
		next := tt.old
		tt.mutate(&next)
		err := CheckStreamUpdate(tt.old, next)
		if (tt.desc == "" && err != nil) || (tt.desc != "" && (err == nil || err.Description != tt.desc)) {
			t.Errorf("%d: got %v, want %q", i, err, tt.desc)
		}
	}
	sealed := StreamConfig{Name: "A", Sealed: true, MaxAge: time.Hour, AllowRollup: true}
	Seal(&sealed)
	if sealed.MaxAge != 0 || sealed.Discard != DiscardNew || !sealed.DenyDelete || !sealed.DenyPurge || sealed.AllowRollup {
		t.Errorf("sealed: %+v", sealed)
	}
}

func TestRequiredAPILevel(t *testing.T) {
	for want, cfg := range map[int]StreamConfig{
		0: {}, 1: {AllowMsgTTL: true}, 2: {AllowMsgCounter: true, AllowMsgTTL: true}, 4: {AllowBatchPublish: true},
	} {
		if got := RequiredAPILevel(cfg); got != want {
			t.Errorf("%+v: got %d, want %d", cfg, got, want)
		}
	}
}

func TestCollide(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"a.b", "a.b", true}, {"a.*", "a.b", true}, {"a.>", "a.b.c", true}, {"a.>", "a", false},
		{"a.*", "a.b.c", false}, {"*.b", "a.*", true}, {">", "x", true}, {"a.b", "a.c", false},
		{"a.*.c", "a.b.>", true}, {"a.*", "a.>", true}, {"a.*", "*.*.c", false}, {"*.>", "a", false},
		{"foo*", "foo*", true}, {"foo*", "fooa", false},
	}
	for _, tt := range tests {
		if got := Collide(tt.a, tt.b); got != tt.want || Collide(tt.b, tt.a) != tt.want {
			t.Errorf("Collide(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
	if !SubjectsOverlap([]string{"x", "a.*"}, []string{"a.b"}) || SubjectsOverlap([]string{"x"}, []string{"y", "z.>"}) {
		t.Error("SubjectsOverlap")
	}
}

func TestSubsetOf(t *testing.T) {
	tests := []struct {
		sub, super string
		want       bool
	}{
		{"a.b", "a.b", true}, {"a.b", "a.*", true}, {"a.*", "a.*", true}, {"a.*", "a.b", false},
		{"a.b.c", "a.>", true}, {"a.>", "a.>", true}, {"a.>", "a.*", false}, {"a", "a.>", false},
		{"$JS.EVENT.ADVISORY.>", "$JS.EVENT.>", true}, {"$JS.>", "$JS.EVENT.>", false},
	}
	for _, tt := range tests {
		if got := SubsetOf(tt.sub, tt.super); got != tt.want {
			t.Errorf("SubsetOf(%q, %q) = %v, want %v", tt.sub, tt.super, got, tt.want)
		}
	}
}

// FuzzStreamConfig: any JSON either fails to decode or is checked without
// panicking, and a configuration that passes passes again unchanged.
func FuzzStreamConfig(f *testing.F) {
	f.Add([]byte(`{"name":"S","subjects":["a.>"],"max_age":1000000000}`))
	f.Add([]byte(`{"name":"M","mirror":{"name":"S"}}`))
	f.Add([]byte(`{"name":"T","subject_transform":{"src":"a.*","dest":"b.$1"}}`))
	f.Add([]byte(`{"name":"R","subjects":["a.>"],"republish":{"dest":"b.>"},"subject_delete_marker_ttl":1000000000}`))
	f.Add([]byte(`{"name":"X","sources":[{"name":"A","external":{"api":"$JS.h.API","deliver":"d"}},{"name":"B","subject_transforms":[{"src":"x.>","dest":"y.>"}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var cfg StreamConfig
		if json.Unmarshal(data, &cfg) != nil {
			return
		}
		out, err := CheckStreamConfig(cfg, Limits{})
		if err != nil {
			return
		}
		again, err := CheckStreamConfig(out, Limits{})
		if err != nil {
			t.Fatalf("normalized config rejected: %v", err)
		}
		if !sameJSON(out, again) {
			t.Fatalf("normalizing twice changed the config:\n%+v\n%+v", out, again)
		}
		if CheckStreamUpdate(out, again) != nil {
			t.Fatal("normalized config differs from itself")
		}
	})
}

func TestCheckOriginFilters(t *testing.T) {
	tests := []struct {
		cfg  StreamConfig
		want string
	}{
		{StreamConfig{Mirror: &StreamSource{Name: "O", FilterSubject: "a.>"}}, ""},
		{StreamConfig{Mirror: &StreamSource{Name: "O", FilterSubject: "a..b"}}, "subject filter 'a..b' for the mirror invalid subject"},
		{StreamConfig{Sources: []*StreamSource{{Name: "O"}, {Name: "P", FilterSubject: "a b"}}}, "subject filter 'a b' for the source: invalid subject"},
	}
	for _, tt := range tests {
		err := CheckOriginFilters(tt.cfg)
		if (tt.want == "") != (err == nil) || (err != nil && err.Error() != tt.want) {
			t.Errorf("got %v, want %q", err, tt.want)
		}
		if err != nil {
			if e := NewError(ErrStreamCreate, err); e.ErrCode != 10049 || e.Description != tt.want {
				t.Errorf("as create error: %+v", e)
			}
		}
	}
}
