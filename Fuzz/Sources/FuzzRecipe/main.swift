// The YAML recipe loader on arbitrary text; a recipe that reads must write YAML that reads back equal.
import Foundation
import FuzzDriver
import Training

runFuzzer { input in
    guard let text = String(bytes: input, encoding: .utf8), let recipe = try? Recipe(yaml: text, path: "fuzz") else {
        return
    }
    guard let again = try? Recipe(yaml: recipe.yaml), again == recipe else { fatalError("recipe round trip failed:\n\(text)") }
}
