/*
 * cluster.c drives a three-server NATS cluster with the official C client
 * (nats.c): server discovery from one URL, pub/sub and request/reply
 * across servers, a queue group spread over two servers, replicated
 * JetStream (an R3 stream, a durable pull consumer, a KV bucket with three
 * replicas), and failover when the server of a client stops.
 *
 * Usage: ./cluster URL_A URL_B URL_C
 * The connection to A is the one that fails over: the program prints
 * "stop HOST:PORT" (A's address) and waits for a line "stopped" on stdin
 * from whoever runs it. Every wait is bounded; it exits non-zero with the
 * reason on stderr on the first failure, and prints "cluster ok" at the end.
 *
 * Build: cc -o cluster cluster.c -lnats
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <nats/nats.h>

#define WAIT_MS 30000 /* a bound for waits that span an election */

static void
die(const char *what, natsStatus s)
{
    fprintf(stderr, "FAIL: %s: %s\n", what, natsStatus_GetText(s));
    nats_PrintLastErrorStack(stderr);
    exit(1);
}

#define OK(call, what)                \
    do {                              \
        natsStatus s_ = (call);       \
        if (s_ != NATS_OK)            \
            die(what, s_);            \
    } while (0)

#define CHECK(cond, ...)                           \
    do {                                           \
        if (!(cond)) {                             \
            fprintf(stderr, "FAIL: " __VA_ARGS__); \
            fprintf(stderr, "\n");                 \
            exit(1);                               \
        }                                          \
    } while (0)

/* hostport is the host:port part of a nats:// URL (in place). */
static const char *
hostport(const char *url)
{
    const char *p = strstr(url, "://");
    return p ? p + 3 : url;
}

static void
respond(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    (void)sub;
    char reply[128];
    snprintf(reply, sizeof(reply), "%s%.*s", closure ? (const char *)closure : "",
             natsMsg_GetDataLength(msg), natsMsg_GetData(msg));
    natsConnection_PublishString(nc, natsMsg_GetReply(msg), reply);
    natsMsg_Destroy(msg);
}

/*
 * sync returns once pub's server knows every subscription sub made before
 * the call, and once everything pub published before the call is queued
 * on sub: a probe subscribed now on sub answers a request from pub only
 * after both, as routes keep order.
 */
static void
sync_interest(natsConnection *sub, natsConnection *pub)
{
    natsSubscription *probe = NULL;
    natsMsg *reply = NULL;
    char inbox[64];
    natsStatus s;

    snprintf(inbox, sizeof(inbox), "_PROBE.%lld", (long long)nats_NowInNanoSeconds());
    OK(natsConnection_Subscribe(&probe, sub, inbox, respond, NULL), "probe subscribe");
    OK(natsConnection_Flush(sub), "probe flush");
    for (int64_t end = nats_Now() + 20000;;) {
        s = natsConnection_RequestString(&reply, pub, inbox, "", 1000);
        if (s == NATS_OK)
            break;
        if (nats_Now() > end)
            die("interest barrier", s);
        nats_Sleep(20);
    }
    natsMsg_Destroy(reply);
    natsSubscription_Destroy(probe);
}

static natsConnection *
dial(const char *url)
{
    natsOptions *opts = NULL;
    natsConnection *nc = NULL;

    OK(natsOptions_Create(&opts), "options");
    OK(natsOptions_SetURL(opts, url), "url");
    OK(natsOptions_SetTimeout(opts, 5000), "timeout");
    OK(natsOptions_SetMaxReconnect(opts, 120), "max reconnect");
    OK(natsOptions_SetReconnectWait(opts, 250), "reconnect wait");
    OK(natsConnection_Connect(&nc, opts), url);
    natsOptions_Destroy(opts);
    return nc;
}

static int
knows_all(natsConnection *nc, char **urls)
{
    char **servers = NULL;
    int count = 0, found = 0;

    if (natsConnection_GetServers(nc, &servers, &count) != NATS_OK)
        return 0;
    for (int u = 0; u < 3; u++)
        for (int i = 0; i < count; i++)
            if (strcmp(hostport(servers[i]), hostport(urls[u])) == 0) {
                found++;
                break;
            }
    for (int i = 0; i < count; i++)
        free(servers[i]);
    free(servers);
    return found == 3;
}

/* expect reads n messages "0".."n-1" in order from a synchronous sub. */
static void
expect(natsSubscription *sub, int n, const char *what)
{
    natsMsg *msg = NULL;
    char want[16];

    for (int i = 0; i < n; i++) {
        OK(natsSubscription_NextMsg(&msg, sub, 5000), what);
        snprintf(want, sizeof(want), "%d", i);
        CHECK(natsMsg_GetDataLength(msg) == (int)strlen(want) &&
                  memcmp(natsMsg_GetData(msg), want, strlen(want)) == 0,
              "%s: message %d out of order", what, i);
        natsMsg_Destroy(msg);
    }
}

