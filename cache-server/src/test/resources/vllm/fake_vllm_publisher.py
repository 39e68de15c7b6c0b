#!/usr/bin/env python3
"""A vLLM-shaped KV-event publisher for kvhoard's VllmRealFormatTest.

Publishes the block hashes vLLM computed for two prompts (../shared/data/vectors/) the way
vLLM's ZmqEventPublisher does (vllm/distributed/kv_events.py): three frames
[topic, 8-byte big-endian seq, msgpack EventBatch] on a PUB socket (an XPUB here, wire-equal, so
that it can wait for the subscriber), and a ROUTER replay socket that answers
[identity, "", start_seq] with [identity, "", seq, payload]... then [identity, "", -1, ""].
Events are encoded both ways vLLM has written them: msgspec array_like tagged arrays, and maps
with a "type" key.

Scenario (one line per step on stderr):
  seq 0  base prompt's BlockStored, array encoding          published
  seq 1  LoRA "Alice" prompt's BlockStored, map encoding     NOT published (a gap)
  seq 2  BlockRemoved of the base prompt's last 5 blocks     published -> the subscriber replays 1
  (serves one replay request, then stops answering: the replay socket is gone)
  seq 3  BlockRemoved of the LoRA prompt's first block       NOT published (a gap)
  seq 4  base prompt's BlockStored on medium CPU, map        published -> replay times out -> Cleared
Then waits for stdin to close. Prints "PORTS <pub> <replay>" on stdout once bound.
Exit status 0, or 1 with a message when a step times out.
"""
import json
import sys
import time

import msgpack
import zmq

TOPIC = b"kv@vllm-0@Qwen/Qwen3-0.6B"
WAIT_MS = 15000


def fail(msg):
    print("fake_vllm_publisher: " + msg, file=sys.stderr, flush=True)
    sys.exit(1)


def stored_array(v, medium):
    # BlockStored(block_hashes, parent_block_hash, token_ids, block_size, lora_id, medium,
    # lora_name), trailing defaults (extra_keys, group_idx, ...) omitted as msgspec does.
    return ["BlockStored", v["block_hashes"], v["parent_block_hash"], v["token_ids"],
            v["block_size"], None, medium, None]


def stored_map(v, medium, lora_name=None, lora_id=None):
    m = {"type": "BlockStored", "block_hashes": v["block_hashes"],
         "parent_block_hash": v["parent_block_hash"], "token_ids": v["token_ids"],
         "block_size": v["block_size"], "lora_id": lora_id, "medium": medium,
         "lora_name": lora_name}
    if lora_name:
        m["extra_keys"] = [[lora_name] for _ in v["block_hashes"]]
    return m


def main():
    base = json.load(open(sys.argv[1]))
    lora = json.load(open(sys.argv[2]))
    ctx = zmq.Context()
    pub = ctx.socket(zmq.XPUB)
    pub.setsockopt(zmq.LINGER, 0)
    pub_port = pub.bind_to_random_port("tcp://127.0.0.1")
    router = ctx.socket(zmq.ROUTER)
    router.setsockopt(zmq.LINGER, 1000)
    replay_port = router.bind_to_random_port("tcp://127.0.0.1")
    print("PORTS %d %d" % (pub_port, replay_port), flush=True)

    if not pub.poll(WAIT_MS):
        fail("no subscriber within %d ms" % WAIT_MS)
    pub.recv()  # the subscription

    batches = [
        ("array", [time.time(), [stored_array(base, "GPU")], 0], True),
        ("map", {"ts": time.time(),
                 "events": [stored_map(lora, "GPU", lora["lora_name"], 1)],
                 "data_parallel_rank": 0}, False),
        ("map", {"ts": time.time(),
                 "events": [{"type": "BlockRemoved", "block_hashes": base["block_hashes"][-5:],
                             "medium": "GPU"}]}, True),
        ("array", [time.time(), [["BlockRemoved", lora["block_hashes"][:1], "GPU"]]], False),
        ("map", {"ts": time.time(), "events": [stored_map(base, "CPU")]}, True),
    ]
    buffer = []

    def publish(seq):
        kind, batch, live = batches[seq]
        payload = msgpack.packb(batch, use_bin_type=True)
        buffer.append((seq, payload))
        if live:
            pub.send_multipart([TOPIC, seq.to_bytes(8, "big"), payload])
        print("seq %d (%s) %s" % (seq, kind, "published" if live else "skipped"),
              file=sys.stderr, flush=True)

    for seq in range(3):
        publish(seq)

    if not router.poll(WAIT_MS):
        fail("no replay request within %d ms" % WAIT_MS)
    frames = router.recv_multipart()
    if len(frames) != 3 or frames[1] != b"":
        fail("replay request is not [identity, '', start_seq]: %r" % (frames,))
    identity, _, start = frames
    start_seq = int.from_bytes(start, "big")
    print("replay from %d" % start_seq, file=sys.stderr, flush=True)
    for seq, payload in buffer:
        if seq >= start_seq:
            router.send_multipart([identity, b"", seq.to_bytes(8, "big"), payload])
    router.send_multipart([identity, b"", (-1).to_bytes(8, "big", signed=True), b""])
    router.close()  # the replay socket goes away: the next gap cannot be recovered

    publish(3)
    publish(4)
    sys.stdin.read()  # until the test closes our stdin
    pub.close()
    ctx.term()


if __name__ == "__main__":
    main()
