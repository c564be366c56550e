from catalog_cases import FEATURES, IMAGE

CASES = {
    "addition": [
        f"{IMAGE}\n a = relu()\n b = relu()\n add = addition(3)\n input -> a -> add/in1\n input -> b -> add/in2\n input -> add/in3"
    ],
    "concatenation": [
        f"{IMAGE}\n p = maxPooling2d([2, 1], stride=[2, 1])\n cat = concatenation(1)\n input -> p -> cat/in1\n input -> cat/in2",
        f'{IMAGE}\n p = maxPooling2d([1, 2], stride=[1, 2])\n cat = concatenation("width")\n input -> p -> cat/in1\n input -> cat/in2',
        f'{FEATURES}\n f = fullyConnected(2)\n cat = concatenation("channel", 2)\n input -> f -> cat/in1\n input -> cat/in2',
    ],
    "depthConcatenation": [f"{IMAGE}\n c = convolution2d(1, 5)\n cat = depthConcatenation(2)\n input -> c -> cat/in1\n input -> cat/in2"],
}

CASES["multiplication"] = [
    f"{IMAGE}\n g = globalAveragePooling2d()\n c = convolution2d(1, 3)\n s = sigmoid()\n m = multiplication()\n input -> m/in1\n input -> g -> c -> s -> m/in2",
    f"{IMAGE}\n a = relu()\n gate = multiplication()\n input -> a -> gate/in1\n input -> gate/in2",
    f'{FEATURES}\n f = fullyConnected(6)\n m = multiplication(3)\n input -> f -> m/in1\n input -> m/in2\n f -> m/in3',
]

CASES["subtraction"] = [
    f"{IMAGE}\n a = relu()\n d = subtraction()\n input -> a -> d/in1\n input -> d/in2",
    f"{FEATURES}\n f = fullyConnected(6)\n d = subtraction()\n input -> d/in1\n input -> f -> d/in2",
]

CASES["channelSplit"] = [
    f"{IMAGE}\n c = convolution2d(1, 4)\n s = channelSplit()\n r = relu()\n cat = depthConcatenation(2)\n"
    " input -> c -> s\n s/out1 -> cat/in1\n s/out2 -> r -> cat/in2",
    f"{FEATURES}\n s = channelSplit(3)",
    "input = sequenceInput(6)\n s = channelSplit(2)\n a = addition()\n input -> s\n s/out1 -> a/in1\n s/out2 -> a/in2",
    "input = sequenceInput([5, 4, 6])\n s = channelSplit(6)",
]
