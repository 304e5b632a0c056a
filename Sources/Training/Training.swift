/// The `Training` library: optimizers, schedules, the trainer, evaluation and checkpoints.
///
/// This library is not implemented yet: it currently exposes nothing but this namespace, so that
/// the package layout (and its dependency rules) is fixed from the start.
public enum TrainingLibrary {
    /// The library's name, as listed in the package manifest.
    public static let name = "Training"
}
