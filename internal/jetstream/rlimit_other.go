//go:build !unix

package jetstream

// descriptorLimit is unknown on this platform.
func descriptorLimit() uint64 { return 0 }
