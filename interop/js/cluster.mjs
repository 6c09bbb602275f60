// Drives a three-server NATS cluster with the official JavaScript clients:
// server discovery from one URL, pub/sub and request/reply across servers,
// a queue group spread over two servers, failover when the server of a
// client stops, and replicated JetStream (an R3 stream, a durable pull
// consumer, a KV bucket with three replicas, a stream leader step-down).
//
// Usage: node cluster.mjs URL_A URL_B URL_C
// The client on A is the one that fails over: the program prints
// "stop HOST:PORT" (A's address) and waits for a line "stopped" on stdin
// from whoever runs it. Every step has a deadline; the program exits
// non-zero with the reason on stderr on any mismatch.
import { connect, createInbox } from "@nats-io/transport-node";
import { jetstream, jetstreamManager, AckPolicy } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { createInterface } from "node:readline";

const urls = process.argv.slice(2);
if (urls.length !== 3) {
  console.error("usage: node cluster.mjs URL_A URL_B URL_C");
  process.exit(2);
}
const hostPort = (u) => new URL(u).host;
const fail = (msg) => {
  console.error("cluster: " + msg);
  process.exit(1);
};
const timer = setTimeout(() => fail("timed out"), 170000);
const delay = (ms) => new Promise((r) => setTimeout(r, ms));

// until polls fn (at most every 50 ms) until it returns a truthy value,
// failing after ms; errors count as "not yet" (a group between leaders).
// The distinct errors seen on the way are printed (what a client sees
// during an election is worth reading).
async function until(what, ms, fn) {
  const start = Date.now();
  const seen = new Set();
  let last = "";
  for (;;) {
    try {
      const v = await fn();
      if (v) {
        if (seen.size) console.log(`note: ${what} after ${Date.now() - start} ms, errors: ${[...seen].join("; ")}`);
        return v;
      }
    } catch (e) {
      last = `: ${e.message}`;
      seen.add(e.message);
    }
    if (Date.now() - start > ms) fail(`${what}: not done after ${ms} ms${last}`);
    await delay(50);
  }
}

// sync returns once pub's server knows every subscription sub made
// before the call, and once everything pub published before the call has
// been handed to sub's callbacks: a probe subscribed now on sub answers a
// request from pub only after both, as routes keep order.
async function sync(sub, pub) {
  const probe = createInbox();
  const ps = sub.subscribe(probe, { callback: (_, m) => m.respond() });
  await sub.flush();
  await until("interest barrier", 20000, async () => {
    await pub.request(probe, "", { timeout: 1000 });
    return true;
  });
  ps.unsubscribe();
}

// collect subscribes nc to subject, keeping the payloads in order.
function collect(nc, subject, opts = {}) {
  const got = [];
  nc.subscribe(subject, { ...opts, callback: (err, m) => err || got.push(m.string()) });
  return got;
}

const opts = { timeout: 5000, maxReconnectAttempts: -1, reconnectTimeWait: 250 };
const [ncA, ncB, ncC] = await Promise.all(
  urls.map((u, i) => connect({ ...opts, servers: u, name: "js-" + "ABC"[i] })),
);
let reconnected = false;
(async () => {
  for await (const s of ncA.status()) if (s.type === "reconnect") reconnected = true;
})();

// Discovery: given A's URL only, the client learns B and C from INFO.
await until("discover the cluster", 20000, () => {
  const known = ncA.getServers().map((s) => s.listen);
  return urls.every((u) => known.includes(hostPort(u)));
});
console.log("ok discovered " + ncA.getServers().map((s) => s.listen).join(" "));

// Request/reply and pub/sub from B to A.
ncA.subscribe("cl.echo", { callback: (_, m) => m.respond("echo:" + m.string()) });
await ncA.flush();
await sync(ncA, ncB);
const r = await ncB.request("cl.echo", "hi", { timeout: 5000 });
if (r.string() !== "echo:hi") fail(`reply: ${r.string()}`);
console.log("ok request/reply across servers");

const ps = collect(ncA, "cl.ps");
await sync(ncA, ncB);
for (let i = 0; i < 100; i++) ncB.publish("cl.ps", `${i}`);
await sync(ncA, ncB);
if (ps.join(",") !== [...Array(100).keys()].join(",")) fail(`pub/sub got ${ps.length}: ${ps.slice(0, 10)}`);
console.log("ok pub/sub across servers: 100 messages in order");

// A queue group with members on A and C, published to from B.
const qa = collect(ncA, "cl.q", { queue: "workers" });
const qc = collect(ncC, "cl.q", { queue: "workers" });
await sync(ncA, ncB);
await sync(ncC, ncB);
for (let i = 0; i < 200; i++) ncB.publish("cl.q", `${i}`);
await sync(ncA, ncB);
await sync(ncC, ncB);
const all = [...qa, ...qc];
if (all.length !== 200 || new Set(all).size !== 200) fail(`queue group: ${qa.length} on A + ${qc.length} on C, ${new Set(all).size} distinct`);
if (qa.length === 0 || qc.length === 0) fail(`queue group not spread: ${qa.length} on A, ${qc.length} on C`);
console.log(`ok queue group: 200 messages once each (${qa.length} on A, ${qc.length} on C)`);

// JetStream through B: an R3 stream (the meta group may still be electing).
const jsm = await until("JetStream ready", 30000, () => jetstreamManager(ncB));
const js = jetstream(ncB);
await until("create R3 stream", 30000, () =>
  jsm.streams.add({ name: "CLJS", subjects: ["cljs.>"], num_replicas: 3 }));
