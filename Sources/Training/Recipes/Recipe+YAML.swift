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
        guard let name = try m.string("name") else { throw .missingKey("model.name") }
        guard Backbones.variants[name] != nil else {
            throw .invalidValue(key: "model.name", value: name,
                                reason: "is not a registered backbone (\(Backbones.names.joined(separator: ", ")))")
        }
        var overrides: [String: ConfigValue] = [:]
        var o = try m.section("overrides")
        for key in Backbones.overrideKeys {
            guard let value = o.raw(key) else { continue }
            guard case .scalar(let s, _) = value else {
                throw .wrongType(key: "model.overrides.\(key)", expected: "a number", found: value.kindDescription)
            }
            overrides[key] = Int(s).map(ConfigValue.int) ?? Double(s).map(ConfigValue.double) ?? .string(s)
        }
        try o.finish()
        try m.finish()
        do {
            _ = try Backbones.config(name, overrides: overrides)
        } catch {
            throw .invalidValue(key: "model.overrides", value: "\(overrides.sorted { $0.key < $1.key })",
                                reason: "do not give a valid backbone: \(error)")
        }

        var d = try top.section("data")
        guard let train = try d.string("train") else { throw .missingKey("data.train") }
        var data = Data(train: train)
        data.root = try d.string("root", default: data.root)
        data.val = try d.string("val")
        data.subsets = try d.string("subsets")
        data.classes = try d.string("classes")
        data.frames = try d.int("frames", default: data.frames, minimum: 1)
        data.decodeSize = try d.ints("decode_size", count: 2) ?? data.decodeSize
        data.scaleJitter = try d.ints("scale_jitter", count: 2) ?? data.scaleJitter
        data.crop = try d.int("crop", default: data.crop, minimum: 1)
        data.sampler = try d.choice("sampler", default: data.sampler)
        data.randAugment = try d.string("rand_augment")
        data.flip = try d.bool("flip", default: data.flip)
        data.mean = try d.doubles("mean", count: 3) ?? data.mean
        data.std = try d.doubles("std", count: 3) ?? data.std
        data.workers = try d.int("workers", default: data.workers, minimum: 1)
        try d.finish()
        for (i, v) in (data.decodeSize + data.scaleJitter).enumerated() where v < 1 {
            throw .invalidValue(key: i < 2 ? "data.decode_size" : "data.scale_jitter", value: "\(v)",
                                reason: "must be positive")
        }
        guard data.scaleJitter[0] <= data.scaleJitter[1] else {
            throw .invalidValue(key: "data.scale_jitter", value: "\(data.scaleJitter)", reason: "must be [min, max]")
        }
        guard data.crop <= data.scaleJitter[0] else {
            throw .invalidValue(key: "data.crop", value: "\(data.crop)",
                                reason: "exceeds the smallest jittered short side \(data.scaleJitter[0])")
        }
        if let config = data.randAugment {
            do { _ = try RandAugment(config: config) } catch {
                throw .invalidValue(key: "data.rand_augment", value: config, reason: "is not a RandAugment string: \(error)")
            }
        }
        if let std = data.std.first(where: { $0 <= 0 }) {
            throw .invalidValue(key: "data.std", value: "\(std)", reason: "must be positive")
        }

        var ob = try top.section("objective")
        var objective = Objective()
        objective.kind = try ob.choice("kind", default: objective.kind)
        objective.labelSmoothing = try ob.double("label_smoothing", default: objective.labelSmoothing)
        var w = try ob.section("weights")
        objective.classificationWeight = try w.double("cls", default: 1)
        objective.orderWeight = try w.double("order", default: 1)
        objective.debiasWeight = try w.double("debias", default: 1)
        objective.flowWeight = try w.double("flow", default: 1)
        try w.finish()
        try ob.finish()
        guard (0..<1).contains(objective.labelSmoothing) else {
            throw .invalidValue(key: "objective.label_smoothing", value: "\(objective.labelSmoothing)",
                                reason: "must lie in [0, 1)")
        }

        var op = try top.section("optimizer")
        var optimizer = Optimizer()
        optimizer.name = try op.choice("name", default: optimizer.name)
        optimizer.lr = try op.double("lr", default: optimizer.lr)
        optimizer.betas = try op.doubles("betas", count: 2) ?? optimizer.betas
        optimizer.eps = try op.double("eps", default: optimizer.eps)
        optimizer.amsgrad = try op.bool("amsgrad", default: optimizer.amsgrad)
        optimizer.momentum = try op.double("momentum", default: optimizer.momentum)
        optimizer.nesterov = try op.bool("nesterov", default: optimizer.nesterov)
        optimizer.weightDecay = try op.double("weight_decay", default: optimizer.weightDecay)
        optimizer.weightDecayRule = try op.choice("weight_decay_rule", default: optimizer.weightDecayRule)
        try op.finish()
        guard optimizer.lr >= 0 else {
            throw .invalidValue(key: "optimizer.lr", value: "\(optimizer.lr)", reason: "must not be negative")
        }
        guard optimizer.betas.allSatisfy({ (0..<1).contains($0) }) else {
            throw .invalidValue(key: "optimizer.betas", value: "\(optimizer.betas)", reason: "must lie in [0, 1)")
        }

        var s = try top.section("schedule")
        var schedule = Schedule()
        schedule.policy = try s.choice("policy", default: schedule.policy)
        schedule.steps = try s.doubles("steps") ?? schedule.steps
        schedule.relativeLRs = try s.doubles("relative_lrs") ?? schedule.relativeLRs
        schedule.endLR = try s.double("end_lr", default: schedule.endLR)
        schedule.warmupEpochs = try s.double("warmup_epochs", default: schedule.warmupEpochs)
        schedule.warmupStartLR = try s.double("warmup_start_lr", default: schedule.warmupStartLR)
        try s.finish()
        if schedule.policy == .stepsWithRelativeLRs {
            guard schedule.steps.count == schedule.relativeLRs.count, schedule.steps.first == 0,
                  zip(schedule.steps, schedule.steps.dropFirst()).allSatisfy({ $0 < $1 }) else {
                throw .invalidValue(key: "schedule.steps", value: "\(schedule.steps)",
                                    reason: "must start at 0, increase, and match schedule.relative_lrs in count")
            }
        }

        var t = try top.section("train")
        var training = Training()
        training.epochs = try t.int("epochs", default: training.epochs, minimum: 1)
        training.batchSize = try t.int("batch_size", default: training.batchSize, minimum: 1)
        training.accumulation = try t.int("accumulation", default: training.accumulation, minimum: 1)
        training.clipGradNorm = try t.double("clip_grad_norm")
        training.emaDecay = try t.double("ema_decay")
        training.maxSteps = try t.int("max_steps", minimum: 1)
        training.checkpointEvery = try t.int("checkpoint_every", default: training.checkpointEvery, minimum: 1)
        training.keepCheckpoints = try t.int("keep_checkpoints", default: training.keepCheckpoints, minimum: 1)
        training.logEvery = try t.int("log_every", default: training.logEvery, minimum: 1)
        try t.finish()
        if let decay = training.emaDecay, !(0...1).contains(decay) {
            throw .invalidValue(key: "train.ema_decay", value: "\(decay)", reason: "must lie in [0, 1]")
        }

        let seed = try top.int("seed", default: 0, minimum: 0)
        let output = try top.string("output_dir", default: "runs/run")
        try top.finish()

        self.init(model: name, train: train)
        self.model.overrides = overrides
        self.data = data
        self.objective = objective
        self.optimizer = optimizer
        self.schedule = schedule
        self.training = training
        self.seed = UInt64(seed)
        self.outputDir = output
    }

    /// The resolved recipe as YAML: every key with its value, defaults included. Reading it back
    /// gives an equal recipe.
    public var yaml: String { tree.yaml() }

    var tree: ConfigTree {
        func n(_ v: Double) -> ConfigTree { .scalar("\(v)", quoted: false) }
        func n(_ v: Int) -> ConfigTree { .scalar("\(v)", quoted: false) }
        func s(_ v: String) -> ConfigTree { .scalar(v, quoted: true) }
        func b(_ v: Bool) -> ConfigTree { .scalar(v ? "true" : "false", quoted: false) }
        func opt<T>(_ v: T?, _ f: (T) -> ConfigTree) -> ConfigTree { v.map(f) ?? .null }
        func list(_ v: [Double]) -> ConfigTree { .list(v.map(n)) }
        func list(_ v: [Int]) -> ConfigTree { .list(v.map(n)) }
        let overrides: [(String, ConfigTree)] = model.overrides.sorted { $0.key < $1.key }.map { key, value in
            switch value {
            case .int(let i): return (key, n(i))
            case .double(let d): return (key, n(d))
            case .string(let t): return (key, .scalar(t, quoted: false))
            }
        }
        return .map([
            ("model", .map([("name", s(model.name)), ("overrides", .map(overrides))])),
            ("data", .map([
                ("root", s(data.root)), ("train", s(data.train)), ("val", opt(data.val, s)),
                ("subsets", opt(data.subsets, s)), ("classes", opt(data.classes, s)),
                ("frames", n(data.frames)), ("decode_size", list(data.decodeSize)),
                ("scale_jitter", list(data.scaleJitter)), ("crop", n(data.crop)),
                ("sampler", s(data.sampler.rawValue)), ("rand_augment", opt(data.randAugment, s)),
                ("flip", b(data.flip)), ("mean", list(data.mean)), ("std", list(data.std)),
                ("workers", n(data.workers)),
            ])),
            ("objective", .map([
                ("kind", s(objective.kind.rawValue)), ("label_smoothing", n(objective.labelSmoothing)),
                ("weights", .map([
                    ("cls", n(objective.classificationWeight)), ("order", n(objective.orderWeight)),
                    ("debias", n(objective.debiasWeight)), ("flow", n(objective.flowWeight)),
                ])),
            ])),
            ("optimizer", .map([
                ("name", s(optimizer.name.rawValue)), ("lr", n(optimizer.lr)), ("betas", list(optimizer.betas)),
                ("eps", n(optimizer.eps)), ("amsgrad", b(optimizer.amsgrad)), ("momentum", n(optimizer.momentum)),
                ("nesterov", b(optimizer.nesterov)), ("weight_decay", n(optimizer.weightDecay)),
                ("weight_decay_rule", s(optimizer.weightDecayRule.rawValue)),
            ])),
            ("schedule", .map([
                ("policy", s(schedule.policy.rawValue)), ("steps", list(schedule.steps)),
                ("relative_lrs", list(schedule.relativeLRs)), ("end_lr", n(schedule.endLR)),
                ("warmup_epochs", n(schedule.warmupEpochs)), ("warmup_start_lr", n(schedule.warmupStartLR)),
            ])),
            ("train", .map([
                ("epochs", n(training.epochs)), ("batch_size", n(training.batchSize)),
                ("accumulation", n(training.accumulation)), ("clip_grad_norm", opt(training.clipGradNorm, n)),
                ("ema_decay", opt(training.emaDecay, n)), ("max_steps", opt(training.maxSteps, n)),
                ("checkpoint_every", n(training.checkpointEvery)),
                ("keep_checkpoints", n(training.keepCheckpoints)), ("log_every", n(training.logEvery)),
            ])),
            ("seed", .scalar("\(seed)", quoted: false)),
            ("output_dir", s(outputDir)),
        ])
    }

    /// `path` resolved against ``Data/root`` when relative.
    public func dataPath(_ path: String) -> String {
        if path.hasPrefix("/") || data.root.isEmpty { return path }
        return (data.root as NSString).appendingPathComponent(path)
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
