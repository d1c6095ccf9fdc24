"""The peer: torchvision's Inception-style training transforms with PIL in a torch DataLoader.
Same images (files), same output (float 3 x SIZE x SIZE in [-1, 1]), same number of decode
workers. Prints images/sec from the first batch to the end of the epoch, like bench_loader.cpp.

    python bench_loader_torchvision.py IMAGES_DIR [WORKERS=2] [BATCH=32] [SIZE=299]
"""
import sys
import time
from pathlib import Path

import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms


class Folder(Dataset):
    def __init__(self, root, transform):
        classes = sorted(p for p in Path(root).iterdir() if p.is_dir())
        self.items = [(f, i) for i, c in enumerate(classes) for f in sorted(c.glob("*.jpg"))]
        self.transform = transform

    def __len__(self):
        return len(self.items)

    def __getitem__(self, index):
        path, label = self.items[index]
        with Image.open(path) as image:
            return self.transform(image.convert("RGB")), label


def main():
    root = sys.argv[1]
    workers = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    batch = int(sys.argv[3]) if len(sys.argv) > 3 else 32
    size = int(sys.argv[4]) if len(sys.argv) > 4 else 299
    transform = transforms.Compose([
        transforms.RandomResizedCrop(size, scale=(0.05, 1.0), ratio=(3 / 4, 4 / 3)),
        transforms.RandomHorizontalFlip(),
        transforms.ColorJitter(brightness=32 / 255, contrast=0.5, saturation=0.5, hue=0.2),
        transforms.ToTensor(),
        transforms.Normalize([0.5, 0.5, 0.5], [0.5, 0.5, 0.5]),
    ])
    torch.manual_seed(0)
    loader = DataLoader(Folder(root, transform), batch_size=batch, shuffle=True,
                        num_workers=workers)
    iterator = iter(loader)
    next(iterator)
    start = time.perf_counter()
    images = 0
    for images_batch, _ in iterator:
        images += images_batch.shape[0]
    seconds = time.perf_counter() - start
    print(f"torchvision workers={workers} images={images} images_per_sec={images / seconds:.1f}")


if __name__ == "__main__":
    main()
