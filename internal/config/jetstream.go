package config

import (
	"strings"

	"github.com/starling-mq/starling/internal/conf"
)

// jetstream maps the jetstream key: true/false, "enabled"/"disabled", or a
// block.
func (d *decoder) jetstream(v *conf.Value) {
	o := &d.cfg.Opts
	switch v.Kind {
	case conf.KindBool:
		// The form -js gives, through the same setter.
		d.apply(settingFor["jetstream"], "jetstream", v)
		return
	case conf.KindString:
		switch s := strings.ToLower(d.str(v)); s {
		case "enabled", "enable":
			o.JetStream = true
		case "disabled", "disable":
			o.JetStream = false
		default:
			d.errorf(v.Pos, "expected 'enabled' or 'disabled' for jetstream, got %q", s)
		}
		return
	}
	m, err := v.AsMap()
	if err != nil {
		d.fail(err)
		return
	}
	o.JetStream = true
	for _, e := range m.Entries() {
		mv := e.Value
		switch strings.ToLower(e.Key) {
		case "enabled", "enable":
			o.JetStream = d.boolean(mv)
		case "disabled", "disable":
			o.JetStream = !d.boolean(mv)
		case "store", "store_dir", "storedir":
			if o.StoreDir != "" {
				d.errorf(mv.Pos, "duplicate 'store_dir' configuration")
			}
			o.StoreDir = d.str(mv)
		case "sync", "sync_interval":
			if mv.Kind == conf.KindString && strings.EqualFold(d.str(mv), "always") {
				o.SyncInterval = 0
				continue
			}
			o.SyncInterval = d.duration(mv, "sync_interval")
			d.warnf(mv.Pos, "sync_interval of %v: acknowledged messages can be lost on power loss; the default (always) syncs before acknowledging", o.SyncInterval)
		case "max_memory_store", "max_mem_store", "max_mem":
			o.JetStreamMaxMemory = d.storageSize(mv, "max_memory_store")
		case "max_file_store", "max_file":
			o.JetStreamMaxStore = d.storageSize(mv, "max_file_store")
		case "domain":
			o.JetStreamDomain = d.str(mv)
		case "max_open_files":
			o.JetStreamMaxOpenFiles = d.positive(mv, "max_open_files")
		case "compact_entries":
			o.JetStreamCompactEntries = d.positive(mv, "compact_entries")
		default:
			d.unknown(&jetstreamBlock, e)
		}
	}
}

func (d *decoder) storageSize(v *conf.Value, name string) int64 {
	n, err := v.StorageSize()
	if err != nil {
		d.errorf(v.Pos, "%s %v", name, err)
		return 0
	}
	if n < 0 {
		d.errorf(v.Pos, "%s must not be negative", name)
	}
	return n
}
