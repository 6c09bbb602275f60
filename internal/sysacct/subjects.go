package sysacct

import "strings"

// Subjects, as nats-server names them.
const (
	reqPrefix      = "$SYS.REQ."
	serverPing     = "$SYS.REQ.SERVER.PING"   // STATSZ, the old way
	serverPingAll  = "$SYS.REQ.SERVER.PING.*" // every server answers
	accountReqs    = "$SYS.REQ.ACCOUNT.*.*"   // <acc>.<kind>, or PING.<kind>
	userInfoReqs   = "$SYS.REQ.USER.*.INFO"   // what USER.INFO imports map to
	userInfo       = "$SYS.REQ.USER.INFO"     // a user's own question
	accountPingFmt = "$SYS.REQ.ACCOUNT.PING." // + CONNZ or STATZ
	accountReqFmt  = "$SYS.REQ.ACCOUNT."      // + <acc>.<kind>
	serverPingFmt  = "$SYS.REQ.SERVER.PING."  // + kind
	userReqFmt     = "$SYS.REQ.USER."         // + <acc>.INFO
	connectFmt     = "$SYS.ACCOUNT.%s.CONNECT"
	disconnectFmt  = "$SYS.ACCOUNT.%s.DISCONNECT"
	authErrFmt     = "$SYS.SERVER.%s.CLIENT.AUTH.ERR"
	statszFmt      = "$SYS.SERVER.%s.STATSZ"
	shutdownFmt    = "$SYS.SERVER.%s.SHUTDOWN"
	lameDuckFmt    = "$SYS.SERVER.%s.LAMEDUCK"
	serverDirect   = "$SYS.REQ.SERVER.%s.*"
	accountPingTok = "PING"
)

// scope is what a request is about.
type scope uint8

const (
	scopeServer  scope = iota + 1 // this server
	scopeAccount                  // one account
	scopeUser                     // the requesting user
)

// request is a parsed request subject.
type request struct {
	scope   scope
	kind    string // STATSZ, CONNZ, …, INFO
	account string // scopeAccount: the account, or "PING" for the requester's
	direct  bool   // addressed to this server by id (RELOAD, KICK, LDM allowed)
}

// serverKinds are answered for $SYS.REQ.SERVER.PING.<kind> and .<id>.<kind>.
var serverKinds = map[string]bool{
	"STATSZ": true, "VARZ": true, "CONNZ": true, "SUBSZ": true, "ROUTEZ": true,
	"JSZ": true, "HEALTHZ": true, "ACCOUNTZ": true, "IDZ": true,
}

// controlKinds act on this server; only a request naming its id may.
var controlKinds = map[string]bool{"RELOAD": true, "KICK": true, "LDM": true}

// accountKinds are answered for $SYS.REQ.ACCOUNT.<acc>.<kind>.
var accountKinds = map[string]bool{"CONNZ": true, "SUBSZ": true, "JSZ": true, "INFO": true, "STATZ": true}

// accountPingKinds are answered for $SYS.REQ.ACCOUNT.PING.<kind>.
var accountPingKinds = map[string]bool{"CONNZ": true, "STATZ": true}

// parseRequest reads a request subject that reached one of our
// subscriptions; ok is false for one nobody serves (the requester then
// gets "no responders", as from nats-server).
func parseRequest(subj, serverID string) (request, bool) {
	if subj == serverPing {
		return request{scope: scopeServer, kind: "STATSZ"}, true
	}
	rest, found := strings.CutPrefix(subj, reqPrefix)
	if !found {
		return request{}, false
	}
	toks := strings.Split(rest, ".")
	if len(toks) != 3 {
		return request{}, false
	}
	switch toks[0] {
	case "SERVER":
		direct := toks[1] == serverID
		if toks[1] != "PING" && !direct {
			return request{}, false
		}
		if serverKinds[toks[2]] || (direct && controlKinds[toks[2]]) {
			return request{scope: scopeServer, kind: toks[2], direct: direct}, true
		}
	case "ACCOUNT":
		if toks[1] == accountPingTok {
			if accountPingKinds[toks[2]] {
				return request{scope: scopeAccount, kind: toks[2], account: accountPingTok}, true
			}
		} else if accountKinds[toks[2]] {
			return request{scope: scopeAccount, kind: toks[2], account: toks[1]}, true
		}
	case "USER":
		if toks[2] == "INFO" {
			return request{scope: scopeUser, kind: "INFO", account: toks[1]}, true
		}
	}
	return request{}, false
}