await until("R3 stream replicas current", 30000, async () => {
  const c = (await jsm.streams.info("CLJS")).cluster;
  return c?.leader && c.replicas?.length === 2 && c.replicas.every((p) => p.current);
});
for (let i = 1; i <= 10; i++) {
  const ack = await js.publish("cljs.orders", `m${i}`);
  if (ack.stream !== "CLJS" || ack.seq !== i) fail(`ack ${i}: ${JSON.stringify(ack)}`);
}
console.log("ok R3 stream: 10 acknowledged publishes");

await jsm.consumers.add("CLJS", { durable_name: "cw", ack_policy: AckPolicy.Explicit });
const consumer = await js.consumers.get("CLJS", "cw");
const pulled = [];
for (let round = 0; round < 10 && pulled.length < 10; round++) {
  for await (const m of await consumer.fetch({ max_messages: 10 - pulled.length, expires: 2000 })) {
    pulled.push(m.string());
    await m.ackAck();
  }
}
if (pulled.join(",") !== "m1,m2,m3,m4,m5,m6,m7,m8,m9,m10") fail(`pulled: ${pulled}`);
const ci = await consumer.info();
if (ci.num_pending !== 0 || ci.num_ack_pending !== 0) fail(`consumer info: ${JSON.stringify(ci)}`);
console.log("ok durable pull consumer: 10 messages acknowledged");

const kv = await until("create R3 KV", 30000, () => new Kvm(ncB).create("clkv", { replicas: 3 }));
await kv.put("color", "blue");
// A KV bucket allows direct gets, which any replica may answer: one that has
// not applied the put yet finds nothing (eventual consistency, as nats-server
// documents), so a miss is retried.
const e = await until("kv get", 10000, () => kv.get("color"));
if (!e || e.string() !== "blue") fail(`kv get: ${e && e.string()}`);
const ks = await kv.status();
if (ks.replicas !== 3) fail(`kv replicas: ${ks.replicas}`);
console.log("ok KV bucket with 3 replicas: put/get");

// Stream leader step-down: a new leader is elected, publishes go on.
const old = (await jsm.streams.info("CLJS")).cluster.leader;
const sd = await ncB.request("$JS.API.STREAM.LEADER.STEPDOWN.CLJS", "", { timeout: 5000 });
if (!sd.json().success) fail(`step-down: ${sd.string()}`);
await until("new stream leader", 30000, async () => {
  const l = (await jsm.streams.info("CLJS")).cluster?.leader;
  return l && l !== old;
});
const sdAck = await until("publish after step-down", 30000, () => js.publish("cljs.orders", "m11", { msgID: "m11" }));
if (sdAck.seq !== 11) fail(`ack after step-down: ${JSON.stringify(sdAck)}`);
console.log(`ok step-down: leader ${old} replaced, publish acknowledged`);

// Hand the stream's leadership to A (each step-down elects at random), so
// that the failover below also stops the stream leader.
const nameA = ncA.info.server_name;
for (let i = 0; i < 10; i++) {
  const l = await until("stream leader", 30000, async () => (await jsm.streams.info("CLJS")).cluster?.leader);
  if (l === nameA) break;
  await ncB.request("$JS.API.STREAM.LEADER.STEPDOWN.CLJS", "", { timeout: 5000 });
  await until("next stream leader", 30000, async () => {
    const n = (await jsm.streams.info("CLJS")).cluster?.leader;
    return n && n !== l;
  });
}
const leaderAtStop = await until("stream leader before the stop", 30000, async () => (await jsm.streams.info("CLJS")).cluster?.leader);

// Failover: A stops; the client on A reconnects to B or C by itself and
// its subscriptions (re-sent on reconnect) work again.
const after = collect(ncA, "cl.after");
await ncA.flush();
const stopped = ncA.getServer();
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
console.log("stop " + stopped);
const ans = await lines.next();
if (ans.done || ans.value.trim() !== "stopped") fail(`no "stopped" on stdin: ${ans.value}`);
await until("reconnect to another server", 30000, () => reconnected && !ncA.isClosed() && ncA.getServer() !== stopped);
console.log(`ok reconnected from ${stopped} to ${ncA.getServer()}`);
await sync(ncA, ncB);
for (let i = 0; i < 10; i++) ncB.publish("cl.after", `${i}`);
await sync(ncA, ncB);
if (after.join(",") !== "0,1,2,3,4,5,6,7,8,9") fail(`after reconnect got: ${after}`);
await sync(ncA, ncC);
const r2 = await ncC.request("cl.echo", "again", { timeout: 5000 });
if (r2.string() !== "echo:again") fail(`reply after reconnect: ${r2.string()}`);
const foAck = await until("publish with a server down", 30000, () => jetstream(ncA).publish("cljs.orders", "m12", { msgID: "m12" }));
if (foAck.seq !== 12) fail(`ack with a server down: ${JSON.stringify(foAck)}`);
// The durable consumer (replicated with its stream) goes on from where
// it was: the two messages published since the first fetch.
const rest = [];
await until("fetch with a server down", 30000, async () => {
  const c = await jetstream(ncA).consumers.get("CLJS", "cw");
  for await (const m of await c.fetch({ max_messages: 2 - rest.length, expires: 2000 })) {
    rest.push(m.string());
    await m.ackAck();
  }
  return rest.length === 2;
});
if (rest.join(",") !== "m11,m12") fail(`fetched with a server down: ${rest}`);
console.log(`ok subscriptions, replies and R3 publishes work after the failover (stream leader was ${leaderAtStop})`);

await Promise.all([ncA, ncB, ncC].map((nc) => nc.close()));
clearTimeout(timer);
console.log("cluster ok");
process.exit(0);
