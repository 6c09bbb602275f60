package filestore

import (
	"os"
	"strings"
	"sync"
)

// machineBoot identifies the machine's current boot ("" when the platform
// does not say). The high-water file records it: a slot written during the
// same boot was still in the operating system's cache when the process
// ended, so it is exact; after a reboot it may be older than the log.
var machineBoot = sync.OnceValue(func() string {
	b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
})
