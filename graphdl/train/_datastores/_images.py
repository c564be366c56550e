"""MATLAB's imageDatastore: a folder of image files, one subfolder per class, read lazily."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from graphdl.diagnostics import error, reason

# What Pillow reads without plugins; MATLAB's default FileExtensions are likewise every format imread knows.
EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".gif", ".pgm", ".ppm", ".pbm", ".webp")
COLOR_PREPROCESSING = ("none", "gray2rgb", "rgb2gray")
# rgb2gray's weights (ITU-R BT.601 luma), as MATLAB's rgb2gray uses them.
_LUMA = torch.tensor([0.298936021293775, 0.587043074451121, 0.114020904255103])


def convert_color(image: torch.Tensor, color_preprocessing: str) -> torch.Tensor:
    """An image (channels, height, width) with augmentedImageDatastore's ColorPreprocessing applied:
    "gray2rgb" repeats one channel three times, "rgb2gray" weighs three into one; other images
    pass unchanged, as in MATLAB."""
    if color_preprocessing == "gray2rgb" and image.shape[0] == 1:
        return image.expand(3, *image.shape[1:]).clone()
    if color_preprocessing == "rgb2gray" and image.shape[0] == 3:
        return torch.tensordot(_LUMA.to(image.dtype), image, dims=1).unsqueeze(0)
    return image


def check_color_preprocessing(value: str) -> str:
    if value not in COLOR_PREPROCESSING:
        raise error("E802", f"color_preprocessing must be one of {list(COLOR_PREPROCESSING)}, not {value!r}")
    return value


def read_image(path: Path) -> torch.Tensor:
    """An image file as float32 (channels, height, width) in [0, 1]: grey images have one channel,
    colour ones three (alpha dropped, palettes expanded). A file Pillow cannot decode is E801,
    naming it."""
    from PIL import Image  # Pillow is imported only by those who read image files

    try:
        with Image.open(path) as image:
            image.load()
            if image.mode in ("I;16", "I;16B", "I;16L", "I;16N"):  # 16-bit grey
                pixels = np.asarray(image, dtype=np.float32) / 65535.0
            elif image.mode == "F":  # float grey: already intensities
                pixels = np.asarray(image, dtype=np.float32)
            elif image.mode in ("1", "L", "LA", "I"):
                pixels = np.asarray(image.convert("L"), dtype=np.float32) / 255.0
            else:  # RGB, RGBA, palettes, CMYK, YCbCr: as RGB
                pixels = np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0
    except FileNotFoundError as e:
        raise error("E001", f"cannot read {path}: {e.strerror}", os_error=e) from e
    except (OSError, ValueError, SyntaxError) as e:  # Pillow's errors for a corrupt or truncated file
        raise error("E801", f"{path}: not an image Pillow can read: {reason(e)}") from None
    tensor = torch.from_numpy(np.ascontiguousarray(pixels))
    return tensor.unsqueeze(0) if tensor.ndim == 2 else tensor.permute(2, 0, 1).contiguous()


class ImageDatastore(Dataset):
    """Image files with their labels, read lazily: item i is (image, label), the image float32
    (channels, height, width) in [0, 1] and the label an index into `classes` (or the image alone
    without labels).

    Every image must have the channel count of the first file (`files[0]`), or `__getitem__`
    raises E801 naming the file; `color_preprocessing` "gray2rgb" or "rgb2gray" converts instead.
    """

    def __init__(self, files: list[Path], labels: np.ndarray | None, classes: tuple[str, ...] | None, color_preprocessing: str = "none"):
        self.files = list(files)
        self.labels = labels
        self.classes = classes
        self.color_preprocessing = check_color_preprocessing(color_preprocessing)
        self._channels: int | None = None

    def __len__(self) -> int:
        return len(self.files)

    def describe(self, index: int) -> str:
        return str(self.files[index])

    @property
    def channels(self) -> int:
        """The channel count every image must have: the first file's, after color preprocessing."""
        if self._channels is None:
            if not self.files:
                raise error("E801", "the image datastore has no files")
            self._channels = self.read(0).shape[0]
        return self._channels

    def read(self, index: int) -> torch.Tensor:
        """The image of file `index`, with color preprocessing but no check of its channels."""
        return convert_color(read_image(self.files[index]), self.color_preprocessing)

    def __getitem__(self, index: int):
        image = self.read(index)
        if image.shape[0] != self.channels:
            raise error(
                "E801",
                f"{self.files[index]} has {image.shape[0]} channels, the first image ({self.files[0]}) {self.channels}",
                help='color_preprocessing="gray2rgb" or "rgb2gray" makes them agree',
            )
        return image if self.labels is None else (image, int(self.labels[index]))

    def subset(self, indices) -> ImageDatastore:
        """MATLAB's subset: the files at `indices`, with the same classes."""
        indices = np.asarray(indices, dtype=np.int64)
        labels = None if self.labels is None else self.labels[indices]
        return ImageDatastore([self.files[i] for i in indices], labels, self.classes, self.color_preprocessing)

    def with_color_preprocessing(self, color_preprocessing: str) -> ImageDatastore:
        return ImageDatastore(self.files, self.labels, self.classes, color_preprocessing)

    def __repr__(self) -> str:
        classes = "no labels" if self.classes is None else f"{len(self.classes)} classes"
        return f"<ImageDatastore: {len(self)} files, {classes}>"


def image_datastore(folder, label_source: str = "foldernames", *, color_preprocessing: str = "none",
                    file_extensions: tuple[str, ...] = EXTENSIONS) -> ImageDatastore:
    """MATLAB's `imageDatastore(folder, IncludeSubfolders=true, LabelSource="foldernames")`.

    Every image file under `folder` (subfolders included), in sorted path order; with
    `label_source="foldernames"` each file's label is the name of the folder holding it, and the
    classes are those names sorted (MATLAB's categorical order: "10" before "2"). `"none"` reads
    the images without labels.
    """
    if label_source not in ("foldernames", "none"):
        raise error("E802", f'label_source must be "foldernames" or "none", not {label_source!r}')
    check_color_preprocessing(color_preprocessing)
    root = Path(folder)
    if not root.is_dir():
        e = FileNotFoundError(2, "no such folder", str(root))
        raise error("E001", f"cannot read {root}: no such folder", os_error=e)
    extensions = {x.lower() for x in file_extensions}
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in extensions and p.is_file())
    if not files:
        raise error("E801", f"{root} holds no image files ({', '.join(sorted(extensions))})")
    if label_source == "none":
        return ImageDatastore(files, None, None, color_preprocessing)
    names = [p.parent.name for p in files]
    classes = tuple(sorted(set(names)))
    index = {name: i for i, name in enumerate(classes)}
    return ImageDatastore(files, np.array([index[n] for n in names], dtype=np.int64), classes, color_preprocessing)
