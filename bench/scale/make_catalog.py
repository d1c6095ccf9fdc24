"""Makes a product-photo-like data set for the scale benchmark (run.sh): N images in 1,000
three-level categories (5 x 10 x 20 nested folders, "Women/Shoes/Sneakers"), long-tailed counts
(Zipf-like, the largest category about 200 times the smallest), a few hundred pixels a side.

Each category has a visual signature a model can learn: a palette, a background gradient
direction, a shape, a stripe texture. Each image varies it (position, size, colour jitter,
noise, JPEG quality). Mixed in, by share of N: 2% PNG, 2% WebP, 1% exact duplicates (the same
bytes under another name), 1% near duplicates (a resized, re-encoded copy), and 1 in 2,000
each of a truncated JPEG, a zero-length file and a text file named .jpg; 1 in 2,000 is a PNG
named .jpg (a wrong extension on a good image).

Deterministic from --seed, whatever --processes: image i depends only on (seed, i). An
interrupted run is continued by running it again with --resume: images already written are kept
(each file appears whole or not at all), the rest are made.

    python make_catalog.py OUT N [--seed 1] [--processes 2] [--resume]
    python make_catalog.py OUT N --change 0.01    # afterwards: rewrite half of 1% of the
                                                  # images with new content, add the other half
Prints images/sec and bytes per image at the end.
"""
import argparse
import io
import os
import sys
import time
from multiprocessing import Pool
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

LEVEL1 = ["Women", "Men", "Kids", "Home", "Sport"]
LEVEL2 = ["Shoes", "Bags", "Tops", "Trousers", "Accessories", "Jewellery", "Outerwear",
          "Kitchen", "Bedding", "Electronics"]
LEVEL3 = ["Sneakers", "Boots", "Sandals", "Loafers", "Heels", "Slippers", "Totes", "Backpacks",
          "Wallets", "Belts", "Scarves", "Hats", "Watches", "Rings", "Jackets", "Coats", "Mugs",
          "Lamps", "Pillows", "Cables"]
CATEGORIES = [(a, b, c) for a in LEVEL1 for b in LEVEL2 for c in LEVEL3]  # 1,000
SHAPES = ["ellipse", "rectangle", "triangle", "diamond", "ring", "bars"]
NOISE_SIDE = 768


def category_counts(n, seed):
    """Long-tailed images per category summing to n: weight 1/(rank+5)^1.1 over a seeded
    permutation of ranks, at least one image per category while n allows."""
    rng = np.random.default_rng([seed, 7])
    ranks = rng.permutation(len(CATEGORIES))
    weights = 1.0 / (ranks + 5.0) ** 1.1
    floor = 1 if n >= len(CATEGORIES) else 0
    counts = np.full(len(CATEGORIES), floor, dtype=np.int64)
    rest = n - counts.sum()
    share = weights / weights.sum() * rest
    counts += np.floor(share).astype(np.int64)
    # The remainder goes to the largest fractional parts, ties broken by index.
    order = np.argsort(-(share - np.floor(share)), kind="stable")
    counts[order[: n - counts.sum()]] += 1
    return counts


class Signature:
    """A category's look: its palette, gradient direction, shape and stripe texture."""

    def __init__(self, seed, c):
        rng = np.random.default_rng([seed, 11, c])
        level1, level2 = c // 200, (c // 20) % 10
        # Level 1 sets the gradient direction, level 2 the palette family, level 3 the shape.
        self.angle = level1 * np.pi / 5 + rng.uniform(-0.2, 0.2)
        family = np.random.default_rng([seed, 13, level2]).integers(40, 216, size=3)
        self.background = np.clip(family + rng.integers(-40, 41, size=(2, 3)), 0, 255)
        self.object = rng.integers(0, 256, size=3)
        self.shape = SHAPES[(c % 20) % len(SHAPES)]
        self.stripe_period = rng.uniform(4, 24)
        self.stripe_angle = rng.uniform(0, np.pi)
        self.studio = rng.random() < 0.5  # light, plain background (catalog shots)


