import Foundation
import TensorCore

extension SyntheticDataset {
    /// Renders one clip of `syntheticClass` as packed RGB frames `[H, W, 3]`, drawing every random
    /// choice (start point, size, texture, background, and for static classes the motion) from
    /// `generator`.
    public static func render(
        _ syntheticClass: SyntheticClass, configuration: Configuration, using generator: inout RandomGenerator
    ) -> [[UInt8]] {
        let shape: SyntheticClass.Shape
        let colour: SyntheticClass.Colour
        let motion: Motion
        var reversed = false
        switch syntheticClass {
        case .moving(let direction):
            shape = pick(SyntheticClass.Shape.allCases, &generator)
            colour = pick(SyntheticClass.Colour.allCases, &generator)
            // Left and up are right and down played backwards, so each pair differs only in order.
            motion = direction == .left || direction == .right ? .horizontal : .vertical
            reversed = direction == .left || direction == .up
        case .scaling(let growing):
            shape = pick(SyntheticClass.Shape.allCases, &generator)
            colour = pick(SyntheticClass.Colour.allCases, &generator)
            motion = .growing
            reversed = !growing
        case .appearance(let fixedShape, let fixedColour):
            (shape, colour) = (fixedShape, fixedColour)
            motion = pick([.still, .horizontal, .vertical, .growing], &generator)
            reversed = generator.nextInt(below: 2) == 1
        }
        let scene = Scene(configuration: configuration, shape: shape, colour: colour, motion: motion, using: &generator)
        var frames = (0..<configuration.frameCount).map { scene.frame($0) }
        if reversed { frames.reverse() }
        return frames
    }

    private static func pick<T>(_ options: [T], _ generator: inout RandomGenerator) -> T {
        options[generator.nextInt(below: options.count)]
    }

    enum Motion { case still, horizontal, vertical, growing }

    /// One video's fixed choices; `frame(t)` draws the object at its place and size at time `t`.
    struct Scene {
        let width: Int, height: Int, frames: Int
        let shape: SyntheticClass.Shape
        let colour: (UInt8, UInt8, UInt8)
        let motion: Motion
        let background: [UInt8]
        let texture: [Float]
        let start: (x: Double, y: Double)
        let radius: Double
        let travel: Double

        static let textureSide = 8

        init(
            configuration c: Configuration, shape: SyntheticClass.Shape, colour: SyntheticClass.Colour,
            motion: Motion, using g: inout RandomGenerator
        ) {
            (width, height, frames) = (c.width, c.height, c.frameCount)
            self.shape = shape
            self.colour = colour.rgb
            self.motion = motion
            // A static gray backdrop, low in contrast, so the object is the only motion.
            switch c.background {
            case .noise:
                background = (0..<(c.width * c.height)).map { _ in UInt8(100 + g.nextInt(below: 40)) }
            case .plain:
                background = [UInt8](repeating: 120, count: c.width * c.height)
            case .smooth:
                let angle = 2 * Double.pi * g.nextUniformDouble(), phase = 2 * Double.pi * g.nextUniformDouble()
                let cycles = 0.5 + g.nextUniformDouble()
                let k = 2 * Double.pi * cycles / Double(max(c.width, c.height))
                let (kx, ky) = (k * cos(angle), k * sin(angle))
                let (w, h) = (c.width, c.height)
                background = (0..<(w * h)).map { i in
                    UInt8((120 + 24 * sin(kx * Double(i % w) + ky * Double(i / w) + phase)).rounded())
                }
            }
            // A coarse texture riding on the object, so optical flow sees its motion inside it.
            texture = (0..<(Scene.textureSide * Scene.textureSide)).map { _ in 0.55 + 0.45 * g.nextUniform() }
            let side = Double(min(c.width, c.height))
            radius = side * (0.12 + 0.06 * g.nextUniformDouble())
            travel = side * 0.45
            let extentX = motion == .horizontal ? travel : 0
            let extentY = motion == .vertical ? travel : 0
            let margin = motion == .growing ? side * 0.28 : radius + 1
            func origin(_ length: Double, _ extent: Double) -> Double {
                let room = max(0, length - 2 * margin - extent)
                return margin + room * g.nextUniformDouble()
            }
            start = (origin(Double(c.width), extentX), origin(Double(c.height), extentY))
        }

        func frame(_ t: Int) -> [UInt8] {
            let progress = frames > 1 ? Double(t) / Double(frames - 1) : 0
            var cx = start.x, cy = start.y, r = radius
            switch motion {
            case .still: break
            case .horizontal: cx += travel * progress
            case .vertical: cy += travel * progress
            case .growing: r = radius * (0.5 + 1.0 * progress)
            }
            var pixels = [UInt8](repeating: 0, count: width * height * 3)
            let left = Int(cx.rounded()), top = Int(cy.rounded())
            for y in 0..<height {
                for x in 0..<width {
                    let o = 3 * (y * width + x)
                    let dx = Double(x) + 0.5 - cx, dy = Double(y) + 0.5 - cy
                    guard inside(dx, dy, r) else {
                        let v = background[y * width + x]
                        (pixels[o], pixels[o + 1], pixels[o + 2]) = (v, v, v)
                        continue
                    }
                    // Texture coordinates move with the object's rounded position.
                    let side = Scene.textureSide
                    let tx = ((x - left) / 2 % side + side) % side, ty = ((y - top) / 2 % side + side) % side
                    let shade = texture[ty * side + tx]
                    pixels[o] = UInt8(Float(colour.0) * shade)
                    pixels[o + 1] = UInt8(Float(colour.1) * shade)
                    pixels[o + 2] = UInt8(Float(colour.2) * shade)
                }
            }
            return pixels
        }

        private func inside(_ dx: Double, _ dy: Double, _ r: Double) -> Bool {
            switch shape {
            case .square: return abs(dx) <= r && abs(dy) <= r
            case .disk: return dx * dx + dy * dy <= r * r
            case .diamond: return abs(dx) + abs(dy) <= r * 1.3
            }
        }
    }
}
