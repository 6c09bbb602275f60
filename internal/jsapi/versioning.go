package jsapi

import (
	"maps"
	"strconv"
)

// Asset versioning, as nats-server 2.11 has it: a stream's or consumer's
// stored metadata names the API level its configuration needs
// (MetaRequiredLevel), so a server too old for it can refuse it; replies
// add the answering server's version and API level, which are never
// stored (a client that sends a configuration back, as `nats stream edit`
// does, has them removed again).

// ConsumerRequiredAPILevel is the API level a consumer configuration
// needs: 1 for a pause deadline or priority groups, else 0.
func ConsumerRequiredAPILevel(cfg ConsumerConfig) int {
	if (cfg.PauseUntil != nil && !cfg.PauseUntil.IsZero()) ||
		cfg.PriorityPolicy != PriorityNone ||
		cfg.PinnedTTL != 0 || len(cfg.PriorityGroups) > 0 {
		return 1
	}
	return 0
}

// StoredMetadata returns meta without the reply-only keys and with the
// required level set: what a configuration stores.
func StoredMetadata(meta map[string]string, level int) map[string]string {
	out := make(map[string]string, len(meta)+1)
	for k, v := range meta {
		if k != MetaServerVersion && k != MetaServerLevel {
			out[k] = v
		}
	}
	out[MetaRequiredLevel] = strconv.Itoa(level)
	return out
}

// ReplyMetadata returns a copy of meta with the answering server's
// version and API level added: what a reply shows.
func ReplyMetadata(meta map[string]string, version string, level int) map[string]string {
	out := make(map[string]string, len(meta)+2)
	maps.Copy(out, meta)
	out[MetaServerVersion] = version
	out[MetaServerLevel] = strconv.Itoa(level)
	return out
}

// WithRequiredLevelOf returns meta with the required level taken from
// prev (or removed when prev has none), so a request can be compared with
// an existing configuration whatever level either was stored with, as
// nats-server compares them.
func WithRequiredLevelOf(meta, prev map[string]string) map[string]string {
	out := maps.Clone(meta)
	if out == nil {
		out = map[string]string{}
	}
	if v, ok := prev[MetaRequiredLevel]; ok {
		out[MetaRequiredLevel] = v
	} else {
		delete(out, MetaRequiredLevel)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}
