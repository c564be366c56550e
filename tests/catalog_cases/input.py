from catalog_cases import FEATURES, IMAGE

CASES = {
    "imageInput": [IMAGE, "input = imageInput([9, 7])", 'input = imageInput([6, 5, 2], normalization="rescale-zero-one", normalizationDimension="element")'],
    "featureInput": [FEATURES, 'input = featureInput(6, normalization="rescale-symmetric")'],
}
