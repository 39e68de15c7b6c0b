/** The operator's HTTP endpoint: Prometheus metrics, liveness, readiness and store statistics. */
package io.kvhoard.server.transport.http;
