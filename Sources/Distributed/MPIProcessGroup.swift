import Foundation
import Logging
import Training
internal import _CMPI

/// The processes of an `mpirun` job as a ``Training/ProcessGroup`` over Open MPI.
///
/// Rank and size come from `MPI_COMM_WORLD`; the processes on this machine from a shared-memory
/// split of it. Every collective is non-blocking (`MPI_Ibcast`, `MPI_Iallreduce`, `MPI_Ibarrier`)
/// and polled with `MPI_Test` against a deadline: a rank that was killed or hangs makes the
/// others stop the whole job with `MPI_Abort` and a message naming the collective, never wait
/// forever. `mpirun` itself ends the job when a rank exits with an error.
///
/// ```swift
/// MPIProcessGroup.register()              // once, in the program
/// let group = try ProcessGroups.make(.automatic)
/// ```
public final class MPIProcessGroup: ProcessGroup, @unchecked Sendable {
    /// This process's rank in `MPI_COMM_WORLD`.
    public let rank: Int
    /// The size of `MPI_COMM_WORLD`.
    public let worldSize: Int
    /// The ranks sharing this machine.
    public let localSize: Int
    /// Seconds a collective may take before the job is aborted.
    public let collectiveTimeout: Double
    private let comm: MPI_Comm?
    private var finalized = false
    private let logger = Logger(label: "videossl.distributed")

    /// Environment variables Open MPI, MPICH and PMIx launchers set in every process they start.
    public static let launcherVariables = ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"]

    /// Whether `environment` shows a process started by `mpirun` (or another PMI launcher).
    public static func isLaunchedByMPI(_ environment: [String: String]) -> Bool {
        launcherVariables.contains { environment[$0] != nil }
    }

    /// Registers the MPI launcher with ``Training/ProcessGroups`` under the name `mpi`.
    public static func register() {
        ProcessGroups.register(name: "mpi", detect: isLaunchedByMPI) { try MPIProcessGroup(options: $0) }
    }

    /// Initialises MPI (funnelled threads: only the training thread calls MPI) and joins
    /// `MPI_COMM_WORLD`.
    ///
    /// - Throws: ``Training/ProcessGroupError/library(operation:code:message:)`` when MPI cannot start.
    public init(options: ProcessGroups.Options = ProcessGroups.Options()) throws {
        var provided: Int32 = 0
        var initialized: Int32 = 0
        MPI_Initialized(&initialized)
        if initialized == 0 {
            let code = MPI_Init_thread(nil, nil, cmpi_thread_funneled(), &provided)
            guard code == cmpi_success() else {
                throw ProcessGroupError.library(operation: "MPI_Init_thread", code: code, message: Self.errorText(code))
            }
        }
        comm = cmpi_comm_world()
        MPI_Comm_set_errhandler(comm, cmpi_errors_return())
        var r: Int32 = 0, n: Int32 = 0
        MPI_Comm_rank(comm, &r)
        MPI_Comm_size(comm, &n)
        rank = Int(r)
        worldSize = Int(n)
        var local: MPI_Comm? = nil
        var localCount: Int32 = 1
        if MPI_Comm_split_type(comm, cmpi_comm_type_shared(), r, cmpi_info_null(), &local) == cmpi_success() {
            MPI_Comm_size(local, &localCount)
            MPI_Comm_free(&local)
        }
        localSize = Int(localCount)
        collectiveTimeout = options.collectiveTimeout
        logger.debug("joined MPI_COMM_WORLD", metadata: ["rank": "\(rank)", "size": "\(worldSize)", "local": "\(localSize)"])
    }

    public func broadcast(_ buffer: UnsafeMutableBufferPointer<Float>, root: Int) throws {
        try chunked(buffer.count) { offset, count in
            var request: MPI_Request? = cmpi_request_null()
            let code = MPI_Ibcast(buffer.baseAddress! + offset, count, cmpi_float(), Int32(root), comm, &request)
            try wait(&request, code: code, operation: "broadcast of \(buffer.count) floats from rank \(root)")
        }
    }

