import Foundation
import Testing
import Training
import VideoIO
import VideoTransformers
import _TestSupport

@Suite("Recipes")
struct RecipeTests {
    /// The repository's `configs/` folder.
    private static let configs = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("configs").path

    @Test(arguments: [("timesformer", 0.1), ("motionformer", 0.2), ("xvit", 0.0)])
    func theTIMERecipesMirrorTheReference(backbone: String, dropPath: Double) throws {
        let r = try Recipe(contentsOf: "\(Self.configs)/time/\(backbone)_ssv2.yaml")
        #expect(r.model.name == "\(backbone)_base_8x224")
        #expect(r.model.overrides["drop_path_rate"]?.doubleValue == dropPath)
        #expect(r.model.overrides["num_classes"]?.intValue == 174)
        #expect(r.data.frames == 8 && r.data.crop == 224 && r.data.scaleJitter == [256, 320])
        #expect(r.data.randAugment == "rand-m20-mstd0.5-inc1" && !r.data.flip)
        #expect(r.data.mean == [0.5, 0.5, 0.5] && r.data.std == [0.5, 0.5, 0.5])
        let time = try r.objective.settings(as: TIMETrainingObjective.Settings.self)
        #expect(r.objective.kind == "time" && time.labelSmoothing == 0.2)
        #expect(r.optimizer.name == .adamw && r.optimizer.lr == 1e-4 && r.optimizer.amsgrad)
        #expect(r.optimizer.weightDecay == 0.05 && r.optimizer.weightDecayRule == .ndim)
        #expect(r.schedule.policy == .stepsWithRelativeLRs && r.schedule.steps == [0, 20, 30])
        #expect(r.schedule.relativeLRs == [1, 0.1, 0.01] && r.training.epochs == 35)
        #expect(r.training.batchSize * r.training.accumulation == 64)
    }

    @Test(arguments: ["svt/k400_vitb", "svt/synthetic_tiny", "videomae/ucf101_pretrain", "videomae/ucf101_finetune",
                      "videomae/synthetic_tiny_pretrain", "videomae/synthetic_tiny_finetune", "videoms/ucf101_pretrain",
                      "videoms/ucf101_finetune"])
    func theMethodRecipesParseAndMirrorTheReference(name: String) throws {
        let r = try Recipe(contentsOf: "\(Self.configs)/\(name).yaml")
        // Every model resolves with its overrides; the objective's keys are valid for its kind.
        _ = try Backbones.config(r.model.name, overrides: r.model.overrides)
        #expect(Objectives.kinds.contains(r.objective.kind))
        switch name {
        case "svt/k400_vitb":
            let s = try r.objective.settings(as: SVTTrainingObjective.Settings.self)
            #expect(s.globalFrames == [8, 16] && s.localFrames == [2, 2, 4, 4, 8, 8, 16, 16] && s.outDim == 65536)
            #expect(r.optimizer.lr == 6.25e-5 && r.schedule.weightDecayEnd == 0.4 && r.training.clipGradPerTensor == 3)
            #expect(r.training.epochs == 20 && r.training.batchSize * r.training.accumulation == 32)
        case "videoms/ucf101_pretrain":
            let s = try r.objective.settings(as: VideoMAETrainingObjective.Settings.self)
            #expect(s.masking == .motionCentric && s.maskRatio == 0.9 && s.motionCentricRatio == 0.7)
            #expect(r.optimizer.lr == 7.5e-4 && r.optimizer.betas == [0.9, 0.95] && r.data.multiScaleCrop)
            #expect(r.training.batchSize * r.training.accumulation == 192 && r.schedule.warmupEpochs == 40)
        case "videomae/ucf101_finetune":
            let s = try r.objective.settings(as: SupervisedObjective.Settings.self)
            #expect(s.mixupAlpha == 0.8 && s.cutmixAlpha == 1.0 && s.labelSmoothing == 0.1)
            #expect(r.optimizer.layerDecay == 0.7 && r.data.randomErasing == 0.25)
            #expect(r.evaluation.clips == 5 && r.evaluation.crops == 3 && r.evaluation.aggregation == .softmaxMean)
        default: break
        }
    }

    @Test func theDemoRecipeParses() throws {
        let r = try Recipe(contentsOf: "\(Self.configs)/demo.yaml")
        #expect(r.data.crop == 64 && r.data.randAugment == nil)
        #expect(try Backbones.config(r.model.name, overrides: r.model.overrides).imgSize == 64)
    }

