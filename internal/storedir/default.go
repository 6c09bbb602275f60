// Package storedir deals with the JetStream store directory as a whole:
// where it is when none is configured, which file system it is on, and which
// process owns it. It knows nothing of what is stored inside.
package storedir

import (
	"os"
	"path/filepath"
	"strings"
)

// Default returns where JetStream keeps its data when no store directory is
// configured, or "" when the environment names no suitable place.
//
// nats-server defaults to a directory under the OS temporary directory,
// which many systems empty at boot (systemd-tmpfiles, tmpfs /tmp): a server
// "safe by default" would lose every stream on the next reboot. Starling
// uses the directory meant for state that must survive restarts instead:
//
//  1. $STATE_DIRECTORY, set by systemd for a unit with StateDirectory=
//     (usually /var/lib/<name>);
//  2. $XDG_STATE_HOME/starling;
//  3. $HOME/.local/state/starling, the XDG default of 2.
//
// JetStream keeps its data in the "jetstream" directory inside it, as
// nats-server does inside its store_dir.
//
// Relative values are ignored, as the XDG specification asks: a store that
// moves with the working directory is the problem being avoided.
func Default() string { return defaultFrom(os.Getenv) }

// defaultFrom is Default with the environment injected, for tests.
func defaultFrom(getenv func(string) string) string {
	if v := getenv("STATE_DIRECTORY"); v != "" {
		// systemd joins several directories with ':'; the first is the
		// unit's own.
		first, _, _ := strings.Cut(v, ":")
		if filepath.IsAbs(first) {
			return first
		}
	}
	if v := getenv("XDG_STATE_HOME"); filepath.IsAbs(v) {
		return filepath.Join(v, "starling")
	}
	if v := getenv("HOME"); filepath.IsAbs(v) {
		return filepath.Join(v, ".local", "state", "starling")
	}
	return ""
}

// DefaultHelp explains Default in one line, for errors and help texts.
const DefaultHelp = "$STATE_DIRECTORY, else $XDG_STATE_HOME/starling, else ~/.local/state/starling"
