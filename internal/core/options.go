package core

import "github.com/starling-mq/starling/internal/options"

// Options are the server's settings, owned by the options package (their
// defaults, validation and reload rules live there); the engine only reads
// them.
type Options = options.Options

// RandomPort asks the OS for a free port; tests use it.
const RandomPort = options.RandomPort

// LevelTrace is the slog level of protocol traces (-V).
const LevelTrace = options.LevelTrace
