import Foundation
import TensorCore

/// Writes a small synthetic Backgrounds Challenge: the class is a foreground shape, and in
/// training the background is correlated with the class, so a model can take the easier shortcut.
///
/// Each class has a shape (circle, square, triangle, cross, …) and a background style (a hue and
/// a stripe orientation filling the whole image). The shapes are drawn in a random colour at a
/// random place and size, so only their outline names the class; the background is visible in
/// every pixel and names the class in ``Configuration/correlation`` of the training images. The
/// test variants follow the challenge's layout and meaning (``BackgroundsChallenge/Variant``).
///
/// The training background-only image (the debias input) is the image with its shape replaced by
/// a class-less object — a lobed blob of the shape's colour, size and place — much as the
/// challenge's `only_bg_b` keeps an object-sized box. With the shape simply erased, a network
/// tells background-only images from full ones by the mere absence of an object and meets the
/// debias target by that cue alone while still classifying by background (it did, in every trial
/// run); with the blob, telling the two apart takes recognising the class shapes. Backgrounds may
/// also hold up to ``Configuration/distractors`` such blobs as clutter (none by default: clutter
/// slows the tiny demo model's shape learning beyond its budget).
///
/// The layout a call produces under its root:
/// ```
/// train/<class>/<class>_0000.png      training images
/// train_bg/<class>/<class>_0000.png   the same images with the shape replaced by a class-less blob
/// train.txt                           `train/… label train_bg/…` lines (the background is the companion)
/// val.txt                             `path label` over bg_challenge/original
/// classes.txt                         class folder names in label order
/// bg_challenge/<variant>/val/<class>/<class>_0000.png
/// ```
/// Everything is a pure function of the configuration, the seed included.
public enum SyntheticBackgrounds {
    /// Sizes, counts, correlation and seed.
    public struct Configuration: Sendable, Hashable {
        /// Image side in pixels.
        public var size: Int = 32
        /// Classes (at most ``shapeNames``'s count).
        public var classCount: Int = 4
        /// Training images per class.
        public var trainImagesPerClass: Int = 1000
        /// Test images per class and variant.
        public var testImagesPerClass: Int = 50
        /// Fraction of training images whose background style is their class's; the others get
        /// another class's at random.
        public var correlation: Double = 0.9
        /// The seed every image derives from.
        public var seed: UInt64 = 0
        /// The most clutter objects in a background (each draws 0 through this many; see the
        /// type's discussion).
        public var distractors: Int = 0

        /// Creates a configuration.
        public init(size: Int = 32, classCount: Int = 4, trainImagesPerClass: Int = 1000, testImagesPerClass: Int = 50,
                    correlation: Double = 0.9, seed: UInt64 = 0, distractors: Int = 0) {
            precondition(size >= 16, "SyntheticBackgrounds: size \(size) below 16")
            precondition((2...SyntheticBackgrounds.shapeNames.count).contains(classCount),
                         "SyntheticBackgrounds: classCount \(classCount) outside 2...\(SyntheticBackgrounds.shapeNames.count)")
            precondition(trainImagesPerClass >= 0 && testImagesPerClass >= 0, "SyntheticBackgrounds: negative image count")
            precondition((0...1).contains(correlation), "SyntheticBackgrounds: correlation \(correlation) outside [0, 1]")
            precondition(distractors >= 0, "SyntheticBackgrounds: negative distractor count")
            self.distractors = distractors
            (self.size, self.classCount, self.trainImagesPerClass) = (size, classCount, trainImagesPerClass)
            (self.testImagesPerClass, self.correlation, self.seed) = (testImagesPerClass, correlation, seed)
        }

        /// The class folder names, `00_circle`, `01_square`, … (ImageNet-9's naming).
        public var classNames: [String] {
            (0..<classCount).map { String(format: "%02d_", $0) + SyntheticBackgrounds.shapeNames[$0] }
        }
    }

    /// The shapes in class order.
    public static let shapeNames = ["circle", "square", "triangle", "cross", "ring", "diamond"]