static void
publish_n(natsConnection *nc, const char *subj, int n)
{
    char data[16];
    for (int i = 0; i < n; i++) {
        snprintf(data, sizeof(data), "%d", i);
        OK(natsConnection_PublishString(nc, subj, data), "publish");
    }
    OK(natsConnection_Flush(nc), "flush");
}

/* drain_queue counts the messages queued on sub, marking them in seen. */
static int
drain_queue(natsSubscription *sub, int *seen, int n)
{
    uint64_t queued = 0;
    natsMsg *msg = NULL;
    char buf[16];

    OK(natsSubscription_QueuedMsgs(sub, &queued), "queued messages");
    for (uint64_t i = 0; i < queued; i++) {
        OK(natsSubscription_NextMsg(&msg, sub, 1000), "queue member message");
        snprintf(buf, sizeof(buf), "%.*s", natsMsg_GetDataLength(msg), natsMsg_GetData(msg));
        int v = atoi(buf);
        if (v >= 0 && v < n)
            seen[v]++;
        natsMsg_Destroy(msg);
    }
    return (int)queued;
}

static void
core(natsConnection *a, natsConnection *b, natsConnection *c)
{
    natsSubscription *svc = NULL, *ps = NULL, *qa = NULL, *qc = NULL;
    natsMsg *reply = NULL;
    int seen[200] = {0};

    OK(natsConnection_Subscribe(&svc, a, "cl.echo", respond, "echo:"), "subscribe service");
    sync_interest(a, b);
    OK(natsConnection_RequestString(&reply, b, "cl.echo", "hi", 5000), "request");
    CHECK(natsMsg_GetDataLength(reply) == 7 && memcmp(natsMsg_GetData(reply), "echo:hi", 7) == 0, "reply");
    natsMsg_Destroy(reply);
    printf("ok request/reply across servers\n");

    OK(natsConnection_SubscribeSync(&ps, a, "cl.ps"), "subscribe");
    sync_interest(a, b);
    publish_n(b, "cl.ps", 100);
    sync_interest(a, b);
    expect(ps, 100, "pub/sub");
    printf("ok pub/sub across servers: 100 messages in order\n");

    OK(natsConnection_QueueSubscribeSync(&qa, a, "cl.q", "workers"), "queue subscribe");
    OK(natsConnection_QueueSubscribeSync(&qc, c, "cl.q", "workers"), "queue subscribe");
    sync_interest(a, b);
    sync_interest(c, b);
    publish_n(b, "cl.q", 200);
    sync_interest(a, b);
    sync_interest(c, b);
    int na = drain_queue(qa, seen, 200), nc = drain_queue(qc, seen, 200);
    for (int i = 0; i < 200; i++)
        CHECK(seen[i] == 1, "queue group: message %d delivered %d times (%d on A, %d on C)", i, seen[i], na, nc);
    CHECK(na > 0 && nc > 0, "queue group not spread: %d on A, %d on C", na, nc);
    printf("ok queue group: 200 messages once each (%d on A, %d on C)\n", na, nc);

    natsSubscription_Destroy(ps);
    natsSubscription_Destroy(qa);
    natsSubscription_Destroy(qc);
    /* svc stays: it answers again after the failover */
    (void)svc;
}

/* replicas_current says whether the stream has a leader and two current followers. */
static int
replicas_current(jsCtx *js, const char *name)
{
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    int ok = 0;

    if (js_GetStreamInfo(&si, js, name, NULL, &jerr) != NATS_OK)
        return 0;
    jsClusterInfo *ci = si->Cluster;
    if (ci && ci->Leader && ci->Leader[0] && ci->ReplicasLen == 2)
        ok = ci->Replicas[0]->Current && ci->Replicas[1]->Current;
    jsStreamInfo_Destroy(si);
    return ok;
}

