// Package resource holds the resource tests: each starts a real starling
// process under tight limits (descriptors, memory) and drives it with a
// workload that used to exhaust it, checking that memory stays bounded
// and nothing acknowledged or deliverable is lost. They are bounded in
// time and skipped under -short.
package resource