    /// Where a written challenge's files are.
    public struct Summary: Sendable {
        /// The root directory.
        public var root: String
        /// The training list (`path label background`).
        public var trainList: String
        /// The validation list over the `original` variant.
        public var valList: String
        /// The Backgrounds Challenge root (`<root>/bg_challenge`).
        public var challengeRoot: String
        /// The class names in label order.
        public var classNames: [String]
    }

    /// The variants written, in order.
    public static let variants: [BackgroundsChallenge.Variant] = [
        .original, .onlyFG, .onlyBGB, .onlyBGT, .noFG, .mixedSame, .mixedRand, .mixedNext,
    ]

    /// One rendered scene: the background and the shape's mask and colour.
    struct Scene {
        var background: [UInt8]
        var mask: [Bool]
        var colour: (UInt8, UInt8, UInt8)
        var box: (x0: Int, y0: Int, x1: Int, y1: Int)
        /// The background with a class-less blob of the shape's colour where the shape was: the
        /// training background-only image.
        var filled: [UInt8]

        /// The image with the foreground drawn on `background` (defaults to the scene's own).
        func composite(on background: [UInt8]? = nil) -> [UInt8] {
            var pixels = background ?? self.background
            for (p, inside) in mask.enumerated() where inside {
                (pixels[3 * p], pixels[3 * p + 1], pixels[3 * p + 2]) = colour
            }
            return pixels
        }
    }

    /// The background of style `style` (a class index): stripes of the style's hue at the style's
    /// orientation, with a random phase, period and brightness per image.
    static func background(style: Int, classCount: Int, size: Int, distractors: Int,
                           using g: inout RandomGenerator) -> [UInt8] {
        let hue = Double(style) / Double(classCount)
        let angle = Double.pi * Double(style) / Double(classCount)
        let period = 5 + 3 * Double(g.nextUniform()), phase = 2 * Double.pi * Double(g.nextUniform())
        let level = 0.75 + 0.25 * Double(g.nextUniform())
        let (dx, dy) = (cos(angle), sin(angle))
        var pixels = [UInt8](repeating: 0, count: size * size * 3)
        for y in 0..<size {
            for x in 0..<size {
                let wave = 0.5 + 0.5 * sin(2 * Double.pi * (Double(x) * dx + Double(y) * dy) / period + phase)
                let (r, gg, b) = rgb(hue: hue, value: level * (0.45 + 0.4 * wave))
                let p = 3 * (y * size + x)
                (pixels[p], pixels[p + 1], pixels[p + 2]) = (r, gg, b)
            }
        }
        // Between none and `distractors` clutter objects, so their number says nothing either.
        for _ in 0..<g.nextInt(below: distractors + 1) {
            let (radius, cx, cy) = placement(size: size, using: &g)
            drawBlob(into: &pixels, size: size, centre: (cx, cy), radius: radius, colour: objectColour(using: &g), using: &g)
        }
        return pixels
    }

    /// Draws a class-less object: a blob r(θ) = R·(0.7 + 0.3·sin(kθ + φ)) with k of 2, 5, 6 or 7
    /// lobes — the shapes' size and colours, none of their outlines.
    static func drawBlob(into pixels: inout [UInt8], size: Int, centre: (Double, Double), radius: Double,
                         colour: (UInt8, UInt8, UInt8), using g: inout RandomGenerator) {
        let lobes = Double([2, 5, 6, 7][g.nextInt(below: 4)]), phase = 2 * Double.pi * Double(g.nextUniform())
        for y in 0..<size {
            for x in 0..<size {
                let u = Double(x) + 0.5 - centre.0, v = Double(y) + 0.5 - centre.1
                let r = (u * u + v * v).squareRoot()
                guard r <= radius * (0.7 + 0.3 * sin(lobes * atan2(v, u) + phase)) else { continue }
                let p = 3 * (y * size + x)
                (pixels[p], pixels[p + 1], pixels[p + 2]) = colour
            }
        }
    }

