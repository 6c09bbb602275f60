package core

import (
	"github.com/starling-mq/starling/internal/auth"
	"github.com/starling-mq/starling/internal/options"
)

// routePerms are the cluster's permissions as one route applies them:
// import is what this server takes from the cluster (the interest it
// announces, the messages it accepts), export what it lets peers ask for
// (the interest of theirs it records, and so the messages it sends). nil
// checkers allow everything.
type routePerms struct {
	importSubs *auth.Checker // our RS+ that may go out
	importMsgs *auth.Checker // routed messages we accept
	exportSubs *auth.Checker // the peer's RS+ we record
}

func newRoutePerms(p *options.RoutePermissions) routePerms {
	if p == nil {
		return routePerms{}
	}
	var rp routePerms
	if p.Import != nil {
		rp.importSubs = auth.NewChecker(&auth.Permissions{Subscribe: p.Import})
		rp.importMsgs = auth.NewChecker(&auth.Permissions{Publish: p.Import})
	}
	if p.Export != nil {
		rp.exportSubs = auth.NewChecker(&auth.Permissions{Subscribe: p.Export})
	}
	return rp
}

func (p *routePerms) canImportSub(subj string) bool { return p.importSubs.CanSubscribe(subj, "") }
func (p *routePerms) canImportMsg(subj string) bool { return p.importMsgs.CanPublish(subj) }
func (p *routePerms) canExportSub(subj string) bool { return p.exportSubs.CanSubscribe(subj, "") }
