#pragma once
// Samsa's exit codes: what App::serve() and App::run return (samsa/app.hpp includes this
// header), and what a consumer group's listener reports.

namespace samsa {

/// Exit codes of serve() and of `server`, and of App::run's other commands.
enum ExitCode : int {
  kExitOk = 0,
  /// A setting, a route or the command line is invalid, or the librdkafka loaded is not one
  /// this build of Samsa runs on (check_librdkafka); nothing was consumed.
  kExitConfig = 2,
  /// The graceful shutdown took longer than shutdown_timeout: what was marked was
  /// committed, jobs still running were abandoned.
  kExitShutdownTimeout = 3,
  /// A consumer group failed fatally (e.g. a fatal librdkafka error, or a SASL
  /// authentication or TLS handshake failure before it first reached the cluster), or an
  /// admin command (`topics plan`, `topics create`) could not read the cluster.
  kExitFatal = 4,
  /// The graceful shutdown finished, but the broker did not confirm the commit of some
  /// marked offsets (broker unreachable, membership lost): what was handled after the last
  /// confirmed commit is delivered again to the next owner. Nothing is lost. Also when
  /// messages of App::producer() were still undelivered at the end of the shutdown.
  kExitUncommitted = 5,
  /// `topics plan` / `topics create` (App::run): a routed topic (or dead-letter topic) is
  /// missing, or differs from its route (partitions, replication factor, a config), or the
  /// broker cannot say whether it matches (e.g. it cannot describe configs). Samsa never
  /// changes an existing topic; the output says what differs and how to change it.
  kExitTopicsDiffer = 6,
  /// A second signal stopped the process at once.
  kExitForced = 130,
};

}  // namespace samsa
