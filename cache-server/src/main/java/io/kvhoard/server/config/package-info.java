/**
 * The server's settings: one table ({@link io.kvhoard.server.config.Setting}) from which the
 * command line, the environment ({@code KVHOARD_*}), the YAML config file and {@code serve --help}
 * come, and {@link io.kvhoard.server.config.ServerConfig}, which resolves and validates them.
 */
package io.kvhoard.server.config;
