import Foundation

/// How a state dict matched a module: what was loaded, and every key that did not fit.
public struct StateDictReport: Sendable, Equatable {
    /// A key present on both sides whose shapes differ.
    public struct ShapeMismatch: Sendable, Equatable {
        /// The state-dict key.
        public var key: String
        /// The shape of the module's parameter.
        public var expected: [Int]
        /// The shape found in the state dict.
        public var found: [Int]

        /// Creates a mismatch record.
        public init(key: String, expected: [Int], found: [Int]) {
            self.key = key
            self.expected = expected
            self.found = found
        }
    }

    /// Module parameters with no value in the state dict, in parameter order.
    public var missing: [String] = []
    /// State-dict keys the module has no parameter for, in state-dict order.
    public var unexpected: [String] = []
    /// Keys on both sides with different shapes, in parameter order.
    public var shapeMismatched: [ShapeMismatch] = []
    /// Keys that matched in name and shape, in parameter order; they were assigned unless the load
    /// was strict and failed.
    public var loaded: [String] = []

    /// Creates an empty report.
    public init() {}

    /// Whether every parameter was matched by exactly one value of the right shape and nothing
    /// was left over.
    public var isExact: Bool { missing.isEmpty && unexpected.isEmpty && shapeMismatched.isEmpty }
}

extension StateDictReport: CustomStringConvertible {
    /// The problems, one category per line, listing keys (at most 20 per category).
    public var description: String {
        func list(_ keys: [String]) -> String {
            let shown = keys.prefix(20).joined(separator: ", ")
            return keys.count > 20 ? shown + ", … (\(keys.count - 20) more)" : shown
        }
        var lines: [String] = []
        if !missing.isEmpty { lines.append("missing (\(missing.count)): \(list(missing))") }
        if !unexpected.isEmpty { lines.append("unexpected (\(unexpected.count)): \(list(unexpected))") }
        if !shapeMismatched.isEmpty {
            let items = shapeMismatched.map { "\($0.key) expected \($0.expected) found \($0.found)" }
            lines.append("shape mismatched (\(shapeMismatched.count)): \(list(items))")
        }
        return lines.isEmpty ? "all \(loaded.count) keys matched" : lines.joined(separator: "\n")
    }
}

/// A strict state-dict load found missing, unexpected or shape-mismatched keys; the module was
/// left unchanged.
public struct StateDictError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file the state dict came from, when it came from one.
    public var path: String?
    /// Every mismatch found.
    public var report: StateDictReport

    /// Creates the error from a report.
    public init(path: String? = nil, report: StateDictReport) {
        self.path = path
        self.report = report
    }

    /// A message naming the source and listing the offending keys.
    public var description: String {
        let source = path.map { "\($0): " } ?? ""
        return source + "state dict does not match the module, nothing was loaded "
            + "(pass strict: false to load the matching keys)\n\(report)"
    }
}

extension StateDictError: LocalizedError {
    /// The same message as ``description``, so `localizedDescription` is informative too.
    public var errorDescription: String? { description }
}

extension Module {
    /// Every parameter's and buffer's current value, keyed by dotted PyTorch-style name, in
    /// PyTorch's `state_dict()` order (per module: parameters, buffers, then children). The tensors
    /// are detached copies-on-write of the values.
    public func stateDict() -> [(String, Tensor)] {
        namedStateEntries().map { ($0.0, $0.1.value.detached()) }
    }

    /// Assigns parameter and buffer values from a state dict.
    ///
    /// With `strict` (the default) any missing, unexpected or shape-mismatched key throws a
    /// ``StateDictError`` listing all of them, and no parameter is modified. Without it, the keys
    /// that match in name and shape are loaded and the report tells what was skipped.
    ///
    /// - Precondition: no key appears twice in `state`.
    @discardableResult
    public func loadStateDict(_ state: [(String, Tensor)], strict: Bool = true) throws(StateDictError) -> StateDictReport {
        var values: [String: Tensor] = [:]
        for (key, value) in state {
            precondition(values.updateValue(value, forKey: key) == nil, "loadStateDict: duplicate key '\(key)'")
        }
        let (report, targets) = matchState(state.map { ($0.0, $0.1.shape) })
        if strict && !report.isExact { throw StateDictError(report: report) }
        for (key, entry) in targets { entry.assign(values[key]!) }
        return report
    }

    /// Assigns parameter values from an unordered state dict (see the ordered overload);
    /// unexpected keys are reported in sorted order.
    @discardableResult
    public func loadStateDict(_ state: [String: Tensor], strict: Bool = true) throws(StateDictError) -> StateDictReport {
        try loadStateDict(state.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }, strict: strict)
    }

    /// Writes ``stateDict()`` to a safetensors file (atomically), with optional string metadata.
    public func save(to url: URL, metadata: [String: String] = [:]) throws(SafeTensorsError) {
        try SafeTensors.write(stateDict(), metadata: metadata, to: url)
    }

    /// Loads parameter values from a safetensors file, with the semantics of
    /// `loadStateDict(_:strict:)`.
    ///
    /// Only the tensors the module needs are converted, and all of them are converted before any
    /// parameter is assigned, so a failure leaves the module unchanged.
    ///
    /// PyTorch's BatchNorm counter `num_batches_tracked` (an integer tensor in every state dict of a
    /// model with BatchNorm) has no counterpart here (``BatchNorm`` keeps no counter), so integer
    /// entries under that name are passed over rather than reported as unexpected.
    ///
    /// - Throws: ``SafeTensorsError`` when the file is unreadable or malformed, or when a matching
    ///   key holds integer data; ``StateDictError`` (carrying `url.path`) for a strict mismatch.
    @discardableResult
    public func load(from url: URL, strict: Bool = true) throws -> StateDictReport {
        let file = try SafeTensors.read(contentsOf: url)
        let entries = file.entries.filter {
            $0.dtype.isFloatingPoint || !($0.name == "num_batches_tracked" || $0.name.hasSuffix(".num_batches_tracked"))
        }
        let (report, targets) = matchState(entries.map { ($0.name, $0.shape) })
        if strict && !report.isExact { throw StateDictError(path: url.path, report: report) }
        var values: [(StateEntry, Tensor)] = []
        for (key, entry) in targets { values.append((entry, try file.tensor(named: key))) }
        for (entry, value) in values { entry.assign(value) }
        return report
    }

    /// Compares the available keys and shapes with the parameters and buffers, without touching
    /// anything.
    private func matchState(_ available: [(String, [Int])]) -> (StateDictReport, [(String, StateEntry)]) {
        let shapes = Dictionary(available, uniquingKeysWith: { first, _ in first })
        let parameters = namedStateEntries()
        let known = Set(parameters.map(\.0))
        var report = StateDictReport()
        var targets: [(String, StateEntry)] = []
        for (key, parameter) in parameters {
            guard let shape = shapes[key] else {
                report.missing.append(key)
                continue
            }
            if shape == parameter.shape {
                report.loaded.append(key)
                targets.append((key, parameter))
            } else {
                report.shapeMismatched.append(.init(key: key, expected: parameter.shape, found: shape))
            }
        }
        report.unexpected = available.map(\.0).filter { !known.contains($0) }
        return (report, targets)
    }
}
