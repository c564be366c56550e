from catalog_cases import FEATURES, IMAGE

# IMAGE is 12x10x3: patches of 2x2, 3x5, 4x2 and 6x10 tile it.
FIXED = "input = sequenceInput(6, length=5)"

CASES = {
    "patchEmbedding": [
        f"{IMAGE}\n p = patchEmbedding(2, 8)",
        f'{IMAGE}\n p = patchEmbedding([3, 5], 4, spatialFlattenMode="column-major", weightsInitializer="he", biasInitializer="narrow-normal")',
        f"{IMAGE}\n p = patchEmbedding([6, 10], 6)\n a = selfAttention(2, 6)",
    ],
    "embeddingConcatenation": [
        f"{FIXED}\n e = embeddingConcatenation()",
        f'{IMAGE}\n p = patchEmbedding([4, 2], 8)\n e = embeddingConcatenation(weightsInitializer="narrow-normal")\n a = selfAttention(2, 8)',
    ],
    "indexing1d": [
        "input = sequenceInput(6)\n i = indexing1d()",
        f'{FIXED}\n i = indexing1d("last")\n f = fullyConnected(3)',
        f"{FIXED}\n i = indexing1d(5)",
        "input = sequenceInput([8, 7, 3])\n i = indexing1d(2)",
    ],
    "projectAndReshape": [
        f"{FEATURES}\n p = projectAndReshape([4, 3, 5])",
        f'{FEATURES}\n p = projectAndReshape([2, 3, 2, 4], weightsInitializer="narrow-normal", biasInitializer="ones")',
        'input = imageInput([1, 1, 6], normalization="none")\n p = projectAndReshape([4, 4, 8])\n t = transposedConv2d(4, 3, stride=2, cropping=1)',
    ],
}
