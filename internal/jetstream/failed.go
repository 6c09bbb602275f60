package jetstream

import (
	"path/filepath"

	"github.com/starling-mq/starling/internal/jsapi"
)

// failed is the API error for an operation that failed on the server's
// side: the full error goes to the log, the client gets it without file
// paths (jsapi.PathFree).
func (m *jsAccount) failed(id jsapi.ErrorID, err error) *jsapi.ApiError {
	if e, ok := err.(*jsapi.ApiError); ok {
		return e
	}
	m.log.Error("JetStream request failed", "err_code", uint16(id), "err", err)
	return jsapi.NewError(id, jsapi.PathFree(err))
}

// scrubPaths is the last guard on a response's error: the store
// directory never reaches a client, whichever error carried it.
func (m *jsAccount) scrubPaths(e *jsapi.ApiError) {
	dirs := []string{m.cfg.StoreDir}
	if abs, err := filepath.Abs(m.cfg.StoreDir); err == nil && abs != m.cfg.StoreDir {
		dirs = append(dirs, abs)
	}
	if real, err := filepath.EvalSymlinks(m.cfg.StoreDir); err == nil && real != m.cfg.StoreDir {
		dirs = append(dirs, real)
	}
	for _, dir := range dirs {
		if desc, changed := jsapi.ScrubPath(e.Description, filepath.Clean(dir)); changed {
			m.log.Error("JetStream error named a server path", "err", e.Description)
			e.Description = desc
		}
	}
}
