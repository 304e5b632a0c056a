import TensorCore
print("{}")
