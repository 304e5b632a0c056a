import TensorCore

/// Named loss terms and their weighted sum, as returned by every ``Objective``.
public struct LossTerms {
    /// The terms in a stable order, each already multiplied by its weight.
    public var terms: [(name: String, value: Tensor)]

    /// Creates loss terms from weighted parts.
    public init(_ terms: [(name: String, value: Tensor)]) {
        precondition(!terms.isEmpty, "LossTerms: at least one term is needed")
        self.terms = terms
    }

    /// The sum of every term: the scalar to call `backward()` on.
    public var total: Tensor {
        terms.dropFirst().reduce(terms[0].value) { $0 + $1.value }
    }

    /// The term with the given name.
    public subscript(name: String) -> Tensor? {
        terms.first { $0.name == name }?.value
    }

    /// The value of every term as plain numbers (for logging).
    public var values: [(name: String, value: Float)] {
        terms.map { ($0.name, $0.value.item) }
    }
}

/// The shape every self-supervised method follows: a module (holding the method's own heads)
/// that maps the model outputs it needs to named loss terms.
///
/// Objectives take tensors, never a concrete backbone, so they can be attached to any model that
/// produces the tensors they ask for.
public protocol Objective: Module {
    /// What the objective needs from the model and the data for one step.
    associatedtype Inputs

    /// The weighted loss terms for one step.
    func lossTerms(_ inputs: Inputs) -> LossTerms
}
