from catalog_cases import FEATURES, IMAGE

CASES = {
    "flatten": [f"{IMAGE}\n f = flatten()", f"{FEATURES}\n f = flatten()"],
}