    public func allReduce(_ buffer: UnsafeMutableBufferPointer<Float>, _ operation: ReductionOperation) throws {
        try chunked(buffer.count) { offset, count in
            var request: MPI_Request? = cmpi_request_null()
            let code = MPI_Iallreduce(cmpi_in_place(), buffer.baseAddress! + offset, count, cmpi_float(),
                                      operation == .max ? cmpi_max() : cmpi_sum(), comm, &request)
            try wait(&request, code: code, operation: "all-reduce of \(buffer.count) floats")
        }
        if operation == .average {
            let scale = 1 / Float(worldSize)
            for i in buffer.indices { buffer[i] *= scale }
        }
    }

    public func allReduce(_ buffer: UnsafeMutableBufferPointer<Double>, _ operation: ReductionOperation) throws {
        try chunked(buffer.count) { offset, count in
            var request: MPI_Request? = cmpi_request_null()
            let code = MPI_Iallreduce(cmpi_in_place(), buffer.baseAddress! + offset, count, cmpi_double(),
                                      operation == .max ? cmpi_max() : cmpi_sum(), comm, &request)
            try wait(&request, code: code, operation: "all-reduce of \(buffer.count) doubles")
        }
        if operation == .average {
            for i in buffer.indices { buffer[i] /= Double(worldSize) }
        }
    }

    public func barrier() throws {
        var request: MPI_Request? = cmpi_request_null()
        let code = MPI_Ibarrier(comm, &request)
        try wait(&request, code: code, operation: "barrier")
    }

    public func abort(_ message: String, status: Int32) -> Never {
        FileHandle.standardError.write(Data("rank \(rank) of \(worldSize): \(message)\n".utf8))
        MPI_Abort(comm, status)
        exit(status)
    }

    public func shutDown() throws {
        guard !finalized else { return }
        try barrier()
        finalized = true
        MPI_Finalize()
    }

    /// Runs `body` over pieces of at most 2^30 elements (MPI counts are 32-bit).
    private func chunked(_ count: Int, _ body: (Int, Int32) throws -> Void) throws {
        precondition(!finalized, "MPIProcessGroup: collective after shutDown()")
        var offset = 0
        repeat {
            let n = min(count - offset, 1 << 30)
            try body(offset, Int32(n))
            offset += n
        } while offset < count
    }

    /// Polls `request` until it completes; past the deadline the job is aborted.
    private func wait(_ request: inout MPI_Request?, code: Int32, operation: String) throws {
        guard code == cmpi_success() else {
            throw ProcessGroupError.library(operation: operation, code: code, message: Self.errorText(code))
        }
        let start = DispatchTime.now().uptimeNanoseconds
        let deadline = start + UInt64(collectiveTimeout * 1e9)
        var done: Int32 = 0
        var polls = 0
        while true {
            let status = MPI_Test(&request, &done, cmpi_status_ignore())
            guard status == cmpi_success() else {
                throw ProcessGroupError.library(operation: operation, code: status, message: Self.errorText(status))
            }
            if done != 0 { return }
            polls += 1
            let now = DispatchTime.now().uptimeNanoseconds
            if now > deadline {
                let error = ProcessGroupError.timedOut(operation: operation, rank: rank, seconds: collectiveTimeout)
                logger.critical("\(error)")
                abort("\(error); stopping the job", status: 3)
            }
            // Open MPI advances a non-blocking collective only inside MPI calls, so polls must
            // come often: yield between them (other runnable threads get the core) and sleep
            // only once the wait has lasted a second, when a rank is evidently busy elsewhere.
            if now - start > 1_000_000_000 && polls % 64 == 0 { usleep(100) } else { sched_yield() }
        }
    }

    private static func errorText(_ code: Int32) -> String {
        var text = [CChar](repeating: 0, count: Int(cmpi_max_error_string()) + 1)
        var length: Int32 = 0
        MPI_Error_string(code, &text, &length)
        return String(decoding: text.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
