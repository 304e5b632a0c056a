import Foundation
import TensorCore
import VideoTransformers

/// The registry of training objectives, mirroring ``Backbones``: a recipe's `objective.kind` names
/// one, and the rest of its `objective` section is read by that objective's settings type.
///
/// Built in: `supervised` (``SupervisedObjective``), `time` (``TIMETrainingObjective``), `svt`, `videomae`,
/// `iic` (``IICTrainingObjective``) and `image_time` (``ImageTIMETrainingObjective``). A new
/// method registers once at start-up, before recipes that use it are read:
///
/// ```swift
/// try Objectives.register(.init(kind: "reverse", summary: "frame-reversal classification",
///                               settings: ReverseSettings.self) { settings, context, generator in
///     try ReverseObjective(settings, context: context, using: &generator)
/// })
/// ```
public enum Objectives {
    /// How to read one objective's recipe section and build it.
    public struct Registration: Sendable {
        /// The name recipes use in `objective.kind`.
        public let kind: String
        /// One line for listings.
        public let summary: String
        /// Whether the backbone keeps its classifier: when false and the recipe sets no
        /// `model.overrides.num_classes`, the backbone is built with `num_classes: 0` (its feature
        /// is the class embedding) — self-supervised methods without labels.
        public let usesClassifier: Bool
        /// Backbone overrides the objective needs unless the recipe sets them (VideoMAE's
        /// pre-training encoder: `use_mean_pooling: false`).
        public let backboneDefaults: [String: ConfigValue]
        let readSettings: @Sendable (inout SectionReader) throws(RecipeError) -> ConfigTree
        let defaults: ConfigTree
        let make: @Sendable (ConfigTree, ObjectiveContext, inout RandomGenerator) throws -> any TrainingObjective

        /// Creates a registration whose section keys are the fields of `S` (beside `kind`).
        public init<S: RecipeSection>(
            kind: String, summary: String, settings: S.Type, usesClassifier: Bool = true,
            backboneDefaults: [String: ConfigValue] = [:],
            make: @escaping @Sendable (S, ObjectiveContext, inout RandomGenerator) throws -> any TrainingObjective
        ) {
            self.kind = kind
            self.summary = summary
            self.usesClassifier = usesClassifier
            self.backboneDefaults = backboneDefaults
            readSettings = { reader throws(RecipeError) in .map(try S.read(from: &reader).pairs) }
            defaults = .map(S().pairs)
            self.make = { tree, context, generator in
                try make(try S.read(tree, path: "objective"), context, &generator)
            }
        }
    }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var registrations: [String: Registration] = [
        SupervisedObjective.registration.kind: SupervisedObjective.registration,
        TIMETrainingObjective.registration.kind: TIMETrainingObjective.registration,
        SVTTrainingObjective.registration.kind: SVTTrainingObjective.registration,
        VideoMAETrainingObjective.registration.kind: VideoMAETrainingObjective.registration,
        IICTrainingObjective.registration.kind: IICTrainingObjective.registration,
        ImageTIMETrainingObjective.registration.kind: ImageTIMETrainingObjective.registration,
    ]

    /// The registered kinds, sorted.
    public static var kinds: [String] { lock.withLock { registrations.keys.sorted() } }

    /// The registration of `kind`, if any.
    public static func registration(_ kind: String) -> Registration? {
        lock.withLock { registrations[kind] }
    }

    /// Adds an objective.
    ///
    /// - Throws: ``ObjectiveError/duplicateKind(_:)`` when the kind is taken.
    public static func register(_ registration: Registration) throws(ObjectiveError) {
        let added: Bool = lock.withLock {
            guard registrations[registration.kind] == nil else { return false }
            registrations[registration.kind] = registration
            return true
        }
        guard added else { throw .duplicateKind(registration.kind) }
    }

    /// Builds the objective a recipe's section describes.
    ///
    /// - Throws: ``ObjectiveError`` (unknown kind, a backbone without the tokens it needs) or what
    ///   the objective's factory throws.
    public static func make(
        _ section: Recipe.ObjectiveSection, context: ObjectiveContext, using generator: inout RandomGenerator
    ) throws -> any TrainingObjective {
        guard let registration = registration(section.kind) else {
            throw ObjectiveError.unknownKind(section.kind, available: kinds)
        }
        return try registration.make(section.settings, context, &generator)
    }

    /// TIME with its reference settings.
    static var defaultSection: Recipe.ObjectiveSection {
        let time = TIMETrainingObjective.registration
        return Recipe.ObjectiveSection(kind: time.kind, settings: time.defaults)
    }

    /// Reads `objective.kind` (default `time`) and the keys of that objective's settings.
    static func readSection(_ reader: inout SectionReader) throws(RecipeError) -> Recipe.ObjectiveSection {
        let kind = try reader.string("kind", default: TIMETrainingObjective.registration.kind)
        guard let registration = registration(kind) else {
            throw .invalidValue(key: reader.full("kind"), value: kind,
                                reason: "is not a registered objective (\(kinds.joined(separator: ", ")))")
        }
        return Recipe.ObjectiveSection(kind: kind, settings: try registration.readSettings(&reader))
    }
}

extension Recipe {
    /// The recipe with the objective `kind`, keeping the values of every key the two objectives
    /// share (`label_smoothing`, `weights.cls`, …) and the new objective's defaults for the rest;
    /// keys only the old objective knows are dropped. The demo trains its baseline this way.
    ///
    /// - Throws: ``RecipeError`` for an unknown kind or a shared key whose value the new objective
    ///   refuses.
    public func withObjective(_ kind: String) throws(RecipeError) -> Recipe {
        guard let registration = Objectives.registration(kind) else {
            throw .invalidValue(key: "objective.kind", value: kind,
                                reason: "is not a registered objective (\(Objectives.kinds.joined(separator: ", ")))")
        }
        var reader = try SectionReader(objective.settings, path: "objective")
        reader.lenient = true
        var copy = self
        copy.objective = ObjectiveSection(kind: kind, settings: try registration.readSettings(&reader))
        return copy
    }
}

extension Recipe.ObjectiveSection {
    /// The section as written to `config.yaml`: `kind` first, then the objective's keys.
    var tree: ConfigTree {
        guard case .map(let pairs) = settings else { return .map([("kind", .scalar(kind, quoted: true))]) }
        return .map([("kind", .scalar(kind, quoted: true))] + pairs)
    }
}
