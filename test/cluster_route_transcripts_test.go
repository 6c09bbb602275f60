package test

// The route transcripts (the language is described in
// cluster_route_raw_test.go). Each states what Debian's nats-server
// 2.9.10 does; TestRouteTranscripts checks it against both servers.

// routeTranscripts are the conformance transcripts. setup changes the
// server's configuration (withRouteAuth, withRoutePerms).
var routeTranscripts = []struct {
	name   string
	setup  func(*nodeConfig)
	script string
}{
	{name: "existing interest sent at connect", script: `
c1 connect
c1> SUB foo 1
c1> SUB foo q 2
c1> SUB foo q 3
c1> SUB bar.* 4
c1> SUB baz bq 5
c1> SUB foo 6
c1< (nothing)
r1 connect
r1<* RS+ $G foo
r1<* RS+ $G foo q 2
r1<* RS+ $G bar.*
r1<* RS+ $G baz bq 1
`},
	{name: "interest changes", script: `
r1 connect
r1< (nothing)
c1 connect
c1> SUB foo 1
c1< (nothing)
r1< RS+ $G foo
c2 connect
c2> SUB foo 1
c2< (nothing)
r1< (nothing)
c1> SUB foo q 3
c1< (nothing)
c2> SUB foo q 4
c2< (nothing)
r1< RS+ $G foo q 1
r1< RS+ $G foo q 2
c1> UNSUB 1
c1> UNSUB 3
c1< (nothing)
r1< RS+ $G foo q 1
c2> UNSUB 1
c2< (nothing)
r1< RS- $G foo
c2> SUB foo.* 5
c2< (nothing)
r1< RS+ $G foo.*
c2 close
r1<~ RS- $G foo q
r1<~ RS- $G foo.*
r1< (nothing)
`},
	{name: "auto unsubscribe", script: `
c1 connect
c1> SUB au 9
c1> UNSUB 9 1
c1< (nothing)
r1 connect
r1< RS+ $G au
r1> RMSG $G au 1
r1> x
r1< RS- $G au
c1< MSG au 9 1
c1< x
`},
	{name: "messages to the route", script: `
r1 connect
r1> RS+ $G plain
r1> RS+ $G grp q 1
r1> RS+ $G both
r1> RS+ $G both q 1
r1> RS+ $G multi q1 1
r1> RS+ $G multi q2 1
r1> RS+ $G wc.*
r1> RS+ $G wc.>
r1< (nothing)
c1 connect
c1> PUB plain reply 5
c1> hello
c1> PUB plain 2
c1> hi
c1> PUB grp 2
c1> hi
c1> PUB grp reply 2
c1> hi
c1> PUB both 2
c1> hi
c1> PUB both reply 2
c1> hi
c1> PUB multi 2
c1> hi
c1> PUB none 2
c1> hi
c1> PUB wc.a 2
c1> hi
c1> HPUB plain r 12 14
c1> NATS/1.0
c1>
c1> hi
c1> HPUB grp 12 14
c1> NATS/1.0
c1>
c1> hi
c1> HPUB both r 12 14
c1> NATS/1.0
c1>
c1> hi
c1< (nothing)
r1< RMSG $G plain reply 5
r1< hello
r1< RMSG $G plain 2
r1< hi
r1< RMSG $G grp | q 2
r1< hi
r1< RMSG $G grp + reply q 2
r1< hi
r1< RMSG $G both | q 2
r1< hi
r1< RMSG $G both + reply q 2
r1< hi
r1< RMSG $G multi | q1 q2 2
r1< hi
r1< RMSG $G wc.a 2
r1< hi
r1< HMSG $G plain r 12 14
r1< NATS/1.0
r1<
r1< hi
r1< HMSG $G grp | q 12 14
r1< NATS/1.0
r1<
r1< hi
r1< HMSG $G both + r q 12 14
r1< NATS/1.0
r1<
r1< hi
r1> RS- $G plain
r1> RS+ $G grp q 3
r1< (nothing)
c1> PUB plain 2
c1> hi
c1> PUB grp 2
c1> hi
c1< (nothing)
r1< RMSG $G grp | q 2
r1< hi
`},
	{name: "no responders counts remote interest", script: `
r1 connect
r1> RS+ $G svc q 1
r1< (nothing)
c1 connect
c1> SUB rep 1
c1> PUB svc rep 2
c1> hi
c1< (nothing)
r1< RS+ $G rep
r1< RMSG $G svc + rep q 2
r1< hi
r1> RS- $G svc q
r1< (nothing)
c1> PUB svc rep 2
c1> hi
c1< HMSG rep 1 16 16
c1< NATS/1.0 503
c1<
c1<
r1< (nothing)
`},
	{name: "messages from the route", script: `
c1 connect
c1> SUB foo 1
c1> SUB foo q 2
c1> SUB hdr 3
c1< (nothing)
c2 connect noheaders
c2> SUB hdr 1
c2< (nothing)
r1 connect
r1<* RS+ $G foo
r1<* RS+ $G foo q 1
r1<* RS+ $G hdr
r1> RMSG $G foo reply 5
r1> hello
r1> RMSG $G foo + r q 2
r1> hi
r1> RMSG $G foo | q 2
r1> hi
r1> RMSG $G foo | other 2
r1> hi
r1> RMSG $G foo | other q 2
r1> hi
r1> RMSG $G nomatch 1
r1> x
r1> HMSG $G foo r 12 14
r1> NATS/1.0
r1>
r1> hi
r1> HMSG $G foo + r q 12 14
r1> NATS/1.0
r1>
r1> hi
r1> HMSG $G hdr 18 20
r1> NATS/1.0
r1> A: b
r1>
r1> hi
r1< (nothing)
c1< MSG foo 1 reply 5
c1< hello
c1< MSG foo 1 r 2
c1< hi
c1< MSG foo 2 r 2
c1< hi
c1< MSG foo 1 2
c1< hi
c1< MSG foo 2 2
c1< hi
c1< MSG foo 1 2
c1< hi
c1< MSG foo 1 2
c1< hi
c1< MSG foo 2 2
c1< hi
c1< HMSG foo 1 r 12 14
c1< NATS/1.0
c1<
c1< hi
c1< HMSG foo 1 r 12 14
c1< NATS/1.0
c1<
c1< hi
c1< HMSG foo 2 r 12 14
c1< NATS/1.0
c1<
c1< hi
c1< HMSG hdr 3 18 20
c1< NATS/1.0
c1< A: b
c1<
c1< hi
c2< MSG hdr 1 2
c2< hi
`},
	{name: "one hop", script: `
r2 noinfo
r2 connect
r2> RS+ $G foo
r2< (nothing)
r1 connect
r1> RS+ $G bar
r1> RMSG $G foo 1
r1> x
r1< (nothing)
r2< (nothing)
c1 connect
c1> PUB bar 1
c1> y
c1> PUB foo 1
c1> z
c1< (nothing)
r1< RMSG $G bar 1
r1< y
r2< RMSG $G foo 1
r2< z
`},
	{name: "gossip and client connect_urls", script: `
c1 connect
c1< (nothing)
r1 connect urls
r1< (nothing)
c1< INFO {"connect_urls":["$SELF","127.0.0.1:4001"]}
r2 connect urls
r2< (nothing)
r1< INFO {"server_id":"NPEER2","server_name":"peer2","ip":"nats-route://127.0.0.1:5002/","port":5002,"connect_urls":["127.0.0.1:4002"]}
c1< INFO {"connect_urls":["$SELF","127.0.0.1:4001","127.0.0.1:4002"]}
r2 close
c1<~ INFO {"connect_urls":["$SELF","127.0.0.1:4001"]}
`},
	{name: "other accounts ignored", script: `
c1 connect
c1> SUB foo 1
c1> SUB rep 2
c1< (nothing)
r1 connect
r1<* RS+ $G foo
r1<* RS+ $G rep
r1> RS+ $SYS zz
r1> RS+ ACC zz
r1> RMSG $SYS foo 1
r1> x
r1> RMSG ACC foo 1
r1> y
r1< (nothing)
c1> PUB zz rep 1
c1> z
c1< HMSG rep 2 16 16
c1< NATS/1.0 503
c1<
c1<
r1< (nothing)
`},
	{name: "cluster name mismatch", script: `
r1 connect cluster=OTHER
r1< -ERR 'Rejecting connection, cluster name "OTHER" does not match "T"'
r1 closed
`},
	{name: "client on the route port", script: `
x1 dial
x1> CONNECT {"verbose":false,"pedantic":false,"lang":"go","version":"1.0.0","protocol":1}
x1< -ERR 'attempted to connect to route port'
x1 closed
`},
	{name: "unknown operation", script: `
r1 connect
r1> FOO
r1< -ERR 'Unknown Protocol Operation'
r1 closed
`},
	{name: "client MSG on a route", script: `
r1 connect
r1> MSG foo 1 1
r1< -ERR 'Unknown Protocol Operation'
r1 closed
`},
	{name: "malformed RMSG", script: `
r1 connect
r1> RMSG $G foo
r1 closed
`},
	{name: "error from the peer", script: `
r1 connect
r1> -ERR 'going away'
r1 closed
`},
	{name: "route permissions", setup: withRoutePerms, script: `
c1 connect
c1> SUB private.y 1
c1> SUB pub.y 2
c1< (nothing)
r1 connect
r1< RS+ $G pub.y
r1> RS+ $G secret.x
r1> RS+ $G open.x
r1> RMSG $G private.y 1
r1> x
r1> RMSG $G pub.y 1
r1> y
r1< (nothing)
c1< MSG private.y 1 1
c1< x
c1< MSG pub.y 2 1
c1< y
c1> PUB secret.x 1
c1> a
c1> PUB open.x 1
c1> b
c1< (nothing)
r1< RMSG $G open.x 1
r1< b
c1> SUB private.z 3
c1> SUB secret.z 4
c1< (nothing)
r1< RS+ $G secret.z
`},
	{name: "peer in lame duck mode", script: `
c1 connect
c1< (nothing)
r1 connect urls
r1< (nothing)
c1< INFO {"connect_urls":["$SELF","127.0.0.1:4001"]}
r1> INFO {"server_id":"NPEER1","server_name":"peer1","version":"2.9.10","proto":2,"host":"127.0.0.1","port":5001,"headers":true,"max_payload":1048576,"cluster":"T","connect_urls":["127.0.0.1:4001"],"ldm":true}
r1< (nothing)
c1< INFO {"connect_urls":["$SELF"]}
`},
	{name: "authorization", setup: withRouteAuth, script: `
r1 connect
r1< -ERR 'Authorization Violation'
r1 closed
r2 connect user=ruser pass=wrong
r2< -ERR 'Authorization Violation'
r2 closed
c1 connect
c1> SUB foo 1
c1< (nothing)
r3 connect user=ruser pass=s3cret
r3< RS+ $G foo
r3> RMSG $G foo 1
r3> x
r3< (nothing)
c1< MSG foo 1 1
c1< x
`},
}
