import Foundation
import VideoIO
import VideoTransformers

extension Recipe {
    /// Reads a recipe file and applies `key=value` overrides (e.g. `optimizer.lr=3e-4`).
    ///
    /// - Throws: ``RecipeError`` naming the file, the key or the override at fault.
    public init(contentsOf path: String, overrides: [String] = []) throws(RecipeError) {
        guard let data = FileManager.default.contents(atPath: path) else {
            let exists = FileManager.default.fileExists(atPath: path)
            throw .unreadable(path: path, reason: exists ? "permission denied or a directory" : "no such file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw .unreadable(path: path, reason: "not UTF-8 text")
        }
        try self.init(yaml: text, path: path, overrides: overrides)
    }

    /// Parses recipe YAML text (`path` labels errors) and applies `key=value` overrides.
    public init(yaml text: String, path: String = "<text>", overrides: [String] = []) throws(RecipeError) {
        let tree = try ConfigTree.parse(text, path: path).applying(overrides: overrides)
        guard case .map = tree else {
            throw .invalidYAML(path: path, reason: "the top level must be a mapping of sections")
        }
        try self.init(tree: tree)
    }

    private init(tree: ConfigTree) throws(RecipeError) {
        var top = try SectionReader(tree, path: "")

        var m = try top.section("model")
        let model = try ModelSection.read(from: &m)
        let validKeys = Backbones.variants[model.name]!.overrideKeys
        var overrides: [String: ConfigValue] = [:]
        var o = try m.section("overrides")
        for key in validKeys {
            guard let value = o.raw(key) else { continue }
            guard case .scalar(let s, _) = value, !s.isEmpty else {
                throw .wrongType(key: "model.overrides.\(key)", expected: "a value", found: value.kindDescription)
            }
            overrides[key] = Int(s).map(ConfigValue.int) ?? Double(s).map(ConfigValue.double) ?? .string(s)
        }
        try o.finish()
        try m.finish()
        do {
            _ = try Backbones.config(model.name, overrides: overrides)
        } catch {
            throw .invalidValue(key: "model.overrides", value: "\(overrides.sorted { $0.key < $1.key })",
                                reason: "do not give a valid backbone: \(error)")
        }

        let data = try DataSection.read(top.raw("data"), path: "data")
        var ob = try top.section("objective")
        let objective = try Objectives.readSection(&ob)
        try ob.finish()
        let optimizer = try OptimizerSection.read(top.raw("optimizer"), path: "optimizer")
        let schedule = try ScheduleSection.read(top.raw("schedule"), path: "schedule")
        let training = try TrainSection.read(top.raw("train"), path: "train")
        let evaluation = try EvalSection.read(top.raw("eval"), path: "eval")
        let seed = try top.int("seed", default: 0, minimum: 0)
        let output = try top.string("output_dir", default: "runs/run")
        try top.finish()
        guard !output.isEmpty else { throw .invalidValue(key: "output_dir", value: "\"\"", reason: "must name a folder") }

        self.init(model: model.name, train: data.train)
        self.model = model
        self.model.overrides = overrides
        self.data = data
        self.objective = objective
        self.optimizer = optimizer
        self.schedule = schedule
        self.training = training
        self.evaluation = evaluation
        self.seed = UInt64(seed)
        self.outputDir = output
    }

    /// The resolved recipe as YAML: every key with its value, defaults included. Reading it back
    /// gives an equal recipe.
    public var yaml: String { tree.yaml() }

    var tree: ConfigTree {
        let overrides: [(String, ConfigTree)] = model.overrides.sorted { $0.key < $1.key }.map { key, value in
            switch value {
            case .int(let i): return (key, .number(i))
            case .double(let d): return (key, .number(d))
            case .string(let t): return (key, .scalar(t, quoted: false))
            }
        }
        var modelPairs = model.pairs
        modelPairs.insert(("overrides", .map(overrides)), at: 1)
        return .map([
            ("model", .map(modelPairs)),
            ("data", .map(data.pairs)),
            ("objective", objective.tree),
            ("optimizer", .map(optimizer.pairs)),
            ("schedule", .map(schedule.pairs)),
            ("train", .map(training.pairs)),
            ("eval", .map(evaluation.pairs)),
            ("seed", .scalar("\(seed)", quoted: false)),
            ("output_dir", .scalar(outputDir, quoted: true)),
        ])
    }

    /// `path` resolved against ``DataSection/root`` when relative.
    public func dataPath(_ path: String) -> String {
        if path.hasPrefix("/") || data.root.isEmpty { return path }
        return (data.root as NSString).appendingPathComponent(path)
    }

    /// The classifier width a run of this recipe trains: `model.overrides.num_classes` when given,
    /// else the number of names in `data.classes`, else the largest training label + 1 — what
    /// ``TrainingSetup`` fills in, so evaluation of a run's checkpoint builds the same model.
    ///
    /// - Throws: ``DatasetError`` for an unreadable list or class-names file.
    public func classCount() throws -> Int {
        if let given = model.overrides["num_classes"]?.intValue { return given }
        if let classes = data.classes { return try VideoDataset.readClassNames(at: dataPath(classes)).count }
        return try videoList().classCount
    }

    /// A `path label` list of the recipe (`data.train` by default, or e.g. `data.val`), read with
    /// `data.root` and `data.allow_outside_root`.
    public func videoList(_ list: String? = nil) throws(DatasetError) -> VideoDataset {
        try VideoDataset.pathLabelList(at: dataPath(list ?? data.train), root: data.root.isEmpty ? nil : data.root,
                                       allowingPathsOutsideRoot: data.allowOutsideRoot)
    }

    /// Checks that every file and folder the data section names exists, so a run fails before
    /// training starts rather than hours in.
    ///
    /// - Throws: ``RecipeError/missingPath(key:path:)`` naming the first missing one.
    public func checkPaths() throws(RecipeError) {
        let fm = FileManager.default
        if !data.root.isEmpty && !fm.fileExists(atPath: data.root) {
            throw .missingPath(key: "data.root", path: data.root)
        }
        let files: [(String, String?)] = [
            ("data.train", data.train), ("data.val", data.val), ("data.subsets", data.subsets),
            ("data.classes", data.classes),
        ]
        for case let (key, path?) in files where !fm.fileExists(atPath: dataPath(path)) {
            throw .missingPath(key: key, path: dataPath(path))
        }
    }
}
