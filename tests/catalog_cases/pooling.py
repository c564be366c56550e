from catalog_cases import IMAGE

SEQUENCE = "input = sequenceInput(6, length=9)"
# Sequences of any length run with LENGTH steps and must keep them (see convolution.py).
ANY_LENGTH = "input = sequenceInput(6)"
IMAGE3D = "input = image3dInput([6, 5, 4, 2])"


def _windowed_1d(kind: str) -> list[str]:
    return [
        f"{SEQUENCE}\n p = {kind}(2, stride=2)",
        f'{SEQUENCE}\n p = {kind}(3, stride=2, padding="same")',
        f"{SEQUENCE}\n p = {kind}(3, padding=[2, 0])",  # wider than half the window
        f'{ANY_LENGTH}\n p = {kind}(2, padding="same")',
        f"{ANY_LENGTH}\n p = {kind}(3, padding=1)",
    ]


def _windowed_3d(kind: str) -> list[str]:
    return [
        f"{IMAGE3D}\n p = {kind}(2, stride=2)",
        f'{IMAGE3D}\n p = {kind}([3, 2, 2], stride=[2, 1, 2], padding="same")',
        f"{IMAGE3D}\n p = {kind}(2, padding=[1, 0, 0, 1, 1, 1])",
    ]


CASES = {
    "maxPooling1d": _windowed_1d("maxPooling1d"),
    "averagePooling1d": _windowed_1d("averagePooling1d"),
    "maxPooling2d": [
        f"{IMAGE}\n p = maxPooling2d(2, stride=2)",
        f"{IMAGE}\n p = maxPooling2d(3)",
        f'{IMAGE}\n p = maxPooling2d(2, padding="same")',
        f"{IMAGE}\n p = maxPooling2d([3, 2], stride=[2, 1], padding=[2, 0, 0, 1])",
        f'{IMAGE}\n p = maxPooling2d(3, stride=2, roundingMode="ceil")',
        f'{IMAGE}\n p = maxPooling2d(2, stride=3, padding=[0, 2, 1, 1], roundingMode="ceil")',
    ],
    "averagePooling2d": [
        f"{IMAGE}\n p = averagePooling2d(2, stride=2)",
        f'{IMAGE}\n p = averagePooling2d(3, stride=2, padding="same")',
        f'{IMAGE}\n p = averagePooling2d(3, stride=2, padding=1, roundingMode="ceil")',
    ],
    "maxPooling3d": _windowed_3d("maxPooling3d"),
    "averagePooling3d": _windowed_3d("averagePooling3d"),
    "globalAveragePooling1d": [f"{SEQUENCE}\n g = globalAveragePooling1d()", f"{ANY_LENGTH}\n g = globalAveragePooling1d()\n f = fullyConnected(3)"],
    "globalAveragePooling2d": [f"{IMAGE}\n g = globalAveragePooling2d()"],
    "globalAveragePooling3d": [f"{IMAGE3D}\n g = globalAveragePooling3d()"],
    "globalMaxPooling1d": [f"{SEQUENCE}\n g = globalMaxPooling1d()", f"{ANY_LENGTH}\n g = globalMaxPooling1d()"],
    "globalMaxPooling2d": [f"{IMAGE}\n g = globalMaxPooling2d()", f"{IMAGE}\n g = globalMaxPooling2d()\n f = fullyConnected(2)"],
    "globalMaxPooling3d": [f"{IMAGE3D}\n g = globalMaxPooling3d()"],
    "adaptiveAveragePooling2d": [f"{IMAGE}\n a = adaptiveAveragePooling2d([5, 3])", f"{IMAGE}\n a = adaptiveAveragePooling2d(16)"],
    "adaptiveMaxPooling2d": [f"{IMAGE}\n a = adaptiveMaxPooling2d(4)", f"{IMAGE}\n a = adaptiveMaxPooling2d([1, 7])\n f = fullyConnected(2)"],
}
