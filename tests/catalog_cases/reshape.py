from catalog_cases import FEATURES, IMAGE

CASES = {
    "flatten": [f"{IMAGE}\n f = flatten()", f"{FEATURES}\n f = flatten()"],
    "reshape": [f"{IMAGE}\n r = reshape([360])", f"{FEATURES}\n r = reshape([1, 2, 3])", f"{IMAGE}\n r = reshape([6, 5, 12])"],
    "permute": [f"{IMAGE}\n p = permute([2, 1, 3])", f"{IMAGE}\n p = permute([3, 1, 2])", f"{FEATURES}\n p = permute([1])"],
    "resize2d": [f"{IMAGE}\n r = resize2d(scale=2)", f'{IMAGE}\n r = resize2d(outputSize=[5, 7], method="bilinear")', f"{IMAGE}\n r = resize2d(scale=0.5)"],
    "crop2d": [
        f"{IMAGE}\n p = maxPooling2d(2, stride=2)\n c = crop2d()\n input -> c/in\n input -> p -> c/ref",
        f"{IMAGE}\n p = maxPooling2d(3, stride=3)\n c = crop2d([2, 3])\n input -> c/in\n input -> p -> c/ref",
    ],
}

CASES["channelShuffle"] = [
    f"{IMAGE}\n s = channelShuffle(3)",
    f"{FEATURES}\n f = fullyConnected(8)\n s = channelShuffle(4)",
    "input = sequenceInput(6)\n s = channelShuffle(2)",
    "input = sequenceInput([5, 4, 6])\n s = channelShuffle(6)",
]
