package jsapi

import (
	"encoding/json"
	"fmt"
	"strings"
)

// An enum marshals as one of its names and refuses anything else on the
// way in, so a typo in a request is an error rather than a silent default.

func enumMarshal(kind string, names []string, v int) ([]byte, error) {
	if v < 0 || v >= len(names) {
		return nil, fmt.Errorf("jsapi: can not marshal %s %d", kind, v)
	}
	return json.Marshal(names[v])
}

func enumUnmarshal(kind string, names []string, data []byte) (int, error) {
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return 0, fmt.Errorf("can not unmarshal %s: %w", kind, err)
	}
	for i, n := range names {
		if n == s {
			return i, nil
		}
	}
	return 0, fmt.Errorf("can not unmarshal %q as %s (want one of %s)", s, kind, strings.Join(names, ", "))
}

func enumName(names []string, v int) string {
	if v < 0 || v >= len(names) {
		return fmt.Sprintf("unknown(%d)", v)
	}
	return names[v]
}

// RetentionPolicy says when messages leave a stream besides its limits.
type RetentionPolicy int

const (
	LimitsPolicy    RetentionPolicy = iota // "limits": only limits remove messages
	InterestPolicy                         // "interest": removed once every consumer acked
	WorkQueuePolicy                        // "workqueue": removed once one consumer acked
)

var retentionNames = []string{"limits", "interest", "workqueue"}

func (p RetentionPolicy) String() string { return enumName(retentionNames, int(p)) }

func (p RetentionPolicy) MarshalJSON() ([]byte, error) {
	return enumMarshal("retention policy", retentionNames, int(p))
}

func (p *RetentionPolicy) UnmarshalJSON(b []byte) error {
	v, err := enumUnmarshal("retention policy", retentionNames, b)
	if err == nil {
		*p = RetentionPolicy(v)
	}
	return err
}

// DiscardPolicy says what a full stream does with a new message.
type DiscardPolicy int

const (
	DiscardOld DiscardPolicy = iota // "old": drop the oldest messages
	DiscardNew                      // "new": refuse the new message
)

var discardNames = []string{"old", "new"}

func (p DiscardPolicy) String() string { return enumName(discardNames, int(p)) }

func (p DiscardPolicy) MarshalJSON() ([]byte, error) {
	return enumMarshal("discard policy", discardNames, int(p))
}

// UnmarshalJSON ignores case ("New" is new), as nats-server does for this
// one enum.
func (p *DiscardPolicy) UnmarshalJSON(b []byte) error {
	v, err := enumUnmarshal("discard policy", discardNames, []byte(strings.ToLower(string(b))))
	if err == nil {
		*p = DiscardPolicy(v)
	}
	return err
}

// StorageType is where a stream keeps its messages.
type StorageType int

const (
	FileStorage   StorageType = iota // "file"
	MemoryStorage                    // "memory"
)

var storageNames = []string{"file", "memory"}

func (t StorageType) String() string { return enumName(storageNames, int(t)) }

func (t StorageType) MarshalJSON() ([]byte, error) {
	return enumMarshal("storage type", storageNames, int(t))
}

func (t *StorageType) UnmarshalJSON(b []byte) error {
	v, err := enumUnmarshal("storage type", storageNames, b)
	if err == nil {
		*t = StorageType(v)
	}
	return err
}

// Compression is a file stream's on-disk compression.
type Compression int

const (
	NoCompression Compression = iota // "none"
	S2Compression                    // "s2"
)

var compressionNames = []string{"none", "s2"}

func (c Compression) String() string { return enumName(compressionNames, int(c)) }

func (c Compression) MarshalJSON() ([]byte, error) {
	return enumMarshal("compression", compressionNames, int(c))
}

// UnmarshalJSON accepts only "none" and "s2"; nats-server refuses even ""
// ("unknown compression algorithm"). Leaving the field out means none.
func (c *Compression) UnmarshalJSON(b []byte) error {
	v, err := enumUnmarshal("compression", compressionNames, b)
	if err == nil {
		*c = Compression(v)
	}
	return err
}

// PersistModeType says when a file stream's writes are flushed relative
// to the publish acknowledgement.
type PersistModeType int

const (
	DefaultPersistMode PersistModeType = iota // "default": flushed before the ack
	AsyncPersistMode                          // "async": the ack may come first
)

var persistNames = []string{"default", "async"}

func (m PersistModeType) String() string { return enumName(persistNames, int(m)) }

func (m PersistModeType) MarshalJSON() ([]byte, error) {
	return enumMarshal("persist mode", persistNames, int(m))
}

// UnmarshalJSON accepts "" as the default mode, as nats-server does.
func (m *PersistModeType) UnmarshalJSON(b []byte) error {
	if string(b) == `""` {
		*m = DefaultPersistMode
		return nil
	}
	v, err := enumUnmarshal("persist mode", persistNames, b)
	if err == nil {
		*m = PersistModeType(v)
	}
	return err
}
