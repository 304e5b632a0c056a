import Testing
import TensorCore
import Training
import VideoIO

/// The recipe's training clip pipeline: the default steps unchanged, and the multi-scale crop and
/// random erasing where the recipe asks for them.
@Suite struct ClipPipelineTests {
    static func clip(seed: UInt64, height: Int = 40, width: Int = 48) -> Tensor {
        var g = RandomGenerator(seed: seed)
        // Multiples of 1/255, as decoded frames are.
        return Tensor(shape: [4, 3, height, width]) { out in
            for i in 0..<out.count { out[i] = Float(g.nextInt(below: 256)) / 255 }
        }
    }

    static func data(_ configure: (inout Recipe.DataSection) -> Void) -> Recipe.DataSection {
        var data = Recipe.DataSection()
        data.train = "train.txt"
        data.scaleJitter = [40, 44]
        data.crop = 32
        data.flip = true
        configure(&data)
        return data
    }

    @Test func defaultsRunTheJitterAndCropAsBefore() throws {
        let transform = try ClipPipeline.training(Self.data { _ in })
        for seed in 0..<4 as Range<UInt64> {
            var clip = Self.clip(seed: seed), generator = RandomGenerator(seed: seed + 100)
            var reference = generator
            try transform(&clip, &generator)
            var want = try ClipTransforms.normalize(Self.clip(seed: seed), mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5])
            want = try ClipTransforms.scaleJitter(want, minSize: 40, maxSize: 44, using: &reference)
            want = try ClipTransforms.randomCrop(want, size: 32, using: &reference)
            if reference.nextUniform() < 0.5 { want = try ClipTransforms.horizontalFlip(want) }
            #expect(clip == want)
            #expect(generator == reference)
        }
    }

    @Test func multiScaleCropAndErasingReplaceAndFollowTheSteps() throws {
        let data = Self.data {
            $0.multiScaleCrop = true
            $0.crop = 24
            $0.randomErasing = 1
        }
        let transform = try ClipPipeline.training(data)
        for seed in 0..<4 as Range<UInt64> {
            var clip = Self.clip(seed: seed), generator = RandomGenerator(seed: seed + 100)
            var reference = generator
            try transform(&clip, &generator)
            var want = try MultiScaleCrop(size: 24)(Self.clip(seed: seed), using: &reference)
            want = try ClipTransforms.normalize(want, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5])
            if reference.nextUniform() < 0.5 { want = try ClipTransforms.horizontalFlip(want) }
            want = try RandomErasing(probability: 1)(want, using: &reference)
            #expect(clip.shape == [4, 3, 24, 24])
            #expect(clip == want)
            #expect(generator == reference)
        }
    }

    @Test func multiScaleCropFollowsRandAugment() throws {
        let data = Self.data {
            $0.multiScaleCrop = true
            $0.randAugment = "rand-m7-n4-mstd0.5-inc1"
            $0.flip = false
        }
        let transform = try ClipPipeline.training(data)
        var clip = Self.clip(seed: 1), generator = RandomGenerator(seed: 5)
        var reference = generator
        try transform(&clip, &generator)
        var frames = try ClipTransforms.rgb8Frames(Self.clip(seed: 1))
        frames = try RandAugment(config: "rand-m7-n4-mstd0.5-inc1")(frames, using: &reference)
        frames = try MultiScaleCrop(size: 32)(frames, using: &reference)
        let want = try ClipTransforms.normalize(ClipTransforms.clip(from: frames), mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5])
        #expect(clip == want)
        #expect(generator == reference)
    }

    @Test func recipeKeysAreReadCheckedAndWritten() throws {
        let recipe = try TinyRun.recipe(output: "/tmp/x", overrides: [
            "data.multi_scale_crop=true", "data.random_erasing=0.25", "data.crop=48",
        ])
        #expect(recipe.data.multiScaleCrop && recipe.data.randomErasing == 0.25 && recipe.data.crop == 48)
        #expect(try Recipe(yaml: recipe.yaml) == recipe)
        let defaults = try TinyRun.recipe(output: "/tmp/x")
        #expect(!defaults.data.multiScaleCrop && defaults.data.randomErasing == 0)

        func error(_ overrides: [String]) -> RecipeError? {
            do { _ = try TinyRun.recipe(output: "/tmp/x", overrides: overrides) } catch { return error as? RecipeError }
            return nil
        }
        // Without the multi-scale crop the crop must fit the jittered short side (32–36 here).
        guard case .invalidValue(key: "data.crop", _, _)? = error(["data.crop=48"]) else {
            Issue.record("a crop beyond the jitter was accepted")
            return
        }
        guard case .invalidValue(key: "data.random_erasing", _, _)? = error(["data.random_erasing=1.5"]) else {
            Issue.record("random_erasing 1.5 was accepted")
            return
        }
        guard case .invalidValue(key: "data.random_erasing", _, _)? = error(["data.random_erasing=-0.1"]) else {
            Issue.record("random_erasing -0.1 was accepted")
            return
        }
        guard case .wrongType(key: "data.multi_scale_crop", _, _)? = error(["data.multi_scale_crop=2"]) else {
            Issue.record("multi_scale_crop 2 was accepted")
            return
        }
    }

    @Test func randomResizedCropReplacesJitterAndCropBeforeTheFlip() throws {
        let data = Self.data {
            $0.randomResizedCrop = true
            $0.crop = 36
            $0.cropScale = [0.2, 0.9]
            $0.cropRatio = [0.5, 2]
        }
        let transform = try ClipPipeline.training(data)
        var shapesSeen = Set<[Int]>()
        for seed in 0..<6 as Range<UInt64> {
            var clip = Self.clip(seed: seed), generator = RandomGenerator(seed: seed + 100)
            var reference = generator
            try transform(&clip, &generator)
            // The region the transform must have cut, drawn from the same stream.
            var regionStream = reference
            let region = ClipTransforms.sampleResizedCropRegion(
                height: 40, width: 48, scale: 0.2...0.9, ratio: 0.5...2, using: &regionStream)
            #expect(region.height * region.width <= Int(0.9 * 40 * 48) + 48)
            shapesSeen.insert([region.height, region.width])
            var want = try ClipTransforms.normalize(Self.clip(seed: seed), mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5])
            want = try ClipTransforms.randomResizedCrop(want, size: 36, scale: 0.2...0.9, ratio: 0.5...2, using: &reference)
            if reference.nextUniform() < 0.5 { want = try ClipTransforms.horizontalFlip(want) }
            #expect(clip.shape == [4, 3, 36, 36])
            #expect(clip == want)
            #expect(generator == reference)
        }
        #expect(shapesSeen.count > 1, "every clip drew the same region")
    }

    @Test func randomResizedCropKeysAreReadCheckedAndWritten() throws {
        let recipe = try TinyRun.recipe(output: "/tmp/x", overrides: [
            "data.random_resized_crop=true", "data.crop=48", "data.crop_scale=[0.08, 1.0]", "data.crop_ratio=[0.75, 1.3333]",
        ])
        #expect(recipe.data.randomResizedCrop && recipe.data.crop == 48)
        #expect(recipe.data.cropScale == [0.08, 1.0] && recipe.data.cropRatio == [0.75, 1.3333])
        #expect(try Recipe(yaml: recipe.yaml) == recipe)
        #expect(try !TinyRun.recipe(output: "/tmp/x").data.randomResizedCrop)

        func failingKey(_ overrides: [String]) -> String? {
            do { _ = try TinyRun.recipe(output: "/tmp/x", overrides: overrides) } catch {
                if case .invalidValue(let key, _, _)? = error as? RecipeError { return key }
                return "\(error)"
            }
            return nil
        }
        #expect(failingKey(["data.random_resized_crop=true", "data.multi_scale_crop=true"]) == "data.random_resized_crop")
        #expect(failingKey(["data.random_resized_crop=true", "data.crop_scale=[0.9, 0.2]"]) == "data.crop_scale")
        #expect(failingKey(["data.random_resized_crop=true", "data.crop_scale=[0.5, 1.5]"]) == "data.crop_scale")
        #expect(failingKey(["data.random_resized_crop=true", "data.crop_ratio=[2, 0.5]"]) == "data.crop_ratio")
        #expect(failingKey(["data.random_resized_crop=true", "data.crop_ratio=[0, 1]"]) == "data.crop_ratio")
    }
}
