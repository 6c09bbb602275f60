// Package jsapi holds the JetStream API's wire types ($JS.API.…): the JSON
// that requests and responses carry, shaped exactly as nats-server marshals
// them so the official clients decode them unchanged, the error catalog,
// and the pure validation of stream configurations. It does no I/O.
package jsapi

import (
	"encoding/json"
	"fmt"
)

// enumJSON marshals a small enum as one of its names and refuses anything
// else, so a typo in a request is an error rather than a default.
func enumMarshal(names []string, v int) ([]byte, error) {
	if v < 0 || v >= len(names) {
		return nil, fmt.Errorf("jsapi: invalid enum value %d", v)
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
	return 0, fmt.Errorf("can not unmarshal %q", s)
}

// RetentionPolicy says when messages leave a stream besides limits.
type RetentionPolicy int

const (
	LimitsPolicy RetentionPolicy = iota
	InterestPolicy
	WorkQueuePolicy
)

var retentionNames = []string{"limits", "interest", "workqueue"}

func (p RetentionPolicy) String() string { return name(retentionNames, int(p)) }
func (p RetentionPolicy) MarshalJSON() ([]byte, error) {
	return enumMarshal(retentionNames, int(p))
}
func (p *RetentionPolicy) UnmarshalJSON(b []byte) error {
	v, err := enumUnmarshal("retention policy", retentionNames, b)
	*p = RetentionPolicy(v)
	return err
}

// DiscardPolicy says what a full stream does with a new message.
type DiscardPolicy int

const (
	DiscardOld DiscardPolicy = iota
	DiscardNew
)

var discardNames = []string{"old", "new"}

func (p DiscardPolicy) String() string { return name(discardNames, int(p)) }
func (p DiscardPolicy) MarshalJSON() ([]byte, error) {
	return enumMarshal(discardNames, int(p))
}
func (p *DiscardPolicy) UnmarshalJSON(b []byte) error {
	v, err := enumUnmarshal("discard policy", discardNames, b)
	*p = DiscardPolicy(v)
	return err
}

// StorageType is where a stream keeps its messages.
type StorageType int

const (
	FileStorage StorageType = iota
	MemoryStorage
)

var storageNames = []string{"file", "memory"}

func (t StorageType) String() string { return name(storageNames, int(t)) }
func (t StorageType) MarshalJSON() ([]byte, error) {
	return enumMarshal(storageNames, int(t))
}
func (t *StorageType) UnmarshalJSON(b []byte) error {
	v, err := enumUnmarshal("storage type", storageNames, b)
	*t = StorageType(v)
	return err
}

// Compression is a file stream's on-disk compression.
type Compression int

const (
	NoCompression Compression = iota
	S2Compression
)

var compressionNames = []string{"none", "s2"}

func (c Compression) String() string { return name(compressionNames, int(c)) }
func (c Compression) MarshalJSON() ([]byte, error) {
	return enumMarshal(compressionNames, int(c))
}

// UnmarshalJSON accepts "" as none, as nats-server does.
func (c *Compression) UnmarshalJSON(b []byte) error {
	if string(b) == `""` {
		*c = NoCompression
		return nil
	}
	v, err := enumUnmarshal("compression", compressionNames, b)
	*c = Compression(v)
	return err
}

func name(names []string, v int) string {
	if v < 0 || v >= len(names) {
		return fmt.Sprintf("unknown(%d)", v)
	}
	return names[v]
}
