/**
 * The block load generator: {@link io.kvhoard.perf.load.BlocksCommand} ({@code kvhoard-perf
 * blocks}) drives PUT and GET of fixed-size blocks over loopback against kvhoard and the peers a
 * user would pick instead (memcached, Redis), and against a raw pump (a plain Java socket server:
 * the copy limit of the machine), all with the same minimal harness speaking each system's protocol
 * on raw blocking sockets, so that servers are compared and not client libraries.
 *
 * <p>What lives here: {@code Target} (one system: how to start or reach its server and how a
 * connection speaks its protocol) with one implementation per system; {@code Wire} (the blocking
 * socket all of them share); {@code LoadRun} (connections, phases, latency histograms, the server's
 * CPU from {@code /proc}); {@code ServerProcess} and {@code Peers} (starting, stopping and
 * installing the peers' servers); {@link io.kvhoard.perf.load.RawPumpServer}, the raw pump, run as
 * a child process like every other server.
 *
 * <p>Every GET is verified (length, and the first and last 8 bytes, which encode the key), so a
 * system that returns wrong bytes fails the run instead of winning it.
 */
package io.kvhoard.perf.load;