    /// An object's radius and centre, fully inside the image.
    static func placement(size n: Int, using g: inout RandomGenerator) -> (radius: Double, cx: Double, cy: Double) {
        let radius = Double(n) * (0.22 + 0.08 * Double(g.nextUniform()))
        let cx = radius + 1 + Double(g.nextUniform()) * (Double(n) - 2 * radius - 2)
        let cy = radius + 1 + Double(g.nextUniform()) * (Double(n) - 2 * radius - 2)
        return (radius, cx, cy)
    }

    /// A grey level far from the backgrounds' brightness, tinted at random: the colour of shapes
    /// and clutter alike, so it says nothing about the class.
    static func objectColour(using g: inout RandomGenerator) -> (UInt8, UInt8, UInt8) {
        let grey = g.nextUniform() < 0.5 ? 0.05 + 0.15 * Double(g.nextUniform()) : 0.85 + 0.15 * Double(g.nextUniform())
        return rgb(hue: Double(g.nextUniform()), value: grey, saturation: 0.3)
    }

    /// A scene of class `label` on a background of class `style`.
    static func scene(label: Int, style: Int, configuration c: Configuration, using g: inout RandomGenerator) -> Scene {
        let n = c.size
        let background = background(style: style, classCount: c.classCount, size: n, distractors: c.distractors, using: &g)
        let (radius, cx, cy) = placement(size: n, using: &g)
        let tint = objectColour(using: &g)
        var mask = [Bool](repeating: false, count: n * n)
        var box = (x0: n, y0: n, x1: -1, y1: -1)
        for y in 0..<n {
            for x in 0..<n {
                let u = (Double(x) + 0.5 - cx) / radius, v = (Double(y) + 0.5 - cy) / radius
                guard inside(shape: label, u, v) else { continue }
                mask[y * n + x] = true
                box = (min(box.x0, x), min(box.y0, y), max(box.x1, x), max(box.y1, y))
            }
        }
        var filled = background
        drawBlob(into: &filled, size: n, centre: (cx, cy), radius: radius, colour: tint, using: &g)
        return Scene(background: background, mask: mask, colour: tint, box: box, filled: filled)
    }

    /// Whether `(u, v)` (in units of the shape's radius, centred) lies in shape `shape`.
    static func inside(shape: Int, _ u: Double, _ v: Double) -> Bool {
        switch shapeNames[shape] {
        case "circle": return u * u + v * v <= 1
        case "square": return abs(u) <= 0.8 && abs(v) <= 0.8
        case "triangle": return v <= 0.8 && v >= -1 && abs(u) <= (v + 1) / 1.8
        case "cross": return (abs(u) <= 0.3 && abs(v) <= 1) || (abs(v) <= 0.3 && abs(u) <= 1)
        case "ring": let r = u * u + v * v; return r <= 1 && r >= 0.36
        default: return abs(u) + abs(v) <= 1  // diamond
        }
    }

    /// RGB bytes of an HSV colour.
    static func rgb(hue: Double, value: Double, saturation: Double = 0.85) -> (UInt8, UInt8, UInt8) {
        let h = (hue - floor(hue)) * 6, i = Int(h) % 6, f = h - floor(h)
        let v = min(max(value, 0), 1), p = v * (1 - saturation), q = v * (1 - saturation * f)
        let t = v * (1 - saturation * (1 - f))
        let (r, g, b): (Double, Double, Double)
        switch i {
        case 0: (r, g, b) = (v, t, p)
        case 1: (r, g, b) = (q, v, p)
        case 2: (r, g, b) = (p, v, t)
        case 3: (r, g, b) = (p, q, v)
        case 4: (r, g, b) = (t, p, v)
        default: (r, g, b) = (v, p, q)
        }
        return (UInt8((r * 255).rounded()), UInt8((g * 255).rounded()), UInt8((b * 255).rounded()))
    }