def picture(seed, signatures, c, i, noise):
    """Image i of category c as a PIL image (RGB)."""
    sig = signatures[c]
    rng = np.random.default_rng([seed, 17, i])
    width, height = int(rng.integers(200, 421)), int(rng.integers(200, 421))
    # Background: a two-colour gradient along the category's direction, made at 1/8 size and
    # scaled up (bilinear), which is as smooth and much cheaper than at full size.
    small_w, small_h = width // 8 + 2, height // 8 + 2
    t = (np.arange(small_w, dtype=np.float32)[None, :] * np.cos(sig.angle)
         + np.arange(small_h, dtype=np.float32)[:, None] * np.sin(sig.angle))
    t = (t - t.min()) / max(float(np.ptp(t)), 1.0)
    if sig.studio:
        c0, c1 = np.array([245, 245, 245]), sig.background[0] // 4 + 190
    else:
        c0, c1 = sig.background[0], sig.background[1]
    c0 = c0 + rng.integers(-15, 16, size=3)
    c1 = c1 + rng.integers(-15, 16, size=3)
    pixels = c0[None, None, :] + t[..., None] * (c1 - c0)[None, None, :]
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).resize((width, height),
                                                                              Image.BILINEAR)
    # The product: the category's shape, in its colour, somewhere near the middle.
    draw = ImageDraw.Draw(image)
    colour = tuple(int(v) for v in np.clip(sig.object + rng.integers(-25, 26, size=3), 0, 255))
    side = min(width, height) * rng.uniform(0.35, 0.7)
    cx, cy = width * rng.uniform(0.35, 0.65), height * rng.uniform(0.35, 0.65)
    box = [cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2]
    if sig.shape == "ellipse":
        draw.ellipse(box, fill=colour)
    elif sig.shape == "rectangle":
        draw.rectangle(box, fill=colour)
    elif sig.shape == "triangle":
        draw.polygon([(cx, box[1]), (box[2], box[3]), (box[0], box[3])], fill=colour)
    elif sig.shape == "diamond":
        draw.polygon([(cx, box[1]), (box[2], cy), (cx, box[3]), (box[0], cy)], fill=colour)
    elif sig.shape == "ring":
        draw.ellipse(box, outline=colour, width=max(4, int(side / 8)))
    else:
        for k in range(4):
            x = box[0] + k * side / 4
            draw.rectangle([x, box[1], x + side / 8, box[3]], fill=colour)
    # A few distractors of random shape and colour.
    for _ in range(int(rng.integers(0, 4))):
        x0, y0 = rng.integers(0, width), rng.integers(0, height)
        r = int(rng.integers(8, 40))
        fill = tuple(int(v) for v in rng.integers(0, 256, size=3))
        draw.ellipse([x0 - r, y0 - r, x0 + r, y0 + r], fill=fill)
    pixels = np.asarray(image).astype(np.int16)
    # The category's stripe texture on the product's box, and sensor-like noise everywhere.
    x0, x1 = max(0, int(cx - side / 2)), min(width, int(cx + side / 2))
    y0, y1 = max(0, int(cy - side / 2)), min(height, int(cy + side / 2))
    yy = np.arange(y0, y1, dtype=np.float32)[:, None]
    xx = np.arange(x0, x1, dtype=np.float32)[None, :]
    phase = (xx * np.float32(np.cos(sig.stripe_angle)) + yy * np.float32(np.sin(sig.stripe_angle)))
    stripes = (10 * np.sin(phase * np.float32(2 * np.pi / sig.stripe_period))).astype(np.int16)
    pixels[y0:y1, x0:x1] += stripes[..., None]
    ox, oy = rng.integers(0, NOISE_SIDE - width), rng.integers(0, NOISE_SIDE - height)
    pixels += noise[oy:oy + height, ox:ox + width]
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)), rng


def encode(image, fmt, quality):
    out = io.BytesIO()
    if fmt == "PNG":
        image.save(out, "PNG", compress_level=3)
    elif fmt == "WEBP":
        image.save(out, "WEBP", quality=quality, method=0)
    else:
        image.save(out, "JPEG", quality=quality)
    return out.getvalue()


def kind_of(seed, i):
    """What image i is: 'jpeg', 'png', 'webp', 'dup', 'near', 'truncated', 'empty', 'text',
    'png-as-jpg'. Depends only on (seed, i)."""
    u = np.random.default_rng([seed, 19, i]).random()
    for kind, share in (("truncated", 0.0005), ("empty", 0.0005), ("text", 0.0005),
                        ("png-as-jpg", 0.0005), ("png", 0.02), ("webp", 0.02), ("dup", 0.01),
                        ("near", 0.01)):
        if u < share:
            return kind
        u -= share
    return "jpeg"


class Plan:
    """Which category each image index belongs to, and where its file goes."""

    def __init__(self, n, seed):
        self.counts = category_counts(n, seed)
        self.starts = np.concatenate([[0], np.cumsum(self.counts)[:-1]])
        self.n = n

    def category(self, i):
        if i >= self.n:  # images added by --change: spread over the categories like the rest
            return int(np.searchsorted(self.starts, (i * 2654435761) % self.n, side="right") - 1)
        return int(np.searchsorted(self.starts, i, side="right") - 1)

    @staticmethod
    def folder(c):
        return Path(*CATEGORIES[c])


