from catalog_cases import FEATURES, IMAGE

CASES = {
    "classification": [f"{FEATURES}\n f = fullyConnected(3)\n s = softmax()\n c = classification()", f"{IMAGE}\n s = softmax()\n c = classification()"],
    "regression": [f"{FEATURES}\n f = fullyConnected(1)\n r = regression()"],
}
