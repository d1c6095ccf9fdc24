"""Photo-like PNGs for bench/robust/run.sh: DIR/CATEGORY/N.png, three categories.

    python make_photos.py DIR PER_CATEGORY
"""
import os
import sys

import numpy as np
from PIL import Image


def main() -> None:
    out, per_category = sys.argv[1], int(sys.argv[2])
    rng = np.random.default_rng(16)
    for c, category in enumerate(["cats", "dogs", "birds"]):
        os.makedirs(os.path.join(out, category), exist_ok=True)
        for i in range(per_category):
            # A gradient tinted by the category, with noise: compresses like a photo.
            y, x = np.mgrid[0:96, 0:96]
            image = np.stack([x * 2, y * 2, np.full_like(x, 80 * c)], axis=-1)
            image = image + rng.integers(0, 40, image.shape)
            Image.fromarray(np.clip(image, 0, 255).astype(np.uint8)).save(
                os.path.join(out, category, f"{i:04d}.png"))


if __name__ == "__main__":
    main()
