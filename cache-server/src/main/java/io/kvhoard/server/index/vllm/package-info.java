/**
 * vLLM's KV-cache events as a block-event source: {@link
 * io.kvhoard.server.index.vllm.VllmEventDecoder} maps vLLM's msgpack {@code EventBatch} payloads
 * (both the positional-array and the map encodings) onto {@link
 * io.kvhoard.protocol.v1.BlockEvent}s, and {@link io.kvhoard.server.index.vllm.VllmEventSource}
 * follows the pods' ZeroMQ publishers (JeroMQ), detects sequence gaps and recovers them through the
 * pods' replay sockets, or clears the pod when it cannot. {@link
 * io.kvhoard.server.index.vllm.VllmEndpoint} is one pod's endpoints, as given to {@code serve
 * --vllm-events}.
 */
package io.kvhoard.server.index.vllm;