def image_bytes(seed, plan, signatures, noise, i, variant=0):
    """(file suffix, bytes) of image i; variant > 0 gives the same image new content (--change)."""
    c = plan.category(i)
    kind = kind_of(seed, i)
    if kind in ("dup", "near") and i > plan.starts[c] and variant == 0:
        # A copy of an earlier image of the same category (regenerated: same bytes).
        j = int(np.random.default_rng([seed, 23, i]).integers(plan.starts[c], i))
        if kind_of(seed, j) in ("jpeg", "png", "webp"):
            suffix, data = image_bytes(seed, plan, signatures, noise, j)
            if kind == "dup":
                return suffix, data
            original = Image.open(io.BytesIO(data)).convert("RGB")
            scale = np.random.default_rng([seed, 29, i]).uniform(0.6, 0.9)
            smaller = original.resize((max(1, int(original.width * scale)),
                                       max(1, int(original.height * scale))), Image.BILINEAR)
            return ".jpg", encode(smaller, "JPEG", 75)
    if kind == "empty":
        return ".jpg", b""
    if kind == "text":
        return ".jpg", b"Not an image: a product description saved with the wrong extension.\n"
    image, rng = picture(seed + 1000 * variant, signatures, c, i, noise)
    quality = int(rng.integers(78, 93))
    if kind == "png":
        return ".png", encode(image, "PNG", quality)
    if kind == "webp":
        return ".webp", encode(image, "WEBP", quality)
    if kind == "png-as-jpg":
        return ".jpg", encode(image, "PNG", quality)
    data = encode(image, "JPEG", quality)
    if kind == "truncated":
        return ".jpg", data[: len(data) // 2]
    return ".jpg", data


_state = {}


def _init(out, n, seed, resume):
    _state.update(out=Path(out), seed=seed, resume=resume, plan=Plan(n, seed),
                  signatures=[Signature(seed, c) for c in range(len(CATEGORIES))],
                  noise=np.random.default_rng([seed, 31]).normal(0, 3.5, size=(NOISE_SIDE, NOISE_SIDE, 3)).astype(np.int16))


def _write(job):
    """Writes image i (variant v); returns its bytes on disk, or -1 when --resume found it."""
    i, variant = job
    s = _state
    if s["resume"] and variant == 0:
        folder = s["out"] / Plan.folder(s["plan"].category(i))
        for suffix in (".jpg", ".png", ".webp"):
            if (folder / f"p{i:07d}{suffix}").exists():
                return -1
    suffix, data = image_bytes(s["seed"], s["plan"], s["signatures"], s["noise"], i, variant)
    path = s["out"] / Plan.folder(s["plan"].category(i)) / f"p{i:07d}{suffix}"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")  # an interrupted run leaves no half-written image
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return len(data)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("n", type=int)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--change", type=float, default=0.0,
                        help="rewrite half of this share of the images, add the other half")
    parser.add_argument("--resume", action="store_true",
                        help="keep the images an interrupted run wrote; make only the others")
    args = parser.parse_args()
    if args.change > 0:
        picked = np.random.default_rng([args.seed, 37]).choice(
            args.n, size=max(1, int(args.n * args.change / 2)), replace=False)
        jobs = [(int(i), 1) for i in sorted(picked) if kind_of(args.seed, int(i)) == "jpeg"]
        added = max(1, int(args.n * args.change) - len(jobs))
        jobs += [(args.n + k, 0) for k in range(added)]
    else:
        jobs = [(i, 0) for i in range(args.n)]
    if args.resume:  # a killed run's half-written file, never renamed to its name
        for part in Path(args.out).rglob("*.part"):
            part.unlink()
    start = time.time()
    total = made = kept = 0
    with Pool(args.processes, initializer=_init,
              initargs=(args.out, args.n, args.seed, args.resume)) as pool:
        for done, size in enumerate(pool.imap_unordered(_write, jobs, chunksize=64), 1):
            if size < 0:
                kept += 1
            else:
                made += 1
                total += size
            if done % 10000 == 0:
                print(f"  {done}/{len(jobs)} images ({kept} kept from before), "
                      f"{time.time() - start:.0f} s", file=sys.stderr)
    seconds = time.time() - start
    # With --resume the rate and size are those of the images made by this run.
    print(f"images={made} kept={kept} seconds={seconds:.1f} "
          f"images_per_sec={made / max(seconds, 1e-9):.1f} bytes={total} "
          f"bytes_per_image={total / max(1, made):.0f}")


if __name__ == "__main__":
    main()
