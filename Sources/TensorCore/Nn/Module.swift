/// The base class of every layer and model.
///
/// Parameters and child modules are discovered by name from stored properties, so nothing has to
/// be registered by hand and a forgotten parameter cannot silently stay untrained. Property names
/// become state-dict keys in PyTorch's snake_case (`temporalFc` → `temporal_fc`); arrays of modules
/// or parameters are numbered (`blocks.3.attn.qkv.weight`). A subclass whose key differs from the
/// snake_case of its property overrides ``key(forProperty:)``. A child listed under the empty key
/// segment `""` is flattened into its parent: its keys appear without a prefix, as when a model and
/// its heads form one PyTorch module (TIME's `temp_head.*` beside the backbone's `blocks.*`).
///
/// Non-trainable tensors are ``Buffer``s: found the same way, saved in state dicts, never
/// optimised.
open class Module {
    /// Whether the module is in training mode (dropout and drop-path active).
    public private(set) var isTraining = true

    public init() {}

    /// The state-dict key segment for a stored property. Default: snake_case of the name.
    open func key(forProperty name: String) -> String {
        Module.snakeCase(name)
    }

    /// The direct children, in declaration order, with their key segments.
    open func namedChildren() -> [(String, Module)] {
        reflectedMembers().children
    }

    /// The parameters held directly by this module (not by children), with their key segments.
    open func namedOwnParameters() -> [(String, Parameter)] {
        reflectedMembers().parameters
    }

    /// The buffers held directly by this module (not by children), with their key segments.
    open func namedOwnBuffers() -> [(String, Buffer)] {
        reflectedMembers().buffers
    }

    /// Every parameter in the tree, keyed by dotted path (PyTorch `named_parameters()` order:
    /// own parameters first, then children in declaration order).
    public func namedParameters() -> [(String, Parameter)] {
        var result: [(String, Parameter)] = []
        var stack: [(String, Module)] = [("", self)]
        var seen = Set<ObjectIdentifier>()
        while let (prefix, module) = stack.popLast() {
            for (name, p) in module.namedOwnParameters() where seen.insert(ObjectIdentifier(p)).inserted {
                result.append((prefix + name, p))
            }
            for (name, child) in module.namedChildren().reversed() {
                stack.append((name.isEmpty ? prefix : prefix + name + ".", child))
            }
        }
        return result
    }

    /// Every buffer in the tree, keyed by dotted path (PyTorch `named_buffers()` order).
    public func namedBuffers() -> [(String, Buffer)] {
        namedStateEntries().compactMap { key, entry in
            if case .buffer(let b) = entry { return (key, b) }
            return nil
        }
    }

    /// Every parameter in the tree.
    public func parameters() -> [Parameter] { namedParameters().map { $0.1 } }

    /// Every parameter that currently requires gradients.
    public func trainableParameters() -> [Parameter] { parameters().filter { $0.requiresGrad } }

    /// Every module in the tree (this one first), keyed by dotted path.
    public func namedModules() -> [(String, Module)] {
        var result: [(String, Module)] = []
        var stack: [(String, Module)] = [("", self)]
        while let (path, module) = stack.popLast() {
            result.append((path, module))
            for (name, child) in module.namedChildren().reversed() {
                stack.append((path.isEmpty || name.isEmpty ? path + name : path + "." + name, child))
            }
        }
        return result
    }

    /// Puts the whole tree in training mode.
    public func train() { setTraining(true) }

    /// Puts the whole tree in evaluation mode.
    public func eval() { setTraining(false) }

    /// Sets training mode on the whole tree.
    public func setTraining(_ training: Bool) {
        for (_, m) in namedModules() { m.isTraining = training }
    }

    /// Stops (or resumes) gradient recording for every parameter in the tree, or only for those
    /// whose key passes `predicate`.
    public func freeze(_ frozen: Bool = true, where predicate: (String) -> Bool = { _ in true }) {
        for (key, p) in namedParameters() where predicate(key) { p.requiresGrad = !frozen }
    }

    /// Clears the gradients of every parameter in the tree.
    public func zeroGrad() {
        for p in parameters() { p.zeroGrad() }
    }

