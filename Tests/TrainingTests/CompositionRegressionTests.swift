import Foundation
import Testing
import Training
import _TestSupport

/// The trainer built from parts (objective protocol, one model tree) computes the same losses step
/// by step as the trainer written around TIME did. `Fixtures/regression/losses_before_composition.json`
/// holds `[loss, term…]` per step of the TinyRun recipe with accumulation 2, EMA and clipping,
/// recorded with that earlier trainer (the last commit before the composition refactor).
@Suite("Composition regression")
struct CompositionRegressionTests {
    @Test(arguments: ["time", "supervised"])
    func stepLossesEqualThoseOfTheTrainerBeforeComposition(kind: String) throws {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/regression/losses_before_composition", withExtension: "json"))
        let recorded = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: [[Double]]])
        let expected = try #require(recorded[kind])
        let trainer = try Trainer(recipe: TinyRun.recipe(output: TinyRun.folder("regression-\(kind)"), kind: kind, overrides: [
            "train.ema_decay=0.9", "train.clip_grad_norm=1.0", "train.batch_size=2", "train.accumulation=2",
        ]))
        var rows: [[Double]] = []
        trainer.onEvent = { if case .step(let p) = $0 { rows.append([p.loss] + p.terms.map(\.value)) } }
        try trainer.run()
        #expect(rows.count == expected.count)
        for (step, (got, want)) in zip(rows, expected).enumerated() {
            #expect(got.count == want.count)
            // The refactor keeps every operation and random draw in order, so the values are equal;
            // 1e-6 relative only absorbs the Float → Double sum of the logged terms.
            for (g, w) in zip(got, want) {
                #expect(abs(g - w) <= 1e-6 * max(1, abs(w)), "step \(step + 1): \(got) vs \(want)")
            }
        }
    }
}
