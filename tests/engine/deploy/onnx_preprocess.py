"""The evaluation preprocessing of an exported model's metadata, in Python (PIL): the central crop,
the resize to the input size, RGB scaled to [-1, 1], channels first. Shared by the ONNX Runtime
test and bench/infer/peers.py; the README's snippet spells the same lines out for its readers."""
import numpy as np
from PIL import Image


def preprocess(path, size, crop):
    image = Image.open(path).convert("RGB")
    w, h = image.size
    x, y = int((w - w * crop) / 2), int((h - h * crop) / 2)
    image = image.crop((x, y, w - x, h - y)).resize((size, size), Image.BILINEAR)
    return np.asarray(image, np.float32).transpose(2, 0, 1) / 127.5 - 1
