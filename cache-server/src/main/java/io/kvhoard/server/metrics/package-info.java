/** Meters of the store for Micrometer (exposed as Prometheus text on the HTTP endpoint). */
package io.kvhoard.server.metrics;