    /// The images of one test variant for a scene of class `label`; `g` supplies the other
    /// backgrounds the mixed variants need.
    static func variant(_ variant: BackgroundsChallenge.Variant, scene: Scene, label: Int,
                        configuration c: Configuration, using g: inout RandomGenerator) -> [UInt8] {
        let n = c.size
        switch variant {
        case .original: return scene.composite()
        case .onlyFG: return scene.composite(on: [UInt8](repeating: 0, count: n * n * 3))
        case .onlyBGT: return scene.background
        case .onlyBGB:
            var pixels = scene.background
            for y in max(scene.box.y0, 0)...max(scene.box.y1, 0) {
                for x in max(scene.box.x0, 0)...max(scene.box.x1, 0) { for k in 0..<3 { pixels[3 * (y * n + x) + k] = 0 } }
            }
            return pixels
        case .noFG:
            var pixels = scene.background
            for (p, inside) in scene.mask.enumerated() where inside { for k in 0..<3 { pixels[3 * p + k] = 0 } }
            return pixels
        case .mixedSame:
            return scene.composite(on: background(style: label, classCount: c.classCount, size: n, distractors: c.distractors, using: &g))
        case .mixedRand:
            return scene.composite(on: background(style: g.nextInt(below: c.classCount), classCount: c.classCount,
                                                  size: n, distractors: c.distractors, using: &g))
        case .mixedNext:
            return scene.composite(on: background(style: (label + 1) % c.classCount, classCount: c.classCount,
                                                  size: n, distractors: c.distractors, using: &g))
        }
    }

    /// Writes the challenge under `root` (created if missing).
    ///
    /// - Throws: ``VideoIOError`` from the PNG writer, or ``DatasetError/writeFailed(path:reason:)``.
    @discardableResult
    public static func write(to root: String, configuration c: Configuration) throws -> Summary {
        let names = c.classNames
        var trainLines = "", valLines = ""
        for (label, name) in names.enumerated() {
            for folder in ["train", "train_bg"] { try SyntheticDataset.makeDirectory("\(root)/\(folder)/\(name)") }
            for i in 0..<c.trainImagesPerClass {
                var g = RandomGenerator(seed: DataLoader.derivedSeed(c.seed, 2 * label, i))
                var style = label
                if Double(g.nextUniform()) >= c.correlation {
                    style = (label + 1 + g.nextInt(below: c.classCount - 1)) % c.classCount
                }
                let scene = scene(label: label, style: style, configuration: c, using: &g)
                let file = "\(name)/\(name)_\(String(format: "%04d", i)).png"
                try write(scene.composite(), size: c.size, to: "\(root)/train/\(file)")
                try write(scene.filled, size: c.size, to: "\(root)/train_bg/\(file)")
                trainLines += "train/\(file) \(label) train_bg/\(file)\n"
            }
            for variant in variants {
                try SyntheticDataset.makeDirectory("\(root)/bg_challenge/\(variant.rawValue)/val/\(name)")
            }
            for i in 0..<c.testImagesPerClass {
                var g = RandomGenerator(seed: DataLoader.derivedSeed(c.seed, 2 * label + 1, i))
                let scene = scene(label: label, style: label, configuration: c, using: &g)
                let file = "\(name)/\(name)_\(String(format: "%04d", i)).png"
                for variant in variants {
                    let pixels = self.variant(variant, scene: scene, label: label, configuration: c, using: &g)
                    try write(pixels, size: c.size, to: "\(root)/bg_challenge/\(variant.rawValue)/val/\(file)")
                }
                valLines += "bg_challenge/original/val/\(file) \(label)\n"
            }
        }
        try SyntheticDataset.writeText(trainLines, to: root + "/train.txt")
        try SyntheticDataset.writeText(valLines, to: root + "/val.txt")
        try SyntheticDataset.writeText(names.joined(separator: "\n") + "\n", to: root + "/classes.txt")
        return Summary(root: root, trainList: root + "/train.txt", valList: root + "/val.txt",
                       challengeRoot: root + "/bg_challenge", classNames: names)
    }

    private static func write(_ pixels: [UInt8], size: Int, to path: String) throws {
        try PNGEncoder.writeRGB(width: size, height: size, pixels: pixels, to: URL(fileURLWithPath: path))
    }
}
