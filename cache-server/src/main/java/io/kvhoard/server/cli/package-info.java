/**
 * The {@code kvhoard} command line: one executable jar ({@code cache-server/target/kvhoard.jar})
 * whose subcommands run the server and talk to it. {@link io.kvhoard.server.cli.KvHoardCommand} is
 * the entry point; each subcommand is a class of its own with a {@code --help}.
 */
package io.kvhoard.server.cli;