    /// The number of scalar parameters in the tree.
    public var parameterCount: Int { parameters().reduce(0) { $0 + $1.value.count } }

    /// One entry of a state dict: a parameter or a buffer.
    enum StateEntry {
        case parameter(Parameter)
        case buffer(Buffer)

        var shape: [Int] {
            switch self {
            case .parameter(let p): p.shape
            case .buffer(let b): b.shape
            }
        }

        func assign(_ value: Tensor) {
            switch self {
            case .parameter(let p): p.value = value
            case .buffer(let b): b.value = value
            }
        }

        var value: Tensor {
            switch self {
            case .parameter(let p): p.value
            case .buffer(let b): b.value
            }
        }
    }

    /// Parameters and buffers by key, in PyTorch `state_dict()` order: each module's own parameters,
    /// then its own buffers, then its children in order.
    func namedStateEntries() -> [(String, StateEntry)] {
        var result: [(String, StateEntry)] = []
        var stack: [(String, Module)] = [("", self)]
        var seen = Set<ObjectIdentifier>()
        while let (prefix, module) = stack.popLast() {
            for (name, p) in module.namedOwnParameters() where seen.insert(ObjectIdentifier(p)).inserted {
                result.append((prefix + name, .parameter(p)))
            }
            for (name, b) in module.namedOwnBuffers() where seen.insert(ObjectIdentifier(b)).inserted {
                result.append((prefix + name, .buffer(b)))
            }
            for (name, child) in module.namedChildren().reversed() {
                stack.append((name.isEmpty ? prefix : prefix + name + ".", child))
            }
        }
        return result
    }

    private func reflectedMembers()
        -> (children: [(String, Module)], parameters: [(String, Parameter)], buffers: [(String, Buffer)])
    {
        var children: [(String, Module)] = []
        var params: [(String, Parameter)] = []
        var buffers: [(String, Buffer)] = []
        var mirrors: [Mirror] = []
        var mirror: Mirror? = Mirror(reflecting: self)
        while let m = mirror, m.subjectType != Module.self {
            mirrors.append(m)
            mirror = m.superclassMirror
        }
        // Base-class properties come first, as PyTorch registers them in __init__ order.
        for m in mirrors.reversed() {
            for child in m.children {
                guard var label = child.label else { continue }
                if label.hasPrefix("$__lazy_storage_$_") { continue }
                if label.hasPrefix("_") { label.removeFirst() }
                let key = self.key(forProperty: label)
                Module.collect(child.value, key: key, children: &children, parameters: &params, buffers: &buffers)
            }
        }
        return (children, params, buffers)
    }

    private static func collect(
        _ value: Any, key: String,
        children: inout [(String, Module)], parameters: inout [(String, Parameter)], buffers: inout [(String, Buffer)]
    ) {
        switch value {
        case let module as Module:
            children.append((key, module))
        case let parameter as Parameter:
            parameters.append((key, parameter))
        case let buffer as Buffer:
            buffers.append((key, buffer))
        default:
            let mirror = Mirror(reflecting: value)
            switch mirror.displayStyle {
            case .optional:
                if let wrapped = mirror.children.first?.value {
                    collect(wrapped, key: key, children: &children, parameters: &parameters, buffers: &buffers)
                }
            case .collection:
                for (i, element) in mirror.children.enumerated() {
                    collect(element.value, key: key + "." + String(i), children: &children, parameters: &parameters,
                            buffers: &buffers)
                }
            default:
                break
            }
        }
    }

    /// camelCase → snake_case (`temporalFc` → `temporal_fc`, `norm1` → `norm1`).
    public static func snakeCase(_ name: String) -> String {
        var out = ""
        var previousWasLowerOrDigit = false
        for ch in name {
            if ch.isUppercase {
                if previousWasLowerOrDigit { out.append("_") }
                out.append(contentsOf: ch.lowercased())
                previousWasLowerOrDigit = false
            } else {
                out.append(ch)
                previousWasLowerOrDigit = ch.isLowercase || ch.isNumber
            }
        }
        return out
    }
}

/// A module mapping one tensor to one tensor, usable inside ``Sequential``.
public protocol UnaryLayer: Module {
    /// Applies the layer.
    func callAsFunction(_ x: Tensor) -> Tensor
}
