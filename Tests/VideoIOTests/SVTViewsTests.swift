import Foundation
import Testing
import _TestSupport
import TensorCore
import VideoIO

/// SVT's views against a PyTorch re-implementation of the released sampling and augmentation,
/// driven by a port of our generator (`Scripts/reference/make_svt_view_fixtures.py`).
@Suite struct SVTViewsTests {
    static let file: SafeTensorsFile = {
        let url = Bundle.module.url(forResource: "svt_views", withExtension: "safetensors", subdirectory: "Fixtures")!
        return try! SafeTensors.read(contentsOf: url)
    }()

    static func ints(_ name: String) -> [Int] { try! file.integers(named: name).values }

    static func views(_ style: SVTViews.Style, globalFrames: [Int] = [8, 16]) -> SVTViews {
        SVTViews(globalFrames: globalFrames, globalSize: 12, localSize: 6, style: style)
    }

    @Test func ourGeneratorIsTheOneTheFixturePorts() {
        var generator = RandomGenerator(seed: 0)
        #expect([generator.next(), generator.next(), generator.next()]
                == [11091344671253066420, 13793997310169335082, 1900383378846508768])
    }

    @Test(arguments: SVTViews.Style.allCases)
    func framesCropsFlipsJitterAndPixelsEqualTheReference(style: SVTViews.Style) throws {
        let window = try Self.file.tensor(named: "window")
        var generator = RandomGenerator(seed: 7)
        let maker = Self.views(style)
        let plans = maker.plan(length: 20, height: 16, width: 20, using: &generator)
        let params = Self.ints("\(style.rawValue).params"), order = Self.ints("\(style.rawValue).order")
        let alphaBytes = try Self.file.rawBytes(named: "\(style.rawValue).alphas")
        let alphas = stride(from: 0, to: alphaBytes.count, by: 8).map { o in
            Double(bitPattern: alphaBytes[alphaBytes.startIndex + o ..< alphaBytes.startIndex + o + 8].reversed()
                .reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
        }
        #expect(plans.count == 10)
        for (v, plan) in plans.enumerated() {
            let row = Array(params[(9 * v)..<(9 * v + 9)])
            #expect(plan.frames == Self.ints("\(style.rawValue).frames.\(v)"), "view \(v) frames")
            #expect([plan.crop.top, plan.crop.left, plan.crop.height, plan.crop.width] == Array(row[2..<6]), "view \(v) crop")
            let coins: [Int] = [plan.flip ? 1 : 0, plan.gray ? 1 : 0, plan.jitter == nil ? 0 : 1]
            #expect(coins == Array(row[6..<9]), "view \(v) flip, gray, jitter")
            if let jitter = plan.jitter {
                #expect(jitter.map(\.operation) == Array(order[(3 * v)..<(3 * v + 3)]), "view \(v) order")
                for (op, factor) in jitter { #expect(factor == alphas[3 * v + op], "view \(v) op \(op)") }
            }
            let mine = try maker.render(plan, from: window)
            let reference = try Self.file.tensor(named: "\(style.rawValue).view.\(v)")
            #expect(mine.shape == reference.shape)
            #expect(maxAbsDifference(mine, reference) < 2e-5, "view \(v) pixels")
        }
        // The one-call form gives the same views.
        var again = RandomGenerator(seed: 7)
        let tensors = try maker(window, using: &again)
        #expect(tensors.map(\.shape) == plans.map { [$0.frames.count, 3, $0.size, $0.size] })
    }

    @Test func theReleasedCodesCheaperGlobalsTakeFourAndEightFrames() {
        var generator = RandomGenerator(seed: 7)
        let plans = Self.views(.reference, globalFrames: SVTViews.releasedCodeGlobalFrames)
            .plan(length: 20, height: 16, width: 20, using: &generator)
        for (v, plan) in plans.enumerated() { #expect(plan.frames == Self.ints("rand_fr.frames.\(v)"), "view \(v)") }
    }

    @Test func cropRegionsIncludingEdgeCutsAndFallbacksEqualTheReference() {
        let cases = Self.ints("crop.cases"), results = Self.ints("crop.results")
        let rows = cases.count / 5
        #expect(rows > 30)
        for r in 0..<rows {
            let c = Array(cases[(5 * r)..<(5 * r + 5)]), e = Array(results[(6 * r)..<(6 * r + 6)])
            var generator = RandomGenerator(seed: UInt64(c[0]))
            let region = SVTViews.cropRegion(height: c[1], width: c[2], scale: c[3] == 0 ? 0.4...1 : 0.05...0.4,
                                             lastDraw: c[4] == 0, using: &generator)
            let got: [Int] = [region.top, region.left, region.height, region.width]
            let want: [Int] = [e[0], e[1], e[4], e[5]]
            #expect(got == want, "case \(c)")
        }
    }

    @Test func linspaceIndicesAndInvalidSettings() {
        #expect(SVTViews.linspaceIndices(0, 15, count: 8, length: 20) == Self.ints("reference.frames.0"))
        // Invalid settings are refused with a reason, not a trap.
        var bad = SVTViews(globalFrames: [8])
        #expect(bad.problem != nil)
        bad = SVTViews(localScale: 0.5...1.5)
        #expect(bad.problem != nil)
        var generator = RandomGenerator(seed: 1)
        #expect(throws: TransformError.self) { try bad(Tensor(zeros: [4, 3, 8, 8]), using: &generator) }
    }
}
