package main

import (
	"fmt"
	"strings"
	"time"
)

func h(kv ...string) map[string]string {
	m := map[string]string{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

const api = "$JS.API."

func script(cn *conn) {
	cn.cap("account_info/empty", api+"INFO", nil, "")

	// Stream create: minimal, full, idempotent, conflicts.
	cn.cap("stream_create/minimal", api+"STREAM.CREATE.MIN", nil, `{"name":"MIN"}`)
	cn.cap("stream_create/minimal_again_same", api+"STREAM.CREATE.MIN", nil, `{"name":"MIN"}`)
	cn.cap("stream_create/name_in_use", api+"STREAM.CREATE.MIN", nil, `{"name":"MIN","max_msgs":10}`)
	full := `{"name":"FULL","description":"all the fields","subjects":["full.>","other.*"],"retention":"limits","max_consumers":10,"max_msgs":1000,"max_bytes":1048576,"max_age":3600000000000,"max_msgs_per_subject":5,"max_msg_size":4096,"discard":"new","storage":"memory","num_replicas":1,"no_ack":false,"duplicate_window":60000000000,"placement":{"cluster":"","tags":["a"]},"allow_direct":true,"mirror_direct":false,"discard_new_per_subject":true,"sealed":false,"deny_delete":true,"deny_purge":false,"allow_rollup_hdrs":true,"republish":{"src":"full.>","dest":"rp.>","headers_only":false},"metadata":{"owner":"team"}}`
	cn.cap("stream_create/full", api+"STREAM.CREATE.FULL", nil, full)
	cn.cap("stream_create/subject_mismatch", api+"STREAM.CREATE.OTHER", nil, `{"name":"NOTOTHER"}`)
	cn.cap("stream_create/invalid_json", api+"STREAM.CREATE.BAD", nil, `{"name":`)
	cn.cap("stream_create/empty_body", api+"STREAM.CREATE.BAD", nil, ``)
	cn.cap("stream_create/overlap", api+"STREAM.CREATE.OVER", nil, `{"name":"OVER","subjects":["full.a"]}`)
	cn.cap("stream_create/name_with_dot_in_body", api+"STREAM.CREATE.BAD", nil, `{"name":"B.AD"}`)
	cn.cap("stream_create/bad_storage", api+"STREAM.CREATE.BAD", nil, `{"name":"BAD","storage":"tape"}`)
	cn.cap("stream_create/bad_retention", api+"STREAM.CREATE.BAD", nil, `{"name":"BAD","retention":"forever"}`)
	invalid := []struct{ name, body string }{
		{"negative_max_age", `{"name":"BAD","max_age":-1}`},
		{"small_max_age", `{"name":"BAD","max_age":1000}`},
		{"negative_duplicates", `{"name":"BAD","duplicate_window":-1}`},
		{"duplicates_gt_max_age", `{"name":"BAD","max_age":1000000000,"duplicate_window":60000000000}`},
		{"small_duplicates", `{"name":"BAD","duplicate_window":1000}`},
		{"mirror_with_subjects", `{"name":"BAD","subjects":["x"],"mirror":{"name":"MIN"}}`},
		{"mirror_with_sources", `{"name":"BAD","mirror":{"name":"MIN"},"sources":[{"name":"FULL"}]}`},
		{"mirror_direct_without_mirror", `{"name":"BAD","mirror_direct":true}`},
		{"sealed_on_create", `{"name":"BAD","sealed":true}`},
		{"deny_purge_with_rollup", `{"name":"BAD","deny_purge":true,"allow_rollup_hdrs":true}`},
		{"discard_new_per_without_new", `{"name":"BAD","discard_new_per_subject":true,"max_msgs_per_subject":1}`},
		{"discard_new_per_without_max", `{"name":"BAD","discard":"new","discard_new_per_subject":true}`},
		{"duplicate_subjects", `{"name":"BAD","subjects":["a","a"]}`},
		{"overlapping_own_subjects", `{"name":"BAD","subjects":["a.>","a.b"]}`},
		{"invalid_subject", `{"name":"BAD","subjects":["a..b"]}`},
		{"invalid_subject_space", `{"name":"BAD","subjects":["a b"]}`},
		{"capture_all", `{"name":"BAD","subjects":[">"]}`},
		{"capture_js_api", `{"name":"BAD","subjects":["$JS.API.>"]}`},
		{"capture_sys", `{"name":"BAD","subjects":["$SYS.>"]}`},
		{"replicas_6", `{"name":"BAD","num_replicas":6}`},
		{"replicas_3", `{"name":"BAD","num_replicas":3}`},
		{"replicas_negative", `{"name":"BAD","num_replicas":-1}`},
		{"long_description", `{"name":"BAD","description":"` + strings.Repeat("d", 4097) + `"}`},
		{"long_name", `{"name":"` + strings.Repeat("N", 256) + `"}`},
		{"template_owner", `{"name":"BAD","template_owner":"T"}`},
		{"republish_overlap", `{"name":"BAD","subjects":["a.>"],"republish":{"src":">","dest":"a.b.>"}}`},
		{"republish_bad_dest", `{"name":"BAD","subjects":["a.>"],"republish":{"src":"a.>","dest":"b.*"}}`},
		{"max_msgs_negative_two", `{"name":"NEG","max_msgs":-2,"max_bytes":-5,"max_consumers":-3,"max_msg_size":-7,"max_msgs_per_subject":-9}`},
		{"source_invalid_name", `{"name":"BAD","sources":[{"name":"a.b"}]}`},
		{"mirror_filter", `{"name":"BAD","mirror":{"name":"MIN","filter_subject":"x"}}`},
		{"mirror_seq_and_time", `{"name":"BAD","mirror":{"name":"MIN","opt_start_seq":1,"opt_start_time":"2023-01-01T00:00:00Z"}}`},
		{"source_duplicate", `{"name":"BAD","sources":[{"name":"MIN"},{"name":"MIN"}]}`},
		{"workqueue_no_ack_is_fine", `{"name":"WQ","retention":"workqueue","subjects":["wq.>"]}`},
	}
	for i, t := range invalid {
		body := t.body
		name := fmt.Sprintf("BAD%d", i)
		if strings.Contains(body, `"name":"BAD"`) {
			body = strings.Replace(body, `"name":"BAD"`, `"name":"`+name+`"`, 1)
		} else {
			name = nameOf(body)
		}
		r := cn.cap("stream_create/"+t.name, api+"STREAM.CREATE."+name, nil, body)
		if len(r) == 1 && strings.Contains(r[0].Body, `"config"`) {
			cn.request(api+"STREAM.DELETE."+name, nil, "", 1, 2*time.Second)
		}
	}
	cn.cap("stream_create/to_delete", api+"STREAM.CREATE.DEL", nil, `{"name":"DEL"}`)
	cn.cap("stream_delete/ok_first", api+"STREAM.DELETE.DEL", nil, "")

	// Publishes.
	cn.cap("pub/ack", "full.a", nil, "one")
	cn.cap("pub/ack_msgid", "full.a", h("Nats-Msg-Id", "id-1"), "two")
	cn.cap("pub/ack_duplicate", "full.a", h("Nats-Msg-Id", "id-1"), "two")
	cn.cap("pub/expected_stream_ok", "full.b", h("Nats-Expected-Stream", "FULL"), "x")
	cn.cap("pub/expected_stream_wrong", "full.b", h("Nats-Expected-Stream", "OTHER"), "x")
	cn.cap("pub/expected_last_seq_wrong", "full.b", h("Nats-Expected-Last-Sequence", "1"), "x")
	cn.cap("pub/expected_last_seq_bad_number", "full.b", h("Nats-Expected-Last-Sequence", "abc"), "x")
	cn.cap("pub/expected_last_msgid_wrong", "full.b", h("Nats-Expected-Last-Msg-Id", "nope"), "x")
	cn.cap("pub/expected_last_subj_seq_wrong", "full.b", h("Nats-Expected-Last-Subject-Sequence", "1"), "x")
	cn.cap("pub/expected_last_subj_seq_ok", "full.c", h("Nats-Expected-Last-Subject-Sequence", "0"), "x")
	cn.cap("pub/too_large", "full.big", nil, strings.Repeat("x", 5000))
	cn.cap("pub/rollup_sub", "full.r", h("Nats-Rollup", "sub"), "r")
	cn.cap("pub/rollup_bad_value", "full.r", h("Nats-Rollup", "nope"), "r")
	cn.cap("pub/discard_new_per_subject_1", "full.p", nil, "1")
	for i := 0; i < 4; i++ {
		cn.request("full.p", nil, "more", 1, 2*time.Second)
	}
	cn.cap("pub/discard_new_per_subject_full", "full.p", nil, "6")
	cn.cap("pub/ttl_header_2_9", "full.t", h("Nats-TTL", "1s"), "t")
	cn.cap("pub/rollup_not_permitted", "MIN", h("Nats-Rollup", "all"), "r")
	cn.cap("pub/ttl_bad_2_9", "full.t", h("Nats-TTL", "soon"), "t")
	cn.cap("pub/expected_last_subj_seq_subject_2_9", "full.t", h("Nats-Expected-Last-Subject-Sequence-Subject", "full.zzz"), "t")
	cn.cap("stream_create/rollups", api+"STREAM.CREATE.RU", nil, `{"name":"RU","subjects":["ru.>"],"allow_rollup_hdrs":true}`)
	cn.request("ru.a", nil, "1", 1, 2*time.Second)
	cn.request("ru.b", nil, "2", 1, 2*time.Second)
	cn.cap("pub/rollup_all", "ru.c", h("Nats-Rollup", "all"), "r")
	cn.cap("stream_info/after_rollup_all", api+"STREAM.INFO.RU", nil, "")
	cn.cap("stream_delete/rollups", api+"STREAM.DELETE.RU", nil, "")
	cn.cap("stream_create/noack", api+"STREAM.CREATE.NOACK", nil, `{"name":"NOACK","no_ack":true}`)
	cn.capN("pub/noack_no_reply", "NOACK", nil, "x", 1, 500*time.Millisecond)
	cn.cap("stream_delete/noack", api+"STREAM.DELETE.NOACK", nil, "")
	cn.cap("pub/empty_payload", "MIN", nil, "")
	cn.cap("pub/msgid_and_expected_last_msgid", "MIN", h("Nats-Msg-Id", "m1", "Nats-Expected-Last-Msg-Id", ""), "")
	cn.cap("pub/wrong_both_stream_and_seq", "MIN", h("Nats-Expected-Stream", "X", "Nats-Expected-Last-Sequence", "99"), "")
	cn.cap("pub/wrong_seq_and_msgid", "MIN", h("Nats-Expected-Last-Msg-Id", "zz", "Nats-Expected-Last-Sequence", "99"), "")
	cn.cap("pub/dup_with_wrong_seq", "full.a", h("Nats-Msg-Id", "id-1", "Nats-Expected-Last-Sequence", "99"), "")

	// Stream create for discard new on MaxMsgs.
	cn.cap("stream_create/limit_one", api+"STREAM.CREATE.ONE", nil, `{"name":"ONE","max_msgs":1,"discard":"new"}`)
	cn.cap("pub/one_first", "ONE", nil, "1")
	cn.cap("pub/one_discard_new_max_msgs", "ONE", nil, "2")
	cn.cap("stream_create/limit_bytes", api+"STREAM.CREATE.BYTES", nil, `{"name":"BYTES","max_bytes":10,"discard":"new"}`)
	cn.cap("pub/bytes_discard_new_max_bytes", "BYTES", nil, "0123456789abcdef")

	// Info, names, list.
	for i := 0; i < 4; i++ {
		cn.request("MIN", nil, fmt.Sprintf("m%d", i), 1, 2*time.Second)
	}
	cn.cap("msg_delete/ok", api+"STREAM.MSG.DELETE.MIN", nil, `{"seq":2}`)
	cn.cap("msg_delete/no_erase", api+"STREAM.MSG.DELETE.MIN", nil, `{"seq":3,"no_erase":true}`)
	cn.cap("msg_delete/not_found", api+"STREAM.MSG.DELETE.MIN", nil, `{"seq":2}`)
	cn.cap("msg_delete/beyond", api+"STREAM.MSG.DELETE.MIN", nil, `{"seq":999}`)
	cn.cap("msg_delete/denied", api+"STREAM.MSG.DELETE.FULL", nil, `{"seq":1}`)
	cn.cap("msg_delete/empty", api+"STREAM.MSG.DELETE.MIN", nil, ``)
	cn.cap("msg_delete/no_stream", api+"STREAM.MSG.DELETE.NOPE", nil, `{"seq":1}`)
	cn.cap("stream_info/minimal", api+"STREAM.INFO.MIN", nil, "")
	cn.cap("stream_info/deleted_details", api+"STREAM.INFO.MIN", nil, `{"deleted_details":true}`)
	cn.cap("stream_info/subjects_filter", api+"STREAM.INFO.FULL", nil, `{"subjects_filter":">"}`)
	cn.cap("stream_info/subjects_filter_one", api+"STREAM.INFO.FULL", nil, `{"subjects_filter":"full.a"}`)
	cn.cap("stream_info/subjects_filter_offset", api+"STREAM.INFO.FULL", nil, `{"subjects_filter":">","offset":2}`)
	cn.cap("stream_info/not_found", api+"STREAM.INFO.NOPE", nil, "")
	cn.cap("stream_info/invalid_json", api+"STREAM.INFO.MIN", nil, "{")
	cn.cap("stream_info/deleted_details_none", api+"STREAM.INFO.FULL", nil, `{"deleted_details":true}`)
	cn.cap("stream_info/subjects_filter_no_match", api+"STREAM.INFO.FULL", nil, `{"subjects_filter":"zzz"}`)
	cn.cap("stream_info/unknown_field", api+"STREAM.INFO.FULL", nil, `{"bogus":true}`)
	cn.cap("stream_names/not_json", api+"STREAM.NAMES", nil, "hello")
	cn.cap("stream_names/all", api+"STREAM.NAMES", nil, "")
	cn.cap("stream_names/subject", api+"STREAM.NAMES", nil, `{"subject":"full.x"}`)
	cn.cap("stream_names/subject_none", api+"STREAM.NAMES", nil, `{"subject":"zzz"}`)
	cn.cap("stream_names/offset", api+"STREAM.NAMES", nil, `{"offset":1}`)
	cn.cap("stream_names/offset_beyond", api+"STREAM.NAMES", nil, `{"offset":100}`)
	cn.cap("stream_list/all", api+"STREAM.LIST", nil, "")
	cn.cap("stream_list/subject", api+"STREAM.LIST", nil, `{"subject":"full.x"}`)
	cn.cap("stream_list/subject_none", api+"STREAM.LIST", nil, `{"subject":"zzz"}`)

	// Message get.
	cn.cap("msg_get/seq", api+"STREAM.MSG.GET.FULL", nil, `{"seq":1}`)
	cn.cap("msg_get/seq_with_headers", api+"STREAM.MSG.GET.FULL", nil, `{"seq":2}`)
	cn.cap("msg_get/last_by_subj", api+"STREAM.MSG.GET.FULL", nil, `{"last_by_subj":"full.a"}`)
	cn.cap("msg_get/next_by_subj", api+"STREAM.MSG.GET.FULL", nil, `{"seq":1,"next_by_subj":"full.b"}`)
	cn.cap("msg_get/empty_payload", api+"STREAM.MSG.GET.MIN", nil, `{"seq":1}`)
	cn.cap("msg_get/deleted", api+"STREAM.MSG.GET.MIN", nil, `{"seq":2}`)
	cn.cap("msg_get/beyond", api+"STREAM.MSG.GET.MIN", nil, `{"seq":999}`)
	cn.cap("msg_get/no_subject_match", api+"STREAM.MSG.GET.MIN", nil, `{"last_by_subj":"zzz"}`)
	cn.cap("msg_get/seq_and_last", api+"STREAM.MSG.GET.MIN", nil, `{"seq":1,"last_by_subj":"MIN"}`)
	cn.cap("msg_get/empty_request", api+"STREAM.MSG.GET.MIN", nil, ``)
	cn.cap("msg_get/zero_request", api+"STREAM.MSG.GET.MIN", nil, `{}`)
	cn.cap("msg_get/batch_2_9", api+"STREAM.MSG.GET.FULL", nil, `{"seq":1,"batch":2}`)
	cn.cap("msg_get/next_by_subj_wildcard", api+"STREAM.MSG.GET.FULL", nil, `{"seq":1,"next_by_subj":"full.*"}`)
	cn.cap("msg_get/last_by_subj_wildcard", api+"STREAM.MSG.GET.FULL", nil, `{"last_by_subj":"full.*"}`)
	cn.cap("msg_get/no_stream", api+"STREAM.MSG.GET.NOPE", nil, `{"seq":1}`)

	// Direct get (FULL has allow_direct).
	cn.cap("direct_get/seq", api+"DIRECT.GET.FULL", nil, `{"seq":2}`)
	cn.cap("direct_get/last_by_subj", api+"DIRECT.GET.FULL", nil, `{"last_by_subj":"full.a"}`)
	cn.cap("direct_get/next_by_subj", api+"DIRECT.GET.FULL", nil, `{"seq":1,"next_by_subj":"full.b"}`)
	cn.cap("direct_get/subject_in_subject", api+"DIRECT.GET.FULL.full.a", nil, ``)
	cn.cap("direct_get/not_found", api+"DIRECT.GET.FULL", nil, `{"seq":999}`)
	cn.cap("direct_get/subject_not_found", api+"DIRECT.GET.FULL.full.zzz", nil, ``)
	cn.cap("direct_get/empty_request", api+"DIRECT.GET.FULL", nil, ``)
	cn.cap("direct_get/bad_json", api+"DIRECT.GET.FULL", nil, `{`)
	cn.cap("direct_get/seq_and_last", api+"DIRECT.GET.FULL", nil, `{"seq":1,"last_by_subj":"full.a"}`)
	cn.capN("direct_get/batch_2_9", api+"DIRECT.GET.FULL", nil, `{"seq":1,"batch":3}`, 4, 2*time.Second)
	cn.cap("direct_get/subject_wildcard_in_subject", api+"DIRECT.GET.FULL.full.*", nil, ``)
	cn.cap("direct_get/no_hdr_2_9", api+"DIRECT.GET.FULL", nil, `{"seq":2,"no_hdr":true}`)
	cn.cap("direct_get/next_by_subj_only", api+"DIRECT.GET.FULL", nil, `{"next_by_subj":"full.b"}`)
	cn.cap("direct_get/not_allowed", api+"DIRECT.GET.MIN", nil, `{"seq":1}`)

	// Purge.
	cn.cap("stream_purge/filter_keep", api+"STREAM.PURGE.FULL", nil, `{"filter":"full.a","keep":1}`)
	cn.cap("stream_purge/seq", api+"STREAM.PURGE.MIN", nil, `{"seq":3}`)
	cn.cap("stream_purge/all", api+"STREAM.PURGE.FULL", nil, ``)
	cn.cap("stream_purge/seq_and_keep", api+"STREAM.PURGE.FULL", nil, `{"seq":3,"keep":1}`)
	cn.cap("stream_purge/bad_filter", api+"STREAM.PURGE.FULL", nil, `{"filter":"a..b"}`)
	cn.cap("stream_purge/filter_and_seq", api+"STREAM.PURGE.FULL", nil, `{"filter":"full.b","seq":4}`)
	cn.cap("stream_purge/not_json", api+"STREAM.PURGE.FULL", nil, `nope`)
	cn.cap("stream_purge/no_stream", api+"STREAM.PURGE.NOPE", nil, ``)
	cn.cap("stream_info/after_purge", api+"STREAM.INFO.FULL", nil, "")

	// Update.
	cn.cap("stream_update/ok", api+"STREAM.UPDATE.MIN", nil, `{"name":"MIN","max_msgs":100}`)
	cn.cap("stream_update/storage", api+"STREAM.UPDATE.MIN", nil, `{"name":"MIN","storage":"memory"}`)
	cn.cap("stream_update/retention", api+"STREAM.UPDATE.MIN", nil, `{"name":"MIN","retention":"workqueue"}`)
	cn.cap("stream_update/retention_interest", api+"STREAM.UPDATE.MIN", nil, `{"name":"MIN","retention":"interest"}`)
	cn.cap("stream_update/undeny_delete", api+"STREAM.UPDATE.FULL", nil, strings.Replace(full, `"deny_delete":true`, `"deny_delete":false`, 1))
	cn.cap("stream_update/not_found", api+"STREAM.UPDATE.NOPE", nil, `{"name":"NOPE"}`)
	cn.cap("stream_update/name_mismatch", api+"STREAM.UPDATE.MIN", nil, `{"name":"OTHER"}`)
	cn.cap("stream_update/seal", api+"STREAM.UPDATE.ONE", nil, `{"name":"ONE","max_msgs":1,"discard":"new","sealed":true}`)
	cn.cap("pub/sealed", "ONE", nil, "x")
	cn.cap("stream_purge/sealed", api+"STREAM.PURGE.ONE", nil, ``)
	cn.cap("msg_delete/sealed", api+"STREAM.MSG.DELETE.ONE", nil, `{"seq":1}`)
	cn.cap("stream_update/unseal", api+"STREAM.UPDATE.ONE", nil, `{"name":"ONE","max_msgs":1,"discard":"new","sealed":false}`)
	cn.cap("stream_update/mirror_added", api+"STREAM.UPDATE.MIN", nil, `{"name":"MIN","mirror":{"name":"FULL"}}`)
	cn.cap("stream_update/subjects", api+"STREAM.UPDATE.MIN", nil, `{"name":"MIN","subjects":["min.>"]}`)
	cn.cap("stream_update/subjects_overlap", api+"STREAM.UPDATE.MIN", nil, `{"name":"MIN","subjects":["full.q"]}`)
	cn.cap("pub/no_stream_no_responders", "nowhere", nil, "x")

	// Mirror and sources.
	cn.cap("stream_create/mirror", api+"STREAM.CREATE.MIRROR", nil, `{"name":"MIRROR","mirror":{"name":"FULL"}}`)
	cn.cap("stream_create/sourced", api+"STREAM.CREATE.SRC", nil, `{"name":"SRC","sources":[{"name":"MIN","filter_subject":"min.>"},{"name":"FULL"}]}`)
	time.Sleep(1500 * time.Millisecond) // let source info settle
	cn.cap("stream_info/mirror", api+"STREAM.INFO.MIRROR", nil, "")
	cn.cap("stream_info/sourced", api+"STREAM.INFO.SRC", nil, "")

	// Consumers (lower priority, shapes only).
	cn.cap("consumer_create/durable_pull", api+"CONSUMER.DURABLE.CREATE.FULL.D1", nil, `{"stream_name":"FULL","config":{"durable_name":"D1","ack_policy":"explicit"}}`)
	cn.cap("consumer_create/named_filtered", api+"CONSUMER.CREATE.FULL.C2.full.a", nil, `{"stream_name":"FULL","config":{"name":"C2","filter_subject":"full.a","ack_policy":"explicit"}}`)
	cn.cap("consumer_create/ephemeral", api+"CONSUMER.CREATE.FULL", nil, `{"stream_name":"FULL","config":{"ack_policy":"none","deliver_policy":"last","inactive_threshold":5000000000}}`)
	cn.cap("consumer_create/durable_in_ephemeral_subject", api+"CONSUMER.CREATE.FULL", nil, `{"stream_name":"FULL","config":{"durable_name":"P1","deliver_subject":"push.p1","ack_policy":"all","idle_heartbeat":5000000000,"flow_control":true}}`)
	cn.cap("consumer_create/push", api+"CONSUMER.DURABLE.CREATE.FULL.P1", nil, `{"stream_name":"FULL","config":{"durable_name":"P1","deliver_subject":"push.p1","ack_policy":"all","idle_heartbeat":5000000000,"flow_control":true}}`)
	cn.cap("consumer_create/stream_not_found", api+"CONSUMER.CREATE.NOPE", nil, `{"stream_name":"NOPE","config":{"ack_policy":"explicit"}}`)
	cn.cap("consumer_create/bad_policy", api+"CONSUMER.CREATE.FULL", nil, `{"stream_name":"FULL","config":{"ack_policy":"sometimes"}}`)
	cn.cap("consumer_info/ok", api+"CONSUMER.INFO.FULL.D1", nil, "")
	cn.cap("consumer_info/not_found", api+"CONSUMER.INFO.FULL.NOPE", nil, "")
	cn.cap("consumer_names/all", api+"CONSUMER.NAMES.FULL", nil, "")
	cn.cap("consumer_list/all", api+"CONSUMER.LIST.FULL", nil, "")
	cn.cap("consumer_next/no_wait", api+"CONSUMER.MSG.NEXT.FULL.D1", nil, `{"batch":1,"no_wait":true}`)
	cn.cap("consumer_delete/ok", api+"CONSUMER.DELETE.FULL.D1", nil, "")
	cn.cap("consumer_delete/not_found", api+"CONSUMER.DELETE.FULL.D1", nil, "")

	// Delete.
	cn.cap("stream_delete/with_body", api+"STREAM.DELETE.SRC", nil, `{"x":1}`)
	cn.cap("stream_delete/ok", api+"STREAM.DELETE.MIRROR", nil, "")
	cn.cap("stream_delete/not_found", api+"STREAM.DELETE.MIRROR", nil, "")
	cn.cap("account_info/with_streams", api+"INFO", nil, "")
	cn.cap("api/unknown_endpoint", api+"STREAM.FOO.BAR", nil, "")
}

func nameOf(body string) string {
	i := strings.Index(body, `"name":"`)
	rest := body[i+8:]
	name := rest[:strings.IndexByte(rest, '"')]
	if strings.ContainsAny(name, ".*> ") {
		return "BAD"
	}
	return name
}
