from catalog_cases import FEATURES, IMAGE

IMAGE_3D = "input = image3dInput([6, 5, 4, 2])"
SEQUENCE = "input = sequenceInput(6)"
FIXED_SEQUENCE = "input = sequenceInput(6, length=5)"
IMAGE_SEQUENCE = "input = sequenceInput([8, 7, 3])"
IMAGE_3D_SEQUENCE = "input = sequenceInput([4, 3, 3, 2])"

CASES = {
    "batchNormalization": [
        f"{IMAGE}\n b = batchNormalization()",
        f"{FEATURES}\n b = batchNormalization(epsilon=1e-3)",
        f"{SEQUENCE}\n b = batchNormalization()",
        f"{IMAGE_3D}\n b = batchNormalization()",
        f"{IMAGE_SEQUENCE}\n b = batchNormalization()",
        f"{IMAGE_3D_SEQUENCE}\n b = batchNormalization()",
    ],
    "layerNormalization": [
        f"{IMAGE}\n l = layerNormalization()",
        f"{FEATURES}\n l = layerNormalization(epsilon=1e-4)",
        f"{SEQUENCE}\n l = layerNormalization()",
        f"{IMAGE_SEQUENCE}\n l = layerNormalization()",
        f"{IMAGE_3D}\n l = layerNormalization()",
        f'{IMAGE}\n l = layerNormalization(operationDimension="channel-only")',
        f'{IMAGE_SEQUENCE}\n l = layerNormalization(operationDimension="spatial-channel")',
        f'{SEQUENCE}\n l = layerNormalization(operationDimension="batch-excluded")',
        f'{FEATURES}\n l = layerNormalization(operationDimension="spatial-channel")',
        f'{IMAGE_3D}\n l = layerNormalization(operationDimension="batch-excluded")',
    ],
    "groupNormalization": [
        f"{IMAGE}\n c = convolution2d(3, 4)\n g = groupNormalization(2)",
        f"{FEATURES}\n g = groupNormalization(3, epsilon=1e-4)",
        f"{FIXED_SEQUENCE}\n g = groupNormalization(numGroups=6)",
        f"{IMAGE_3D}\n g = groupNormalization(1)",
    ],
    "instanceNormalization": [
        f"{IMAGE}\n i = instanceNormalization()",
        f"{SEQUENCE}\n i = instanceNormalization(epsilon=1e-3)",
        f"{IMAGE_SEQUENCE}\n i = instanceNormalization()",
    ],
    "crossChannelNormalization": [
        f"{IMAGE}\n c = convolution2d(1, 8)\n n = crossChannelNormalization(5)",
        f"{IMAGE}\n n = crossChannelNormalization(2, alpha=1e-3, beta=0.5, k=1)",
        f"{FEATURES}\n n = crossChannelNormalization(3)",
        f"{SEQUENCE}\n n = crossChannelNormalization(4, k=1)",
        f"{IMAGE_3D_SEQUENCE}\n n = crossChannelNormalization(3)",
    ],
    "dropout": [f"{IMAGE}\n d = dropout(0.3)"],
}

CASES["stochasticDepth"] = [
    f'{IMAGE}\n c = convolution2d(3, 3, padding="same")\n d = stochasticDepth(0.3)\n a = addition()\n input -> c -> d -> a/in1\n input -> a/in2',
    f'{FEATURES}\n d = stochasticDepth(0.5, mode="batch")',
    f"{SEQUENCE}\n d = stochasticDepth(1)",
]

CASES["layerScale"] = [
    f"{IMAGE}\n s = layerScale()",
    f"{FEATURES}\n s = layerScale(0.1)",
    f"{SEQUENCE}\n s = layerScale(initialValue=1)",
    f"{IMAGE_3D_SEQUENCE}\n s = layerScale()",
]
