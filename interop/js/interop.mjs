// Drives a Starling server with the official NATS JavaScript clients:
// publish with acks, a durable pull consumer, and KV put/get/watch.
// Usage: node interop.mjs nats://127.0.0.1:4222
// Exits non-zero, with the reason on stderr, on any mismatch.
import { connect } from "@nats-io/transport-node";
import { jetstream, jetstreamManager, AckPolicy } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";

const url = process.argv[2];
const fail = (msg) => {
  console.error("interop: " + msg);
  process.exit(1);
};
const timer = setTimeout(() => fail("timed out"), 20000);

const nc = await connect({ servers: url, timeout: 5000 });
const jsm = await jetstreamManager(nc);
const js = jetstream(nc);

// Streams and publish with acks.
await jsm.streams.add({ name: "JSI", subjects: ["jsi.>"] });
for (let i = 1; i <= 5; i++) {
  const ack = await js.publish("jsi.orders", `order ${i}`, { msgID: `id-${i}` });
  if (ack.stream !== "JSI" || ack.seq !== i) fail(`ack ${i}: ${JSON.stringify(ack)}`);
}
const dup = await js.publish("jsi.orders", "order 1", { msgID: "id-1" });
if (!dup.duplicate || dup.seq !== 1) fail(`duplicate: ${JSON.stringify(dup)}`);
const si = await jsm.streams.info("JSI");
if (si.state.messages !== 5) fail(`stream info: ${JSON.stringify(si.state)}`);

// A durable pull consumer with explicit acks.
await jsm.consumers.add("JSI", { durable_name: "worker", ack_policy: AckPolicy.Explicit });
const consumer = await js.consumers.get("JSI", "worker");
const got = [];
const iter = await consumer.fetch({ max_messages: 5, expires: 3000 });
for await (const m of iter) {
  got.push(m.string());
  m.ack();
}
if (got.join(",") !== "order 1,order 2,order 3,order 4,order 5") fail(`fetched: ${got}`);
const ci = await consumer.info();
if (ci.num_pending !== 0 || ci.delivered.stream_seq !== 5) fail(`consumer info: ${JSON.stringify(ci)}`);

// Key-Value: put, get, watch.
const kvm = new Kvm(nc);
const kv = await kvm.create("jsicfg");
await kv.put("color", "blue");
const e = await kv.get("color");
if (!e || e.string() !== "blue") fail(`kv get: ${e && e.string()}`);
const watch = await kv.watch({ key: "color" });
const seen = [];
const done = (async () => {
  for await (const u of watch) {
    seen.push(u.string());
    if (seen.includes("green")) break;
  }
})();
await kv.put("color", "green");
await done;
if (!seen.includes("green")) fail(`kv watch: ${seen}`);

await nc.drain();
clearTimeout(timer);
console.log("interop ok");
