import Foundation

/// The processes of one data-parallel run and the collectives the trainer needs between them.
///
/// Training programs against this protocol only, so a single-process run never loads MPI: the
/// default is ``SingleProcessGroup`` (every collective a no-op) and the `Distributed` library adds
/// an Open MPI conformer that `videossl train` selects under `mpirun`. Every rank calls the same
/// collectives in the same order with buffers of the same length; a conformer must turn a rank
/// that stopped or hung into a thrown error or an orderly abort of the whole job, never a hang.
///
/// ```swift
/// var grads: [Float] = …
/// try group.allReduce(&grads, .average)   // every rank now holds the mean
/// ```
public protocol ProcessGroup: AnyObject {
    /// This process's index, `0..<worldSize`; rank 0 writes logs, plots and checkpoints.
    var rank: Int { get }
    /// The number of processes in the run.
    var worldSize: Int { get }
    /// The number of processes of this run on this machine (for the thread budget).
    var localSize: Int { get }
    /// Replaces `buffer` on every rank with rank `root`'s contents.
    func broadcast(_ buffer: UnsafeMutableBufferPointer<Float>, root: Int) throws
    /// Replaces `buffer` on every rank with the element-wise sum (or mean) over the ranks.
    func allReduce(_ buffer: UnsafeMutableBufferPointer<Float>, _ operation: ReductionOperation) throws
    /// As `allReduce(_:_:)` for Double values (metrics).
    func allReduce(_ buffer: UnsafeMutableBufferPointer<Double>, _ operation: ReductionOperation) throws
    /// Returns once every rank has called it.
    func barrier() throws
    /// Stops every rank of the run with `message` on standard error (exit status `status`).
    func abort(_ message: String, status: Int32) -> Never
    /// Waits for every rank, then releases the message-passing library; no collective may follow.
    func shutDown() throws
}

/// How `ProcessGroup.allReduce(_:_:)` combines the ranks' values.
public enum ReductionOperation: String, Sendable {
    /// The element-wise sum.
    case sum
    /// The element-wise sum times `1 / worldSize`.
    case average
    /// The element-wise maximum.
    case max
}

extension ProcessGroup {
    /// Whether more than one process takes part.
    public var isDistributed: Bool { worldSize > 1 }
    /// Whether this process writes the run's files (rank 0).
    public var isPrimary: Bool { rank == 0 }

    /// `allReduce(_:_:)` over an array.
    public func allReduce(_ values: inout [Float], _ operation: ReductionOperation) throws {
        try values.withUnsafeMutableBufferPointer { try allReduce($0, operation) }
    }

    /// `allReduce(_:_:)` over an array.
    public func allReduce(_ values: inout [Double], _ operation: ReductionOperation) throws {
        try values.withUnsafeMutableBufferPointer { try allReduce($0, operation) }
    }

    /// ``broadcast(_:root:)`` over an array.
    public func broadcast(_ values: inout [Float], root: Int = 0) throws {
        try values.withUnsafeMutableBufferPointer { try broadcast($0, root: root) }
    }
}

/// The one-process group: rank 0 of 1, every collective returns its input.
public final class SingleProcessGroup: ProcessGroup, @unchecked Sendable {
    /// Creates the group.
    public init() {}
    /// 0.
    public var rank: Int { 0 }
    /// 1.
    public var worldSize: Int { 1 }
    /// 1.
    public var localSize: Int { 1 }
    /// Does nothing.
    public func broadcast(_ buffer: UnsafeMutableBufferPointer<Float>, root: Int) throws {}
    /// Does nothing (the sum and mean of one value are the value).
    public func allReduce(_ buffer: UnsafeMutableBufferPointer<Float>, _ operation: ReductionOperation) throws {}
    /// Does nothing.
    public func allReduce(_ buffer: UnsafeMutableBufferPointer<Double>, _ operation: ReductionOperation) throws {}
    /// Does nothing.
    public func barrier() throws {}
    /// Does nothing.
    public func shutDown() throws {}
    /// Writes `message` to standard error and exits.
    public func abort(_ message: String, status: Int32) -> Never {
        FileHandle.standardError.write(Data((message + "\n").utf8))
        exit(status)
    }
}

/// What went wrong between the processes of a run.
public enum ProcessGroupError: Error, CustomStringConvertible, Equatable {
    /// A collective did not complete within its deadline: another rank stopped or hung.
    case timedOut(operation: String, rank: Int, seconds: Double)
    /// The message-passing library reported an error code.
    case library(operation: String, code: Int32, message: String)
    /// The environment asked for something the group cannot do.
    case unavailable(reason: String)

    public var description: String {
        switch self {
        case let .timedOut(operation, rank, seconds):
            return "rank \(rank): \(operation) did not complete within \(seconds) s; another rank has stopped or hung "
                + "(raise --collective-timeout if a rank is legitimately slower)"
        case let .library(operation, code, message):
            return "\(operation) failed with MPI error \(code): \(message)"
        case let .unavailable(reason):
            return "distributed training unavailable: \(reason)"
        }
    }
}
