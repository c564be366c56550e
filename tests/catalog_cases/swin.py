from catalog_cases import IMAGE

CASES = {
    "shiftedWindowAttention": [
        f"{IMAGE}\n a = shiftedWindowAttention(3, 4, shiftSize=2)",
        f"{IMAGE}\n a = shiftedWindowAttention(3, 4)",
        f"{IMAGE}\n c = convolution2d(1, 8)\n a = shiftedWindowAttention(2, [3, 5], shiftSize=[1, 2])",
        'input = imageInput([5, 6, 4], normalization="none")\n a = shiftedWindowAttention(2, 7, shiftSize=3)',
        f"{IMAGE}\n a = shiftedWindowAttention(1, [4, 3], shiftSize=[2, 0])",
    ],
    "patchMerging": [
        f"{IMAGE}\n p = patchMerging()",
        'input = imageInput([7, 5, 2], normalization="none")\n p = patchMerging(epsilon=1e-4)',
    ],
}
