from catalog_cases import FEATURES, IMAGE

CASES = {
    "imageInput": [IMAGE, "input = imageInput([9, 7])", 'input = imageInput([6, 5, 2], normalization="rescale-zero-one", normalizationDimension="element")'],
    "featureInput": [FEATURES, 'input = featureInput(6, normalization="rescale-symmetric")'],
}

CASES["image3dInput"] = ["input = image3dInput([6, 5, 4, 2])", "input = image3dInput([4, 4, 3])"]
CASES["sequenceInput"] = [
    "input = sequenceInput(6)",
    'input = sequenceInput(6, normalization="zscore", length=5)',
    "input = sequenceInput([8, 7, 3])",
]
