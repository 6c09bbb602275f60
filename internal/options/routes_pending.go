package options

import "errors"

// ErrClusterNotImplemented is the refusal of a configuration that asks for
// clustering while the engine has no routes.
var ErrClusterNotImplemented = errors.New("cluster: routes are not implemented yet: " +
	"remove the cluster port (cluster { listen/port }, --cluster) and routes (--routes) to run a single server")

// refuseClusteringUntilRoutesExist is the one place that keeps a server
// from starting (or reloading) with clustering on, until internal/core runs
// routes. Every cluster setting is parsed and validated meanwhile, so the
// configuration is checked in full. When routes land, delete this file, its
// call in Validate, TestClusteringRefusedUntilRoutesExist (and the tests
// that expect the refusal: grep ErrClusterNotImplemented and "not
// implemented yet"), and the clustering paragraph of the --help text
// (internal/servercmd/usage.go).
func (o *Options) refuseClusteringUntilRoutesExist() error {
	if o.Cluster.Enabled() || len(o.Cluster.Routes) > 0 {
		return ErrClusterNotImplemented
	}
	return nil
}