    @Test func theResolvedRecipeReadsBackEqual() throws {
        let r = try Recipe(contentsOf: "\(Self.configs)/time/motionformer_ssv2.yaml",
                           overrides: ["train.clip_grad_norm=1.5", "data.val=null"])
        let again = try Recipe(yaml: r.yaml)
        #expect(again == r)
        #expect(again.training.clipGradNorm == 1.5 && again.data.val == nil)
        #expect(r.yaml.contains("weight_decay_rule: \"ndim>=2\""))
    }

    @Test func overridesSetDottedKeys() throws {
        let r = try TinyRun.recipe(output: "/tmp/x", overrides: [
            "optimizer.lr=3e-4", "train.batch_size=2", "model.overrides.depth=2", "data.scale_jitter=[40, 48]",
            "optimizer.amsgrad=false", "objective.weights.flow=0.5",
        ])
        #expect(r.optimizer.lr == 3e-4 && r.training.batchSize == 2 && !r.optimizer.amsgrad)
        #expect(r.model.overrides["depth"] == .int(2) && r.data.scaleJitter == [40, 48])
        #expect(try r.objective.settings(as: TIMETrainingObjective.Settings.self).flowWeight == 0.5)
    }

    @Test func badRecipesNameTheKey() throws {
        #expect(throws: RecipeError.self) { try TinyRun.recipe(output: "/tmp/x", overrides: ["optimizer.lrr=1"]) }
        func error(_ overrides: [String]) -> RecipeError? {
            do { _ = try TinyRun.recipe(output: "/tmp/x", overrides: overrides) } catch { return error as? RecipeError }
            return nil
        }
        guard case .unknownKey("optimizer.lrr", let valid)? = error(["optimizer.lrr=1"]) else {
            Issue.record("unknown key not reported")
            return
        }
        #expect(valid.contains("lr") && valid.contains("amsgrad"))
        #expect(error(["train.epochs=ten"]) == .wrongType(key: "train.epochs", expected: "an integer", found: "`ten`"))
        #expect(error(["data.frames=\"8\""]) == .wrongType(key: "data.frames", expected: "an integer", found: "text \"8\""))
        #expect(error(["optimizer.amsgrad=3"]) == .wrongType(key: "optimizer.amsgrad", expected: "true or false", found: "`3`"))
        guard case .unknownKey("model.overrides.depht", _)? = error(["model.overrides.depht=2"]) else {
            Issue.record("unknown backbone override not reported")
            return
        }
        guard case .invalidValue(key: "objective.kind", _, _)? = error(["objective.kind=mae"]) else {
            Issue.record("bad objective not reported")
            return
        }
        guard case .badOverride? = error(["optimizer.lr"]) else {
            Issue.record("override without = not reported")
            return
        }
        #expect(throws: RecipeError.missingKey("model.name")) { try Recipe(yaml: "data: {train: a.txt}") }
        #expect(throws: RecipeError.wrongType(key: "data", expected: "a mapping", found: "a list")) {
            try Recipe(yaml: "model: {name: xvit_base_8x224}\ndata: [1, 2]")
        }
        #expect("\(RecipeError.unknownKey("a.b", validKeys: ["c"]))".contains("`a.b`"))
    }

    @Test func missingDatasetPathsFailBeforeTraining() throws {
        let missingRoot = try TinyRun.recipe(output: TinyRun.folder("m"), overrides: ["data.root=/nonexistent/data"])
        #expect(throws: RecipeError.missingPath(key: "data.root", path: "/nonexistent/data")) {
            try Trainer(recipe: missingRoot)
        }
        let missingList = try TinyRun.recipe(output: TinyRun.folder("m"), overrides: ["data.train=nope.txt"])
        #expect(throws: RecipeError.missingPath(key: "data.train", path: TinyRun.data + "/nope.txt")) {
            try Trainer(recipe: missingList)
        }
    }
}

@Suite("Recipe values that would make training wrong")
struct RecipeRangeTests {
    @Test(arguments: [
        "train.clip_grad_norm=-1", "schedule.warmup_epochs=-1", "optimizer.weight_decay=-0.05", "optimizer.lr=",
        "model.key_map=nope", "eval.best_metric=gap", "eval.crops=2", "model.weights=", "data.std=[1, 0, 1]",
        "train.eval_every=-1",
    ])
    func isRefusedWithItsKey(override: String) throws {
        let key = String(override.prefix { $0 != "=" })
        do {
            _ = try TinyRun.recipe(output: "/tmp/x", overrides: [override])
            Issue.record("\(override) was accepted")
        } catch let error as RecipeError {
            #expect(error.description.contains(key), "\(error)")
        }
    }