static void
jetstream(natsConnection *b)
{
    jsCtx *js = NULL;
    jsStreamConfig cfg;
    jsStreamInfo *si = NULL;
    jsPubAck *pa = NULL;
    jsErrCode jerr = 0;
    natsSubscription *sub = NULL;
    natsMsgList list = {0};
    jsConsumerInfo *ci = NULL;
    kvConfig kvc;
    kvStore *kv = NULL;
    kvEntry *e = NULL;
    kvStatus *ks = NULL;
    uint64_t rev = 0;
    const char *subjects[] = {"cljs.>"};
    char data[16];
    natsStatus s;

    OK(natsConnection_JetStream(&js, b, NULL), "jetstream context");
    jsStreamConfig_Init(&cfg);
    cfg.Name = "CLJS";
    cfg.Subjects = subjects;
    cfg.SubjectsLen = 1;
    cfg.Storage = js_FileStorage;
    cfg.Replicas = 3;
    /* The meta group may still be electing right after the start. */
    for (int64_t end = nats_Now() + WAIT_MS;;) {
        s = js_AddStream(&si, js, &cfg, NULL, &jerr);
        if (s == NATS_OK)
            break;
        if (nats_Now() > end)
            die("add R3 stream", s);
        nats_Sleep(100);
    }
    jsStreamInfo_Destroy(si);
    for (int64_t end = nats_Now() + WAIT_MS; !replicas_current(js, "CLJS"); nats_Sleep(50))
        CHECK(nats_Now() < end, "R3 stream replicas not current after %d ms", WAIT_MS);

    for (int i = 1; i <= 10; i++) {
        snprintf(data, sizeof(data), "m%d", i);
        OK(js_Publish(&pa, js, "cljs.orders", data, (int)strlen(data), NULL, &jerr), "js publish");
        CHECK(pa->Sequence == (uint64_t)i && strcmp(pa->Stream, "CLJS") == 0,
              "ack %d: stream %s sequence %llu", i, pa->Stream, (unsigned long long)pa->Sequence);
        jsPubAck_Destroy(pa);
        pa = NULL;
    }
    printf("ok R3 stream: 10 acknowledged publishes\n");

    OK(js_PullSubscribe(&sub, js, "cljs.>", "cw", NULL, NULL, &jerr), "pull subscribe");
    int got = 0;
    for (int round = 0; round < 10 && got < 10; round++) {
        s = natsSubscription_Fetch(&list, sub, 10 - got, 2000, &jerr);
        if (s == NATS_TIMEOUT)
            continue;
        OK(s, "fetch");
        for (int i = 0; i < list.Count; i++) {
            got++;
            snprintf(data, sizeof(data), "m%d", got);
            CHECK(natsMsg_GetDataLength(list.Msgs[i]) == (int)strlen(data) &&
                      memcmp(natsMsg_GetData(list.Msgs[i]), data, strlen(data)) == 0,
                  "pulled message %d out of order", got);
            OK(natsMsg_AckSync(list.Msgs[i], NULL, &jerr), "ack");
        }
        natsMsgList_Destroy(&list);
    }
    CHECK(got == 10, "pulled %d messages, want 10", got);
    OK(js_GetConsumerInfo(&ci, js, "CLJS", "cw", NULL, &jerr), "consumer info");
    CHECK(ci->NumAckPending == 0 && ci->NumPending == 0 && ci->AckFloor.Stream == 10,
          "consumer state: ack pending %lld, pending %llu, ack floor %llu",
          (long long)ci->NumAckPending, (unsigned long long)ci->NumPending,
          (unsigned long long)ci->AckFloor.Stream);
    jsConsumerInfo_Destroy(ci);
    natsSubscription_Destroy(sub);
    printf("ok durable pull consumer: 10 messages acknowledged\n");

    kvConfig_Init(&kvc);
    kvc.Bucket = "clkv";
    kvc.Replicas = 3;
    OK(js_CreateKeyValue(&kv, js, &kvc), "create R3 kv");
    OK(kvStore_PutString(&rev, kv, "color", "blue"), "kv put");
    /* A KV bucket allows direct gets, which any replica may answer: one that
       has not applied the put yet answers "not found" (eventual consistency,
       as nats-server documents), so a miss is retried. */
    for (int64_t end = nats_Now() + WAIT_MS;; nats_Sleep(50)) {
        s = kvStore_Get(&e, kv, "color");
        if (s != NATS_NOT_FOUND || nats_Now() > end)
            break;
    }
    OK(s, "kv get");
    CHECK(strcmp(kvEntry_ValueString(e), "blue") == 0 && kvEntry_Revision(e) == rev,
          "kv value %s", kvEntry_ValueString(e));
    OK(kvStore_Status(&ks, kv), "kv status");
    CHECK(kvStatus_Replicas(ks) == 3, "kv replicas %lld", (long long)kvStatus_Replicas(ks));
    printf("ok KV bucket with 3 replicas: put/get\n");

    kvStatus_Destroy(ks);
    kvEntry_Destroy(e);
    kvStore_Destroy(kv);
    jsCtx_Destroy(js);
}

static uint64_t
reconnects(natsConnection *nc)
{
    natsStatistics *st = NULL;
    uint64_t n = 0;

    OK(natsStatistics_Create(&st), "statistics");
    OK(natsConnection_GetStats(nc, st), "stats");
    OK(natsStatistics_GetCounts(st, NULL, NULL, NULL, NULL, &n), "counts");
    natsStatistics_Destroy(st);
    return n;
}

