/*
 * interop.c drives a NATS server with the official C client (nats.c):
 * core publish/subscribe in order, headers, request/reply, no responders,
 * then JetStream: a stream, acknowledged publishes, a durable pull
 * consumer with acks, and Key-Value. It prints one line per check and
 * exits non-zero on the first failure.
 *
 * Build: cc -o interop interop.c -lnats     Run: ./interop nats://127.0.0.1:4222
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <nats/nats.h>

static int failures;

#define CHECK(cond, ...)                         \
    do {                                         \
        if (!(cond)) {                           \
            fprintf(stderr, "FAIL: " __VA_ARGS__); \
            fprintf(stderr, "\n");               \
            failures++;                          \
            goto done;                           \
        }                                        \
    } while (0)

#define OK(s, what) CHECK((s) == NATS_OK, "%s: %s", what, natsStatus_GetText(s))

static void
echo(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure)
{
    (void)sub;
    (void)closure;
    char reply[128];
    snprintf(reply, sizeof(reply), "echo:%.*s", natsMsg_GetDataLength(msg), natsMsg_GetData(msg));
    natsConnection_PublishString(nc, natsMsg_GetReply(msg), reply);
    natsMsg_Destroy(msg);
}

static int
core(natsConnection *nc)
{
    natsSubscription *sub = NULL, *svc = NULL;
    natsMsg *msg = NULL, *reply = NULL;
    natsStatus s;
    char want[32];
    const char *val = NULL;

    OK(natsConnection_SubscribeSync(&sub, nc, "c.core"), "subscribe");
    OK(natsConnection_Flush(nc), "flush");
    for (int i = 0; i < 1000; i++) {
        snprintf(want, sizeof(want), "%d", i);
        OK(natsConnection_PublishString(nc, "c.core", want), "publish");
    }
    OK(natsConnection_Flush(nc), "flush");
    for (int i = 0; i < 1000; i++) {
        OK(natsSubscription_NextMsg(&msg, sub, 5000), "next message");
        snprintf(want, sizeof(want), "%d", i);
        CHECK(natsMsg_GetDataLength(msg) == (int)strlen(want) &&
                  memcmp(natsMsg_GetData(msg), want, strlen(want)) == 0,
              "message %d out of order", i);
        natsMsg_Destroy(msg);
        msg = NULL;
    }
    printf("ok core: 1000 messages in order\n");

    OK(natsMsg_Create(&msg, "c.core", NULL, "h", 1), "create message");
    OK(natsMsgHeader_Set(msg, "X-Interop", "c-client"), "set header");
    OK(natsConnection_PublishMsg(nc, msg), "publish with headers");
    natsMsg_Destroy(msg);
    msg = NULL;
    OK(natsSubscription_NextMsg(&msg, sub, 5000), "next message with headers");
    OK(natsMsgHeader_Get(msg, "X-Interop", &val), "get header");
    CHECK(strcmp(val, "c-client") == 0, "header value %s", val);
    printf("ok headers\n");

    OK(natsConnection_Subscribe(&svc, nc, "c.echo", echo, NULL), "subscribe service");
    OK(natsConnection_Flush(nc), "flush");
    OK(natsConnection_RequestString(&reply, nc, "c.echo", "hi", 5000), "request");
    CHECK(natsMsg_GetDataLength(reply) == 7 && memcmp(natsMsg_GetData(reply), "echo:hi", 7) == 0, "reply");
    printf("ok request/reply\n");

    natsMsg_Destroy(reply);
    reply = NULL;
    s = natsConnection_RequestString(&reply, nc, "c.nobody", "hi", 5000);
    CHECK(s == NATS_NO_RESPONDERS, "request without responders: %s", natsStatus_GetText(s));
    printf("ok no responders\n");

done:
    natsMsg_Destroy(msg);
    natsMsg_Destroy(reply);
    natsSubscription_Destroy(sub);
    natsSubscription_Destroy(svc);
    return failures;
}

static int
jetstream(natsConnection *nc)
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
    uint64_t rev = 0;
    const char *subjects[] = {"c.js.>"};
    char data[32];

    OK(natsConnection_JetStream(&js, nc, NULL), "jetstream context");
    jsStreamConfig_Init(&cfg);
    cfg.Name = "CINTEROP";
    cfg.Subjects = subjects;
    cfg.SubjectsLen = 1;
    cfg.Storage = js_FileStorage;
    OK(js_AddStream(&si, js, &cfg, NULL, &jerr), "add stream");
    CHECK(strcmp(si->Config->Name, "CINTEROP") == 0, "stream name");
    printf("ok stream created\n");

    for (int i = 1; i <= 20; i++) {
        snprintf(data, sizeof(data), "m%d", i);
        OK(js_Publish(&pa, js, "c.js.orders", data, (int)strlen(data), NULL, &jerr), "js publish");
        CHECK(pa->Sequence == (uint64_t)i, "ack sequence %llu, want %d", (unsigned long long)pa->Sequence, i);
        CHECK(strcmp(pa->Stream, "CINTEROP") == 0, "ack stream %s", pa->Stream);
        jsPubAck_Destroy(pa);
        pa = NULL;
    }
    printf("ok 20 acknowledged publishes\n");

    OK(js_PullSubscribe(&sub, js, "c.js.>", "cdurable", NULL, NULL, &jerr), "pull subscribe");
    int got = 0;
    for (int round = 0; round < 20 && got < 20; round++) {
        natsStatus s = natsSubscription_Fetch(&list, sub, 10, 5000, &jerr);
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
    CHECK(got == 20, "pulled %d messages, want 20", got);
    OK(js_GetConsumerInfo(&ci, js, "CINTEROP", "cdurable", NULL, &jerr), "consumer info");
    CHECK(ci->NumAckPending == 0 && ci->NumPending == 0 && ci->AckFloor.Stream == 20,
          "consumer state: ack pending %lld, pending %llu, ack floor %llu",
          (long long)ci->NumAckPending, (unsigned long long)ci->NumPending, (unsigned long long)ci->AckFloor.Stream);
    printf("ok pull consumer: 20 messages acknowledged\n");

    kvConfig_Init(&kvc);
    kvc.Bucket = "CKV";
    kvc.History = 3;
    OK(js_CreateKeyValue(&kv, js, &kvc), "create kv");
    OK(kvStore_PutString(&rev, kv, "color", "blue"), "kv put");
    OK(kvStore_PutString(&rev, kv, "color", "green"), "kv put");
    CHECK(rev == 2, "kv revision %llu", (unsigned long long)rev);
    OK(kvStore_Get(&e, kv, "color"), "kv get");
    CHECK(strcmp(kvEntry_ValueString(e), "green") == 0 && kvEntry_Revision(e) == 2, "kv value %s", kvEntry_ValueString(e));
    printf("ok key-value\n");

done:
    natsMsgList_Destroy(&list);
    kvEntry_Destroy(e);
    kvStore_Destroy(kv);
    jsConsumerInfo_Destroy(ci);
    natsSubscription_Destroy(sub);
    jsPubAck_Destroy(pa);
    jsStreamInfo_Destroy(si);
    jsCtx_Destroy(js);
    return failures;
}

int
main(int argc, char **argv)
{
    natsConnection *nc = NULL;
    natsOptions *opts = NULL;

    if (argc != 2) {
        fprintf(stderr, "usage: %s nats://host:port\n", argv[0]);
        return 2;
    }
    if (natsOptions_Create(&opts) != NATS_OK ||
        natsOptions_SetURL(opts, argv[1]) != NATS_OK ||
        natsOptions_SetTimeout(opts, 5000) != NATS_OK ||
        natsConnection_Connect(&nc, opts) != NATS_OK) {
        fprintf(stderr, "FAIL: connect to %s: %s\n", argv[1], nats_GetLastError(NULL));
        return 1;
    }
    if (core(nc) == 0)
        jetstream(nc);
    natsConnection_Destroy(nc);
    natsOptions_Destroy(opts);
    nats_Close();
    return failures == 0 ? 0 : 1;
}
