from catalog_cases import FEATURES, IMAGE

CASES = {
    "relu": [f"{IMAGE}\n r = relu()"],
    "leakyRelu": [f"{FEATURES}\n r = leakyRelu(0.2)"],
    "softmax": [f"{IMAGE}\n s = softmax()", f"{FEATURES}\n s = softmax()"],
}