static void
failover(natsConnection *a, natsConnection *b, natsConnection *c)
{
    natsSubscription *after = NULL;
    natsMsg *reply = NULL;
    jsCtx *js = NULL;
    jsPubOptions po;
    jsPubAck *pa = NULL;
    jsErrCode jerr = 0;
    char was[256], now[256], line[64];
    natsStatus s;

    OK(natsConnection_SubscribeSync(&after, a, "cl.after"), "subscribe");
    OK(natsConnection_Flush(a), "flush");
    OK(natsConnection_GetConnectedUrl(a, was, sizeof(was)), "connected url");
    printf("stop %s\n", hostport(was));
    fflush(stdout);
    CHECK(fgets(line, sizeof(line), stdin) && strncmp(line, "stopped", 7) == 0, "no \"stopped\" on stdin");

    for (int64_t end = nats_Now() + WAIT_MS;; nats_Sleep(50)) {
        if (natsConnection_Status(a) == NATS_CONN_STATUS_CONNECTED && reconnects(a) > 0 &&
            natsConnection_GetConnectedUrl(a, now, sizeof(now)) == NATS_OK && strcmp(now, was) != 0)
            break;
        CHECK(nats_Now() < end, "no reconnect from %s after %d ms", was, WAIT_MS);
    }
    printf("ok reconnected from %s to %s\n", hostport(was), hostport(now));

    sync_interest(a, b);
    publish_n(b, "cl.after", 10);
    sync_interest(a, b);
    expect(after, 10, "after reconnect");
    sync_interest(a, c);
    OK(natsConnection_RequestString(&reply, c, "cl.echo", "again", 5000), "request after reconnect");
    CHECK(natsMsg_GetDataLength(reply) == 10 && memcmp(natsMsg_GetData(reply), "echo:again", 10) == 0,
          "reply after reconnect");
    natsMsg_Destroy(reply);

    /* With one of three servers down the R3 stream still takes writes
       (once a new leader is elected, if the stopped server led it). */
    OK(natsConnection_JetStream(&js, a, NULL), "jetstream context");
    jsPubOptions_Init(&po);
    po.MsgId = "m11";
    for (int64_t end = nats_Now() + WAIT_MS;; nats_Sleep(100)) {
        s = js_Publish(&pa, js, "cljs.orders", "m11", 3, &po, &jerr);
        if (s == NATS_OK)
            break;
        if (nats_Now() > end)
            die("publish with a server down", s);
    }
    CHECK(pa->Sequence == 11, "ack with a server down: sequence %llu", (unsigned long long)pa->Sequence);

    /* The durable consumer (replicated with its stream) goes on from
       where it was. Its group may be between leaders for a while. */
    natsSubscription *pull = NULL;
    natsMsgList list = {0};
    for (int64_t end = nats_Now() + WAIT_MS; pull == NULL; nats_Sleep(100)) {
        s = js_PullSubscribe(&pull, js, "cljs.>", "cw", NULL, NULL, &jerr);
        if (s != NATS_OK && nats_Now() > end)
            die("pull subscribe with a server down", s);
    }
    for (int64_t end = nats_Now() + WAIT_MS;;) {
        s = natsSubscription_Fetch(&list, pull, 1, 2000, &jerr);
        if (s == NATS_OK && list.Count > 0)
            break;
        if (nats_Now() > end)
            die("fetch with a server down", s);
    }
    CHECK(list.Count == 1 && natsMsg_GetDataLength(list.Msgs[0]) == 3 &&
              memcmp(natsMsg_GetData(list.Msgs[0]), "m11", 3) == 0,
          "fetched with a server down: %d messages", list.Count);
    OK(natsMsg_AckSync(list.Msgs[0], NULL, &jerr), "ack with a server down");
    natsMsgList_Destroy(&list);
    natsSubscription_Destroy(pull);
    jsPubAck_Destroy(pa);
    jsCtx_Destroy(js);
    natsSubscription_Destroy(after);
    printf("ok subscriptions, replies and R3 publishes work after the failover\n");
}

int
main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s URL_A URL_B URL_C\n", argv[0]);
        return 2;
    }
    natsConnection *a = dial(argv[1]), *b = dial(argv[2]), *c = dial(argv[3]);

    for (int64_t end = nats_Now() + 20000; !knows_all(a, argv + 1); nats_Sleep(50))
        CHECK(nats_Now() < end, "the client given %s did not learn all three servers", argv[1]);
    printf("ok discovered %s %s %s\n", hostport(argv[1]), hostport(argv[2]), hostport(argv[3]));

    core(a, b, c);
    jetstream(b);
    failover(a, b, c);

    natsConnection_Destroy(a);
    natsConnection_Destroy(b);
    natsConnection_Destroy(c);
    nats_Close();
    printf("cluster ok\n");
    return 0;
}
