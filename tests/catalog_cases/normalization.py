from catalog_cases import FEATURES, IMAGE

CASES = {
    "batchNormalization": [f"{IMAGE}\n b = batchNormalization()", f"{FEATURES}\n b = batchNormalization(epsilon=1e-3)"],
    "dropout": [f"{IMAGE}\n d = dropout(0.3)"],
}
