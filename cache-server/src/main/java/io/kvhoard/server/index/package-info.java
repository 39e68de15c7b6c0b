/**
 * The prefix index: which pod holds which prefix of which namespace on which tier, fed by block
 * events ({@link io.kvhoard.server.index.BlockEventSink}), and the scorer gateways query to route a
 * request to the pod that already holds its prefix. The vLLM KV-event source lives in {@code
 * index.vllm}.
 */
package io.kvhoard.server.index;
