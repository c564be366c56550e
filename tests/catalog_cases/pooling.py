from catalog_cases import IMAGE

CASES = {
    "maxPooling2d": [
        f"{IMAGE}\n p = maxPooling2d(2, stride=2)",
        f"{IMAGE}\n p = maxPooling2d(3)",
        f'{IMAGE}\n p = maxPooling2d(2, padding="same")',
        f"{IMAGE}\n p = maxPooling2d([3, 2], stride=[2, 1], padding=[2, 0, 0, 1])",
    ],
    "averagePooling2d": [f"{IMAGE}\n p = averagePooling2d(2, stride=2)", f'{IMAGE}\n p = averagePooling2d(3, stride=2, padding="same")'],
    "globalAveragePooling2d": [f"{IMAGE}\n g = globalAveragePooling2d()"],
}
