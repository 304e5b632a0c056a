/// Pure functions on clip tensors that apply the same parameters to every frame.
///
/// Clips are Float32 tensors in one of the ``ClipLayout`` orders (`[T, C, H, W]` by default). Random
/// transforms take an explicit `inout RandomGenerator` and draw their parameters once per clip, so
/// the same seed always gives the same clip. Results carry no autograd history.
public enum ClipTransforms {}
