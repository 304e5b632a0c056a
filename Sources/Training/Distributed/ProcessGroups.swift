import Foundation
import Synchronization

/// Chooses the ``ProcessGroup`` of a run: a message-passing conformer when the process was started
/// by a launcher such as `mpirun`, otherwise ``SingleProcessGroup``.
///
/// Training itself never links a message-passing library: a program that can run distributed
/// registers a launcher once (`videossl` registers Open MPI's from the `Distributed` library) and
/// asks for a group.
///
/// ```swift
/// ProcessGroups.register(name: "mpi", detect: MPIProcessGroup.isLaunchedByMPI) { try MPIProcessGroup(options: $0) }
/// let group = try ProcessGroups.make(.automatic, options: .init())
/// ```
public enum ProcessGroups {
    /// Which group a run asks for.
    public enum Mode: String, Sendable, CaseIterable {
        /// The registered launcher whose environment is present, else one process.
        case automatic = "auto"
        /// The registered launcher, whatever the environment says (an error when none is registered).
        case mpi
        /// One process, even under a launcher.
        case off
    }

    /// Settings for a group.
    public struct Options: Sendable {
        /// Seconds a collective may take before the run is stopped.
        public var collectiveTimeout: Double
        /// Creates options.
        public init(collectiveTimeout: Double = 300) {
            self.collectiveTimeout = collectiveTimeout
        }
    }

    /// A way to start a group.
    public struct Launcher: Sendable {
        /// The launcher's name (`mpi`).
        public var name: String
        /// Whether the environment shows that this process was started by the launcher.
        public var detect: @Sendable ([String: String]) -> Bool
        /// Joins the group.
        public var make: @Sendable (Options) throws -> any ProcessGroup
    }

    private static let launchers = Mutex<[Launcher]>([])

    /// Adds a launcher; a later one with the same name replaces the earlier.
    public static func register(
        name: String, detect: @escaping @Sendable ([String: String]) -> Bool,
        make: @escaping @Sendable (Options) throws -> any ProcessGroup
    ) {
        launchers.withLock { list in
            list.removeAll { $0.name == name }
            list.append(Launcher(name: name, detect: detect, make: make))
        }
    }

    /// The group for `mode`.
    ///
    /// - Throws: ``ProcessGroupError/unavailable(reason:)`` when `mode` is `.mpi` and no launcher
    ///   is registered, or what the launcher throws.
    public static func make(
        _ mode: Mode, options: Options = Options(),
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> any ProcessGroup {
        let registered = launchers.withLock { $0 }
        switch mode {
        case .off:
            return SingleProcessGroup()
        case .mpi:
            guard let launcher = registered.first else {
                throw ProcessGroupError.unavailable(reason: "this program was built without the Distributed library")
            }
            return try launcher.make(options)
        case .automatic:
            guard let launcher = registered.first(where: { $0.detect(environment) }) else { return SingleProcessGroup() }
            return try launcher.make(options)
        }
    }

    /// The compute threads each process of this machine gets by default: the cores divided by
    /// the processes started here (at least one), so ranks do not oversubscribe the machine.
    public static func threadsPerProcess(localProcesses: Int, cores: Int = ProcessInfo.processInfo.activeProcessorCount) -> Int {
        max(1, cores / max(1, localProcesses))
    }
}
