import TensorCore

/// The random streams of one batch as a pure function of the seed and the batch's place in the
/// epoch, as the loader already does for samples.
///
/// The trainer hands each batch's objective (frame permutations, masks, mixup draws) and the
/// model's stochastic layers (dropout, drop-path) generators derived from `(seed, epoch, batch)`.
/// Which process or which micro-batch of an accumulated step handles a batch therefore changes no
/// draw: `mpirun -np 2` with batch B per rank takes the same draws as one process with batch B and
/// accumulation 2, and a resumed run the same as an uninterrupted one.
public enum BatchStreams {
    /// The objective's generator for batch `batch` of epoch `epoch`.
    public static func objective(seed: UInt64, epoch: Int, batch: Int) -> RandomGenerator {
        RandomGenerator(seed: mix(seed, salt: 0x4F42_4A45_4354_4956, epoch, batch))
    }

    /// The generator the model's stochastic layers are reseeded from before batch `batch` of
    /// epoch `epoch` (``TensorCore/Module/reseedRandomLayers(using:)``).
    public static func layers(seed: UInt64, epoch: Int, batch: Int) -> RandomGenerator {
        RandomGenerator(seed: mix(seed, salt: 0x4C41_5945_5253_5F5F, epoch, batch))
    }

    /// SplitMix64's finaliser after each word, so neighbouring batches get unrelated streams.
    static func mix(_ seed: UInt64, salt: UInt64, _ epoch: Int, _ batch: Int) -> UInt64 {
        func f(_ x: UInt64) -> UInt64 {
            var z = x &+ 0x9E37_79B9_7F4A_7C15
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        return f(f(f(seed ^ salt) ^ UInt64(bitPattern: Int64(epoch))) ^ UInt64(bitPattern: Int64(batch)))
    }
}
