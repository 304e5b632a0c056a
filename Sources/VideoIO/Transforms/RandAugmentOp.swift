/// One RandAugment operation, named as in timm's `auto_augment.py`.
public enum RandAugmentOp: String, Sendable, Hashable, CaseIterable {
    /// timm's `AutoContrast`.
    case autoContrast = "AutoContrast"
    /// timm's `Equalize`.
    case equalize = "Equalize"
    /// timm's `Invert`.
    case invert = "Invert"
    /// timm's `Rotate`.
    case rotate = "Rotate"
    /// timm's `Posterize`.
    case posterize = "Posterize"
    /// timm's `PosterizeIncreasing`.
    case posterizeIncreasing = "PosterizeIncreasing"
    /// timm's `Solarize`.
    case solarize = "Solarize"
    /// timm's `SolarizeIncreasing`.
    case solarizeIncreasing = "SolarizeIncreasing"
    /// timm's `SolarizeAdd`.
    case solarizeAdd = "SolarizeAdd"
    /// timm's `Color`.
    case color = "Color"
    /// timm's `ColorIncreasing`.
    case colorIncreasing = "ColorIncreasing"
    /// timm's `Contrast`.
    case contrast = "Contrast"
    /// timm's `ContrastIncreasing`.
    case contrastIncreasing = "ContrastIncreasing"
    /// timm's `Brightness`.
    case brightness = "Brightness"
    /// timm's `BrightnessIncreasing`.
    case brightnessIncreasing = "BrightnessIncreasing"
    /// timm's `Sharpness`.
    case sharpness = "Sharpness"
    /// timm's `SharpnessIncreasing`.
    case sharpnessIncreasing = "SharpnessIncreasing"
    /// timm's `ShearX`.
    case shearX = "ShearX"
    /// timm's `ShearY`.
    case shearY = "ShearY"
    /// timm's `TranslateXRel`.
    case translateXRel = "TranslateXRel"
    /// timm's `TranslateYRel`.
    case translateYRel = "TranslateYRel"

    /// timm's `_RAND_TRANSFORMS` (used without `inc1`).
    public static let standardSet: [RandAugmentOp] = [
        .autoContrast, .equalize, .invert, .rotate, .posterize, .solarize, .solarizeAdd, .color, .contrast,
        .brightness, .sharpness, .shearX, .shearY, .translateXRel, .translateYRel,
    ]

    /// timm's `_RAND_INCREASING_TRANSFORMS` (`inc1`), the set TIME uses.
    public static let increasingSet: [RandAugmentOp] = [
        .autoContrast, .equalize, .invert, .rotate, .posterizeIncreasing, .solarizeIncreasing, .solarizeAdd,
        .colorIncreasing, .contrastIncreasing, .brightnessIncreasing, .sharpnessIncreasing, .shearX, .shearY,
        .translateXRel, .translateYRel,
    ]

    /// Whether timm's level-to-argument function flips the sign with probability 1/2.
    public var hasRandomSign: Bool {
        switch self {
        case .rotate, .shearX, .shearY, .translateXRel, .translateYRel, .colorIncreasing, .contrastIncreasing,
            .brightnessIncreasing, .sharpnessIncreasing:
            return true
        default:
            return false
        }
    }

    /// Whether the operation resamples geometry (and so draws a bilinear / bicubic filter).
    public var isGeometric: Bool {
        switch self {
        case .rotate, .shearX, .shearY, .translateXRel, .translateYRel: return true
        default: return false
        }
    }

    /// timm's level-to-argument mapping at a magnitude level (10 is the maximum strength), with the
    /// sign already chosen: rotate ±30°·m/10, shear ±0.3·m/10, translate ±0.45·m/10 of the side, enhance
    /// 1.8·m/10 + 0.1 or increasing max(0.1, 1 ± 0.9·m/10), posterize int(4·m/10) bits or increasing
    /// 4 − int(4·m/10), solarize min(256, int(256·m/10)) or increasing 256 − that, solarize-add
    /// min(128, int(110·m/10)). Ops without an argument return 0.
    public func argument(level: Double, negate: Bool) -> Double {
        let l = level / 10
        let sign: Double = negate ? -1 : 1
        switch self {
        case .autoContrast, .equalize, .invert: return 0
        case .rotate: return sign * l * 30
        case .shearX, .shearY: return sign * l * 0.3
        case .translateXRel, .translateYRel: return sign * l * 0.45
        case .color, .contrast, .brightness, .sharpness: return l * 1.8 + 0.1
        case .colorIncreasing, .contrastIncreasing, .brightnessIncreasing, .sharpnessIncreasing:
            return Swift.max(0.1, 1 + sign * l * 0.9)
        case .posterize: return Double(Int(l * 4))
        case .posterizeIncreasing: return Double(4 - Int(l * 4))
        case .solarize: return Double(Swift.min(256, Int(l * 256)))
        case .solarizeIncreasing: return Double(256 - Swift.min(256, Int(l * 256)))
        case .solarizeAdd: return Double(Swift.min(128, Int(l * 110)))
        }
    }

    /// Applies the operation with a resolved argument (see ``argument(level:negate:)``).
    public func apply(
        to image: RGB8Image, argument: Double, resample: PILResample = .bicubic, fill: RGB8Color = .timmFill
    ) -> RGB8Image {
        switch self {
        case .autoContrast: return image.autoContrasted()
        case .equalize: return image.equalized()
        case .invert: return image.inverted()
        case .rotate: return image.rotated(degrees: argument, resample: resample, fill: fill)
        case .posterize, .posterizeIncreasing: return image.posterized(bits: Int(argument))
        case .solarize, .solarizeIncreasing: return image.solarized(threshold: Int(argument))
        case .solarizeAdd: return image.solarizeAdded(Int(argument))
        case .color, .colorIncreasing: return image.colorEnhanced(argument)
        case .contrast, .contrastIncreasing: return image.contrastEnhanced(argument)
        case .brightness, .brightnessIncreasing: return image.brightnessEnhanced(argument)
        case .sharpness, .sharpnessIncreasing: return image.sharpnessEnhanced(argument)
        case .shearX: return image.affineTransformed([1, argument, 0, 0, 1, 0], resample: resample, fill: fill)
        case .shearY: return image.affineTransformed([1, 0, 0, argument, 1, 0], resample: resample, fill: fill)
        case .translateXRel:
            return image.affineTransformed([1, 0, argument * Double(image.width), 0, 1, 0], resample: resample, fill: fill)
        case .translateYRel:
            return image.affineTransformed([1, 0, 0, 0, 1, argument * Double(image.height)], resample: resample, fill: fill)
        }
    }
}
