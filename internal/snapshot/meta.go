package snapshot

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/starling-mq/starling/internal/jsapi"
)

// meta.inf files hold nats-server's FileStreamInfo and FileConsumerInfo:
// the configuration's JSON with the creation time (and, for consumers, the
// name) added as capitalised keys.

// StreamMeta is the stream's meta.inf. Only the name and creation time
// are read back: a restore takes its configuration from the request, as
// nats-server does, so a configuration field this server does not know
// never stops a restore.
type StreamMeta struct {
	Created time.Time
	Name    string
}

type streamMetaJSON struct {
	Created time.Time `json:"Created"`
	jsapi.StreamConfig
}

// EncodeStreamMeta returns meta.inf for cfg.
func EncodeStreamMeta(cfg jsapi.StreamConfig, created time.Time) ([]byte, error) {
	return json.Marshal(streamMetaJSON{Created: created.UTC(), StreamConfig: cfg})
}

// DecodeStreamMeta reads a stream's meta.inf.
func DecodeStreamMeta(b []byte) (*StreamMeta, error) {
	var m struct {
		Created time.Time `json:"Created"`
		Name    string    `json:"name"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, corrupt("meta.inf: %v", err)
	}
	if m.Name == "" {
		return nil, corrupt("meta.inf names no stream")
	}
	return &StreamMeta{Created: m.Created, Name: m.Name}, nil
}

// ConsumerMeta is a consumer's meta.inf.
type ConsumerMeta struct {
	Created time.Time
	Name    string
	Config  jsapi.ConsumerConfig
}

type consumerMetaJSON struct {
	Created time.Time `json:"Created"`
	Name    string    `json:"Name"`
	jsapi.ConsumerConfig
}

// EncodeConsumerMeta returns a consumer's meta.inf.
func EncodeConsumerMeta(m *ConsumerMeta) ([]byte, error) {
	return json.Marshal(consumerMetaJSON{Created: m.Created.UTC(), Name: m.Name, ConsumerConfig: m.Config})
}

// DecodeConsumerMeta reads a consumer's meta.inf.
func DecodeConsumerMeta(b []byte) (*ConsumerMeta, error) {
	var m consumerMetaJSON
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, corrupt("consumer meta.inf: %v", err)
	}
	return &ConsumerMeta{Created: m.Created, Name: m.Name, Config: m.ConsumerConfig}, nil
}

// checkSum compares a meta.sum with the checksum of its meta.inf.
func checkSum(what string, sum, want []byte) error {
	if !bytes.Equal(bytes.TrimSpace(sum), want) {
		return fmt.Errorf("%w: %s does not match its meta.sum", ErrCorrupt, what)
	}
	return nil
}
