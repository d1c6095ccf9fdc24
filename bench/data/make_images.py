"""Makes N photo-like JPEGs of varied sizes (500x375 to 1024x768, both orientations) in
OUT/<class>/ for the loader benchmark: smooth colour fields, shapes, texture and sensor-like
noise, so that they compress and decode like photographs (80-250 KB), not like flat colours.

    python make_images.py OUT N
"""
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

SIZES = [(500, 375), (640, 480), (800, 600), (1024, 768), (500, 333), (768, 1024), (375, 500),
         (900, 600), (1000, 750), (600, 800)]


def picture(rng, width, height):
    # Smooth colour field: low-resolution noise upsampled bicubically.
    low = rng.integers(0, 256, size=(rng.integers(3, 8), rng.integers(3, 8), 3), dtype=np.uint8)
    image = Image.fromarray(low).resize((width, height), Image.BICUBIC)
    draw = ImageDraw.Draw(image)
    for _ in range(rng.integers(8, 20)):
        x0, y0 = rng.integers(0, width), rng.integers(0, height)
        x1, y1 = x0 + rng.integers(20, width // 2), y0 + rng.integers(20, height // 2)
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        if rng.random() < 0.5:
            draw.ellipse([x0, y0, x1, y1], fill=colour)
        else:
            draw.line([x0, y0, x1, y1], fill=colour, width=int(rng.integers(2, 12)))
    image = image.filter(ImageFilter.GaussianBlur(radius=1.2))
    pixels = np.asarray(image).astype(np.int16)
    # Fine texture and noise.
    pixels += rng.normal(0, 6, size=pixels.shape).astype(np.int16)
    yy, xx = np.mgrid[0:height, 0:width]
    pixels += (8 * np.sin(xx / rng.uniform(2, 9)) * np.cos(yy / rng.uniform(2, 9)))[..., None].astype(np.int16)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def main():
    out, count = Path(sys.argv[1]), int(sys.argv[2])
    rng = np.random.default_rng(2024)
    for i in range(count):
        width, height = SIZES[i % len(SIZES)]
        folder = out / f"class{i % 10:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        picture(rng, width, height).save(folder / f"img{i:05d}.jpg", quality=90)


if __name__ == "__main__":
    main()
