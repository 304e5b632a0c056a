import TensorCore
import VideoIO

/// The non-tensor part of a checkpoint (`trainer_state.json`): where the loop stood and every
/// random stream, so that a resumed run draws exactly what the uninterrupted one would have.
public struct TrainerState: Sendable, Equatable, Codable {
    /// Optimizer steps taken.
    public var step: Int
    /// The next batch the loader delivers.
    public var position: DataLoader.Position
    /// The trainer's own generator (frame permutations), as hex words.
    public var generator: [String]
    /// Each stochastic layer's generator (drop-path, dropout) by module path, as hex words.
    public var randomLayers: [String: [String]]
    /// The version of the library that wrote the checkpoint.
    public var libraryVersion: String
    /// The mean training loss of the steps since the previous checkpoint (nil in checkpoints from
    /// before it was recorded, or when no step ran).
    public var meanLoss: Double?
    /// The state of a `plateau` schedule (nil with every other schedule, and in older checkpoints).
    public var plateau: ReduceLROnPlateau.State?

    /// Captures a state; generators are stored as hexadecimal words so that JSON keeps all 64 bits.
    public init(step: Int, position: DataLoader.Position, generator: RandomGenerator,
                randomLayers: [String: RandomGenerator], libraryVersion: String = TrainingLibrary.version,
                meanLoss: Double? = nil, plateau: ReduceLROnPlateau.State? = nil) {
        self.step = step
        self.position = position
        self.generator = TrainerState.hex(generator)
        self.randomLayers = randomLayers.mapValues(TrainerState.hex)
        self.libraryVersion = libraryVersion
        self.meanLoss = meanLoss
        self.plateau = plateau
    }

    /// The trainer's generator, or nil when the stored words are malformed.
    public var trainerGenerator: RandomGenerator? { TrainerState.generator(generator) }

    /// The stochastic layers' generators, or nil when any stored word is malformed.
    public var randomLayerGenerators: [String: RandomGenerator]? {
        var result: [String: RandomGenerator] = [:]
        for (path, words) in randomLayers {
            guard let g = TrainerState.generator(words) else { return nil }
            result[path] = g
        }
        return result
    }

    static func hex(_ g: RandomGenerator) -> [String] { g.state.map { String($0, radix: 16) } }

    static func generator(_ words: [String]) -> RandomGenerator? {
        let state = words.compactMap { UInt64($0, radix: 16) }
        guard state.count == 4, words.count == 4 else { return nil }
        var g = RandomGenerator(seed: 0)
        g.state = state
        return g
    }
}

/// Facts about the Training library itself.
public enum TrainingLibrary {
    /// The version written into checkpoints.
    public static let version = "0.1.0"
}
