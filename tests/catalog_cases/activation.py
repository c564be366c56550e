from catalog_cases import FEATURES, IMAGE

SEQUENCE = "input = sequenceInput(6)"
FIXED_SEQUENCE = "input = sequenceInput(6, length=5)"
IMAGE_SEQUENCE = "input = sequenceInput([8, 7, 3])"

CASES = {
    "relu": [f"{IMAGE}\n r = relu()"],
    "leakyRelu": [f"{FEATURES}\n r = leakyRelu(0.2)"],
    "softmax": [f"{IMAGE}\n s = softmax()", f"{FEATURES}\n s = softmax()", f"{SEQUENCE}\n s = softmax()"],
    "clippedRelu": [f"{IMAGE}\n r = clippedRelu(6)", f"{FEATURES}\n r = clippedRelu(0.5)", f"{SEQUENCE}\n r = clippedRelu(ceiling=10)"],
    "elu": [f"{IMAGE}\n e = elu()", f"{FEATURES}\n e = elu(0.5)", f"{FIXED_SEQUENCE}\n e = elu(alpha=2)"],
    "gelu": [f"{IMAGE}\n g = gelu()", f'{FEATURES}\n g = gelu(approximation="tanh")', f"{IMAGE_SEQUENCE}\n g = gelu()"],
    "tanh": [f"{IMAGE}\n t = tanh()", f"{FEATURES}\n t = tanh()", f"{SEQUENCE}\n t = tanh()"],
    "sigmoid": [f"{IMAGE}\n s = sigmoid()", f"{FEATURES}\n s = sigmoid()", f"{FIXED_SEQUENCE}\n s = sigmoid()"],
    "swish": [f"{IMAGE}\n s = swish()", f"{FEATURES}\n s = swish()", f"{SEQUENCE}\n s = swish()"],
    "softplus": [f"{IMAGE}\n s = softplus()", f"{FEATURES}\n s = softplus()", f"{IMAGE_SEQUENCE}\n s = softplus()"],
    "hardSigmoid": [f"{IMAGE}\n h = hardSigmoid()", f"{FEATURES}\n h = hardSigmoid()", f"{SEQUENCE}\n h = hardSigmoid()"],
    "hardSwish": [f"{IMAGE}\n h = hardSwish()", f"{FEATURES}\n h = hardSwish()", f"{IMAGE_SEQUENCE}\n h = hardSwish()"],
    "function": [f'{IMAGE}\n f = function("square")', f'{FEATURES}\n f = function("negate")', f'{SEQUENCE}\n f = function(fun="exp")'],
}
