from catalog_cases import FEATURES, IMAGE

SEQUENCE = "input = sequenceInput(6, length=9)"
# The shape test runs sequences of any length with LENGTH steps, and expects as many back: these
# cases keep the length (test_catalog_convolution_pooling.py checks the ones that change it).
ANY_LENGTH = "input = sequenceInput(6)"
IMAGE3D = "input = image3dInput([6, 5, 4, 2])"

CASES = {
    "convolution1d": [
        f"{SEQUENCE}\n c = convolution1d(3, 4)",
        f"{SEQUENCE}\n c = convolution1d(3, 4, stride=2, dilationFactor=2, padding=[2, 1])",
        f'{SEQUENCE}\n c = convolution1d(4, 5, stride=2, padding="same")',  # even filter: uneven padding
        f'{SEQUENCE}\n c = convolution1d(3, 4, dilationFactor=2, padding="causal")',
        f'{ANY_LENGTH}\n c = convolution1d(4, 4, padding="same")',
        f'{ANY_LENGTH}\n c = convolution1d(3, 4, dilationFactor=2, padding="causal", bias=false)',
        f'{ANY_LENGTH}\n c = convolution1d(3, 8, padding="causal")\n p = globalAveragePooling1d()\n f = fullyConnected(2)',
    ],
    "convolution2d": [
        f"{IMAGE}\n c = convolution2d(3, 4)",
        f"{IMAGE}\n c = convolution2d([3, 2], 5, stride=[2, 3], padding=[1, 0])",
        f'{IMAGE}\n c = convolution2d(4, 2, padding="same")',  # even filter: uneven padding
        f'{IMAGE}\n c = convolution2d(3, 2, stride=2, padding="same", bias=false)',
        f"{IMAGE}\n c = convolution2d(3, 2, dilationFactor=2, padding=[0, 1, 2, 3])",
    ],
    "convolution3d": [
        f"{IMAGE3D}\n c = convolution3d(3, 4)",
        f"{IMAGE3D}\n c = convolution3d([3, 2, 1], 5, stride=[2, 1, 3], padding=[1, 0, 2])",
        f'{IMAGE3D}\n c = convolution3d(2, 3, dilationFactor=[1, 2, 1], padding="same")',
        f'{IMAGE3D}\n c = convolution3d(3, 3, stride=2, padding="same", weightsInitializer="he")',
        f"{IMAGE3D}\n c = convolution3d(2, 3, padding=[0, 1, 1, 0, 2, 1], bias=false)",  # before, after per dimension
    ],
    "groupedConvolution2d": [
        f"{IMAGE}\n g = groupedConvolution2d(3, 2, 3)",
        f'{IMAGE}\n g = groupedConvolution2d(3, 1, "channel-wise", stride=2, padding="same")',
        f"{IMAGE}\n c = convolution2d(1, 4)\n g = groupedConvolution2d([3, 2], 3, 2, dilationFactor=2, padding=[0, 1, 2, 3])",
        f'{IMAGE}\n g = groupedConvolution2d(2, 4, 1, padding="same", bias=false)',
    ],
    "transposedConv1d": [
        f"{SEQUENCE}\n t = transposedConv1d(3, 4)",
        f"{SEQUENCE}\n t = transposedConv1d(4, 2, stride=2, cropping=[1, 2])",
        f'{SEQUENCE}\n t = transposedConv1d(3, 4, stride=2, cropping="same")',  # odd: the extra one after
        f'{ANY_LENGTH}\n t = transposedConv1d(2, 3, cropping="same", bias=false)',
    ],
    "transposedConv2d": [
        f"{IMAGE}\n t = transposedConv2d(3, 4)",
        f'{IMAGE}\n t = transposedConv2d(4, 2, stride=2, cropping="same")',
        f"{IMAGE}\n t = transposedConv2d([3, 2], 5, stride=[2, 3], cropping=[1, 0, 2, 1])",
        f"{IMAGE}\n t = transposedConv2d(5, 2, stride=2, cropping=1)",
    ],
    "transposedConv3d": [
        f"{IMAGE3D}\n t = transposedConv3d(2, 3, stride=2)",
        f'{IMAGE3D}\n t = transposedConv3d([3, 2, 3], 2, stride=[1, 2, 2], cropping="same")',
        f"{IMAGE3D}\n t = transposedConv3d(3, 2, cropping=[0, 1, 1, 0, 0, 2], bias=false)",
    ],
    "fullyConnected": [f"{IMAGE}\n f = fullyConnected(7)", f"{FEATURES}\n f = fullyConnected(3, bias=false)"],
}

CASES["fullyConnected"] += ["input = sequenceInput(6)\n f = fullyConnected(4)", "input = sequenceInput([4, 3, 2], length=5)\n f = fullyConnected(3)"]