    @Test func newSectionsRoundTrip() throws {
        let r = try TinyRun.recipe(output: "/tmp/x", overrides: [
            "model.weights=w.safetensors", "model.key_map=timm-inflation", "model.skip=[\"head.*\"]", "model.prefix=module.",
            "eval.shuffled=true", "eval.best_metric=gap", "train.eval_every=2", "objective.kind=supervised",
        ])
        #expect(r.model.weightSource == WeightSource(path: "w.safetensors", keyMap: "timm-inflation", prefix: "module.",
                                                      skip: ["head.*"]))
        #expect(try Recipe(yaml: r.yaml) == r)
        #expect(r.objective.kind == "supervised")
        #expect(!r.yaml.contains("order"))
    }

    @Test func aTrainingLabelWithoutAClassNameStopsTheRun() throws {
        let names = Scratch.directory("classes").path + "/classes.txt"
        try "a\nb\nc\n".write(toFile: names, atomically: true, encoding: .utf8)
        #expect(throws: DatasetError.self) {
            _ = try TrainingSetup(recipe: TinyRun.recipe(output: "/tmp/x", overrides: ["data.classes=\(names)"]))
        }
    }
}

@Suite("Shipped recipes")
struct ShippedRecipeTests {
    private static let configs = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("configs").path

    @Test func theFineTuningRecipeStartsFromARunsBestCheckpoint() throws {
        let r = try Recipe(contentsOf: Self.configs + "/finetune/time_run_to_new_dataset.yaml")
        let source = try #require(r.model.weightSource)
        #expect(source.path.hasSuffix("checkpoints/best/model.safetensors") && source.keyMap == "time")
        #expect(source.skips("head.weight") && source.skips("temp_head.bias") && source.skips("mlp_q.weight"))
        #expect(!source.skips("blocks.0.attn.qkv.weight") && r.objective.kind == "supervised")
    }

    @Test func theDemoValidatesWithTheGap() throws {
        let r = try Recipe(contentsOf: Self.configs + "/demo.yaml")
        #expect(r.training.evalEvery == 5 && r.evaluation.shuffled && r.evaluation.crops == 3)
    }
}

@Suite("Recipe sizes beyond their limits")
struct RecipeSizeLimitTests {
    @Test(arguments: ["data.frames=10000000", "data.decode_size=[100000, 64]", "data.crop=70000"])
    func areRefusedBeforeAnythingIsAllocated(override: String) throws {
        let error = #expect(throws: RecipeError.self) { _ = try TinyRun.recipe(output: "/tmp/x", overrides: [override]) }
        #expect(error?.description.contains("must be at most") == true, "\(String(describing: error))")
    }
}

@Suite("Deeply nested recipes")
struct DeepRecipeTests {
    /// A few KB of nested brackets or block levels overflowed the YAML parser's stack (found by
    /// Scripts/fuzz.sh); they are refused before parsing, naming the line.
    @Test(arguments: [
        String(repeating: "{", count: 3000), "a: " + String(repeating: "[", count: 5000),
        String(repeating: "- ", count: 2000) + "x", (0..<400).map { String(repeating: " ", count: $0) + "k\($0):" }.joined(separator: "\n"),
    ])
    func areRefusedWithATypedError(text: String) {
        let error = #expect(throws: RecipeError.self) { _ = try Recipe(yaml: text) }
        #expect(error?.description.contains("nests deeper than 64 levels") == true, "\(String(describing: error))")
    }

    @Test func quotedBracketsAndCommentsDoNotCount() throws {
        let yaml = TinyRun.yaml(output: "/tmp/x", extra: "# " + String(repeating: "[", count: 500)) + "\n"
        _ = try Recipe(yaml: yaml, overrides: ["model.skip=[\"" + String(repeating: "{", count: 100) + "\"]"])
    }
}

@Suite("Switching objectives")
struct SwitchingObjectiveTests {
    @Test func sharedKeysCarryOverAndTheRestIsDropped() throws {
        let time = try TinyRun.recipe(output: "/tmp/x", overrides: [
            "objective.label_smoothing=0.15", "objective.weights.cls=0.5", "objective.weights.order=2",
            "objective.head_init=pytorch",
        ])
        let supervised = try time.withObjective("supervised")
        let settings = try supervised.objective.settings(as: SupervisedObjective.Settings.self)
        #expect(supervised.objective.kind == "supervised" && settings.labelSmoothing == 0.15 && settings.classificationWeight == 0.5)
        #expect(!supervised.yaml.contains("head_init") && !supervised.yaml.contains("order"))
        #expect(try Recipe(yaml: supervised.yaml) == supervised)
        let back = try supervised.withObjective("time").objective.settings(as: TIMETrainingObjective.Settings.self)
        #expect(back.labelSmoothing == 0.15 && back.orderWeight == 1 && back.headInit == .reference)
        #expect(throws: RecipeError.self) { _ = try time.withObjective("nope") }
    }
}
