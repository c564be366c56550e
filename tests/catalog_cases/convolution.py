from catalog_cases import FEATURES, IMAGE

CASES = {
    "convolution2d": [
        f"{IMAGE}\n c = convolution2d(3, 4)",
        f"{IMAGE}\n c = convolution2d([3, 2], 5, stride=[2, 3], padding=[1, 0])",
        f'{IMAGE}\n c = convolution2d(4, 2, padding="same")',  # even filter: uneven padding
        f'{IMAGE}\n c = convolution2d(3, 2, stride=2, padding="same", bias=false)',
        f"{IMAGE}\n c = convolution2d(3, 2, dilationFactor=2, padding=[0, 1, 2, 3])",
    ],
    "fullyConnected": [f"{IMAGE}\n f = fullyConnected(7)", f"{FEATURES}\n f = fullyConnected(3, bias=false)"],
}
