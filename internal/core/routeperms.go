package core

import (
	"github.com/starling-mq/starling/internal/auth"
	"github.com/starling-mq/starling/internal/options"
)

// routePerms are the cluster's permissions as one route applies them, as
// nats-server does: import is what this server asks the cluster for (the
// interest it announces), export what it lets peers ask for (the interest
// of theirs it records, and so the messages it sends). Routed messages are
// not filtered on arrival: a peer sends only what was asked for. nil
// checkers allow everything.
type routePerms struct {
	importSubs *auth.Checker // our RS+ that may go out
	exportSubs *auth.Checker // the peer's RS+ we record
}

func newRoutePerms(p *options.RoutePermissions) routePerms {
	if p == nil {
		return routePerms{}
	}
	var rp routePerms
	if p.Import != nil {
		rp.importSubs = auth.NewChecker(&auth.Permissions{Subscribe: p.Import})
	}
	if p.Export != nil {
		rp.exportSubs = auth.NewChecker(&auth.Permissions{Subscribe: p.Export})
	}
	return rp
}

func (p *routePerms) canImportSub(subj string) bool { return p.importSubs.CanSubscribe(subj, "") }
func (p *routePerms) canExportSub(subj string) bool { return p.exportSubs.CanSubscribe(subj, "") }
