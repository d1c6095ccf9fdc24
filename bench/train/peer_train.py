"""The peer for the training benchmark: what a user would write instead of our C++ trainer.
PyTorch in Python (the same torch as ours), the same model (our reduced Inception-v3, ported from
engine/model/InceptionV3.cpp), the same training records (DATA_DIR/train-* TFRecord shards of
tf.train.Example), Inception preprocessing with PIL + torchvision.transforms in a torch DataLoader,
and the same train step (label-smoothed cross entropy + 0.4 x aux, L2 weight decay 4e-5 on conv
and linear weights, SGD with momentum or TensorFlow-style RMSProp).

    python peer_train.py --data_dir DIR [--batch_size 64] [--steps 100] [--warmup_steps 10]
        [--threads 2] [--workers 1] [--image_size 75] [--depth_multiplier 0.25]
        [--optimizer sgd|rmsprop] [--no_colour] [--no_distort] [--channels_last] [--bf16]
    python peer_train.py --check_params           # model only: parameter count and names
    python peer_train.py --write_test_shards DIR  # tiny shards of random PNGs, for smoke tests

stdout: one JSON line at the end (images_per_sec over the timed steps, which include waiting for
the loader); stderr: the parameter count and a progress line every 10 steps.
No TensorFlow or protobuf package needed: the TFRecord framing and the Example wire format are
read here in plain Python.
"""
import argparse
import glob
import io
import json
import math
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms

# ---------------------------------------------------------------------------------------------
# Model: engine/model/InceptionV3.cpp in Python (torchvision's module names, TF-slim's depth
# multiplier, BN eps 0.001, adaptive aux pooling below 17 x 17, dropout before fc).

MIN_IMAGE_SIZE = 75


class Depth:
    """TF-slim's depth(): max(int(channels * multiplier), 16)."""

    def __init__(self, multiplier):
        self.multiplier = multiplier

    def __call__(self, channels):
        return max(int(channels * self.multiplier), 16)


class BasicConv2d(nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0):
        super().__init__()
        self.out_channels = out_channels
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, stride=stride,
                              padding=padding, bias=False)
        self.bn = nn.BatchNorm2d(out_channels, eps=0.001)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


def avg_pool_3x3(x):
    return F.avg_pool2d(x, kernel_size=3, stride=1, padding=1)  # counts the padding


def max_pool_3x3_s2(x):
    return F.max_pool2d(x, kernel_size=3, stride=2)


class InceptionA(nn.Module):
    def __init__(self, cin, pool_features, d):
        super().__init__()
        self.branch1x1 = BasicConv2d(cin, d(64), 1)
        self.branch5x5_1 = BasicConv2d(cin, d(48), 1)
        self.branch5x5_2 = BasicConv2d(d(48), d(64), 5, padding=2)
        self.branch3x3dbl_1 = BasicConv2d(cin, d(64), 1)
        self.branch3x3dbl_2 = BasicConv2d(d(64), d(96), 3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(d(96), d(96), 3, padding=1)
        self.branch_pool = BasicConv2d(cin, d(pool_features), 1)
        self.out_channels = d(64) + d(64) + d(96) + d(pool_features)

    def forward(self, x):
        b1 = self.branch1x1(x)
        b5 = self.branch5x5_2(self.branch5x5_1(x))
        b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        pool = self.branch_pool(avg_pool_3x3(x))
        return torch.cat([b1, b5, b3, pool], 1)


class InceptionB(nn.Module):
    def __init__(self, cin, d):
        super().__init__()
        self.branch3x3 = BasicConv2d(cin, d(384), 3, stride=2)
        self.branch3x3dbl_1 = BasicConv2d(cin, d(64), 1)
        self.branch3x3dbl_2 = BasicConv2d(d(64), d(96), 3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(d(96), d(96), 3, stride=2)
        self.out_channels = d(384) + d(96) + cin

    def forward(self, x):
        b3 = self.branch3x3(x)
        bd = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        return torch.cat([b3, bd, max_pool_3x3_s2(x)], 1)


class InceptionC(nn.Module):
    def __init__(self, cin, c7, d):
        super().__init__()
        self.branch1x1 = BasicConv2d(cin, d(192), 1)
        self.branch7x7_1 = BasicConv2d(cin, d(c7), 1)
        self.branch7x7_2 = BasicConv2d(d(c7), d(c7), (1, 7), padding=(0, 3))
        self.branch7x7_3 = BasicConv2d(d(c7), d(192), (7, 1), padding=(3, 0))
        self.branch7x7dbl_1 = BasicConv2d(cin, d(c7), 1)
        self.branch7x7dbl_2 = BasicConv2d(d(c7), d(c7), (7, 1), padding=(3, 0))
        self.branch7x7dbl_3 = BasicConv2d(d(c7), d(c7), (1, 7), padding=(0, 3))
        self.branch7x7dbl_4 = BasicConv2d(d(c7), d(c7), (7, 1), padding=(3, 0))
        self.branch7x7dbl_5 = BasicConv2d(d(c7), d(192), (1, 7), padding=(0, 3))
        self.branch_pool = BasicConv2d(cin, d(192), 1)
        self.out_channels = 4 * d(192)

    def forward(self, x):
        b1 = self.branch1x1(x)
        b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        bd = self.branch7x7dbl_3(self.branch7x7dbl_2(self.branch7x7dbl_1(x)))
        bd = self.branch7x7dbl_5(self.branch7x7dbl_4(bd))
        pool = self.branch_pool(avg_pool_3x3(x))
        return torch.cat([b1, b7, bd, pool], 1)


class InceptionD(nn.Module):
    def __init__(self, cin, d):
        super().__init__()
        self.branch3x3_1 = BasicConv2d(cin, d(192), 1)
        self.branch3x3_2 = BasicConv2d(d(192), d(320), 3, stride=2)
        self.branch7x7x3_1 = BasicConv2d(cin, d(192), 1)
        self.branch7x7x3_2 = BasicConv2d(d(192), d(192), (1, 7), padding=(0, 3))
        self.branch7x7x3_3 = BasicConv2d(d(192), d(192), (7, 1), padding=(3, 0))
        self.branch7x7x3_4 = BasicConv2d(d(192), d(192), 3, stride=2)
        self.out_channels = d(320) + d(192) + cin

    def forward(self, x):
        b3 = self.branch3x3_2(self.branch3x3_1(x))
        b7 = self.branch7x7x3_2(self.branch7x7x3_1(x))
        b7 = self.branch7x7x3_4(self.branch7x7x3_3(b7))
        return torch.cat([b3, b7, max_pool_3x3_s2(x)], 1)


class InceptionE(nn.Module):
    def __init__(self, cin, d):
        super().__init__()
        self.branch1x1 = BasicConv2d(cin, d(320), 1)
        self.branch3x3_1 = BasicConv2d(cin, d(384), 1)
        self.branch3x3_2a = BasicConv2d(d(384), d(384), (1, 3), padding=(0, 1))
        self.branch3x3_2b = BasicConv2d(d(384), d(384), (3, 1), padding=(1, 0))
        self.branch3x3dbl_1 = BasicConv2d(cin, d(448), 1)
        self.branch3x3dbl_2 = BasicConv2d(d(448), d(384), 3, padding=1)
        self.branch3x3dbl_3a = BasicConv2d(d(384), d(384), (1, 3), padding=(0, 1))
        self.branch3x3dbl_3b = BasicConv2d(d(384), d(384), (3, 1), padding=(1, 0))
        self.branch_pool = BasicConv2d(cin, d(192), 1)
        self.out_channels = d(320) + 4 * d(384) + d(192)

    def forward(self, x):
        b1 = self.branch1x1(x)
        b3 = self.branch3x3_1(x)
        b3 = torch.cat([self.branch3x3_2a(b3), self.branch3x3_2b(b3)], 1)
        bd = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        bd = torch.cat([self.branch3x3dbl_3a(bd), self.branch3x3dbl_3b(bd)], 1)
        pool = self.branch_pool(avg_pool_3x3(x))
        return torch.cat([b1, b3, bd, pool], 1)


class InceptionAux(nn.Module):
    def __init__(self, cin, num_classes, d):
        super().__init__()
        self.conv0 = BasicConv2d(cin, d(128), 1)
        self.conv1 = BasicConv2d(d(128), d(768), 5)
        self.fc = nn.Linear(d(768), num_classes)

    def forward(self, x):
        # torchvision pools 5x5 stride 3; maps below 17 x 17 (inputs below 107) pool adaptively.
        if x.size(2) >= 17 and x.size(3) >= 17:
            x = F.avg_pool2d(x, kernel_size=5, stride=3)
        else:
            x = F.adaptive_avg_pool2d(x, (5, 5))
        x = self.conv1(self.conv0(x))
        x = F.adaptive_avg_pool2d(x, (1, 1))
        return self.fc(torch.flatten(x, 1))


class InceptionV3(nn.Module):
    def __init__(self, num_classes=1000, aux_logits=True, depth_multiplier=1.0, dropout=0.5):
        super().__init__()
        d = Depth(depth_multiplier)
        self.Conv2d_1a_3x3 = BasicConv2d(3, d(32), 3, stride=2)
        self.Conv2d_2a_3x3 = BasicConv2d(d(32), d(32), 3)
        self.Conv2d_2b_3x3 = BasicConv2d(d(32), d(64), 3, padding=1)
        self.Conv2d_3b_1x1 = BasicConv2d(d(64), d(80), 1)
        self.Conv2d_4a_3x3 = BasicConv2d(d(80), d(192), 3)
        self.Mixed_5b = InceptionA(d(192), 32, d)
        self.Mixed_5c = InceptionA(self.Mixed_5b.out_channels, 64, d)
        self.Mixed_5d = InceptionA(self.Mixed_5c.out_channels, 64, d)
        self.Mixed_6a = InceptionB(self.Mixed_5d.out_channels, d)
        self.Mixed_6b = InceptionC(self.Mixed_6a.out_channels, 128, d)
        self.Mixed_6c = InceptionC(self.Mixed_6b.out_channels, 160, d)
        self.Mixed_6d = InceptionC(self.Mixed_6c.out_channels, 160, d)
        self.Mixed_6e = InceptionC(self.Mixed_6d.out_channels, 192, d)
        self.AuxLogits = (InceptionAux(self.Mixed_6e.out_channels, num_classes, d)
                          if aux_logits else None)
        self.Mixed_7a = InceptionD(self.Mixed_6e.out_channels, d)
        self.Mixed_7b = InceptionE(self.Mixed_7a.out_channels, d)
        self.Mixed_7c = InceptionE(self.Mixed_7b.out_channels, d)
        self.num_features = self.Mixed_7c.out_channels
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(self.num_features, num_classes)
        self.reset_parameters()

    @torch.no_grad()
    def reset_parameters(self):
        # As InceptionV3Impl::resetParameters: normal then clamp to [-2, 2], std 0.1
        # (AuxLogits.conv1.conv 0.01, AuxLogits.fc 0.001); BN 1 / 0; linear biases as PyTorch's.
        for name, m in self.named_modules():
            std = {"AuxLogits.conv1.conv": 0.01, "AuxLogits.fc": 0.001}.get(name, 0.1)
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                m.weight.normal_(0.0, std).clamp_(-2.0, 2.0)
            elif isinstance(m, nn.BatchNorm2d):
                m.weight.fill_(1.0)
                m.bias.zero_()

    def forward(self, x):
        if x.dim() != 4 or x.size(1) != 3 or min(x.size(2), x.size(3)) < MIN_IMAGE_SIZE:
            raise ValueError(f"need N x 3 x H x W with H, W >= {MIN_IMAGE_SIZE}, got {x.shape}")
        x = self.Conv2d_1a_3x3(x)
        x = self.Conv2d_2a_3x3(x)
        x = self.Conv2d_2b_3x3(x)
        x = max_pool_3x3_s2(x)
        x = self.Conv2d_3b_1x1(x)
        x = self.Conv2d_4a_3x3(x)
        x = max_pool_3x3_s2(x)
        x = self.Mixed_5b(x)
        x = self.Mixed_5c(x)
        x = self.Mixed_5d(x)
        x = self.Mixed_6a(x)
        x = self.Mixed_6b(x)
        x = self.Mixed_6c(x)
        x = self.Mixed_6d(x)
        x = self.Mixed_6e(x)
        aux = self.AuxLogits(x) if (self.AuxLogits is not None and self.training) else None
        x = self.Mixed_7a(x)
        x = self.Mixed_7b(x)
        x = self.Mixed_7c(x)
        x = F.adaptive_avg_pool2d(x, (1, 1))
        x = self.dropout(x)
        x = torch.flatten(x, 1)
        return self.fc(x), aux


def count_params(model):
    return sum(p.numel() for p in model.parameters())


def check_params(args):
    """Parameter count and names at multiplier 1 against torchvision; then the requested model."""
    from torchvision.models import inception_v3

    ours = InceptionV3(num_classes=1000, aux_logits=True, depth_multiplier=1.0)
    n = count_params(ours)
    print(f"ours m=1.0 aux 1000 classes: {n:,} parameters", file=sys.stderr)
    assert n == 27_161_264, n
    tv = inception_v3(weights=None, aux_logits=True, init_weights=False)
    assert count_params(tv) == n, (count_params(tv), n)
    ours_sd, tv_sd = ours.state_dict(), tv.state_dict()
    ours_shapes = {k: tuple(v.shape) for k, v in ours_sd.items()}
    tv_shapes = {k: tuple(v.shape) for k, v in tv_sd.items()}
    assert ours_shapes == tv_shapes, (set(ours_shapes) ^ set(tv_shapes))
    assert list(ours_sd) == list(tv_sd), "same names, different order"
    # Same arithmetic: torchvision's weights in ours give torchvision's logits (eval mode).
    ours.load_state_dict(tv_sd)
    ours.eval()
    tv.eval()
    torch.manual_seed(0)
    x = torch.randn(2, 3, 299, 299)
    with torch.no_grad():
        diff = (ours(x)[0] - tv(x)).abs().max().item()
    assert diff < 1e-4, diff
    print(f"state_dict: {len(ours_sd)} entries, names and shapes equal torchvision's; "
          f"logits max |diff| {diff:.2e}", file=sys.stderr)
    model = InceptionV3(args.num_classes or 10, True, args.depth_multiplier)
    model.train()
    out, aux = model(torch.randn(2, 3, args.image_size, args.image_size))
    assert out.shape == aux.shape == (2, args.num_classes or 10)
    print(f"ours m={args.depth_multiplier} aux {args.num_classes or 10} classes "
          f"(image {args.image_size}): {count_params(model):,} parameters; "
          f"{model.num_features} features", file=sys.stderr)
    print(json.dumps({"check_params": "ok", "params_m1": n, "params": count_params(model),
                      "depth_multiplier": args.depth_multiplier,
                      "num_classes": args.num_classes or 10}))


# ---------------------------------------------------------------------------------------------
# TFRecord and tf.train.Example, in plain Python.

def _crc32c_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_CRC_TABLE = None


def crc32c(data):
    global _CRC_TABLE
    if _CRC_TABLE is None:
        _CRC_TABLE = _crc32c_table()
    t = _CRC_TABLE
    c = 0xFFFFFFFF
    for b in data:
        c = t[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def masked_crc(data):
    c = crc32c(data)
    return ((((c >> 15) | (c << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF


def read_records(path, verify=False):
    """Yields each record's bytes: uint64 length, uint32 masked crc(length), data, crc(data)."""
    with open(path, "rb") as f:
        buf = f.read()
    pos, end = 0, len(buf)
    while pos < end:
        if pos + 12 > end:
            raise ValueError(f"{path}: truncated record header at byte {pos}")
        (length,) = struct.unpack_from("<Q", buf, pos)
        if pos + 16 + length > end:
            raise ValueError(f"{path}: truncated record at byte {pos}")
        if verify:
            (len_crc,) = struct.unpack_from("<I", buf, pos + 8)
            (data_crc,) = struct.unpack_from("<I", buf, pos + 12 + length)
            if masked_crc(buf[pos:pos + 8]) != len_crc or \
                    masked_crc(buf[pos + 12:pos + 12 + length]) != data_crc:
                raise ValueError(f"{path}: bad checksum in record at byte {pos}")
        yield buf[pos + 12:pos + 12 + length]
        pos += 16 + length


def _varint(buf, pos):
    result, shift = 0, 0
    while True:
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, pos
        shift += 7


def _fields(buf, start=0, end=None):
    """Yields (field number, wire type, value) of one message; LEN values as (start, end)."""
    pos = start
    end = len(buf) if end is None else end
    while pos < end:
        key, pos = _varint(buf, pos)
        field, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
        elif wire == 2:
            n, pos = _varint(buf, pos)
            value = (pos, pos + n)
            pos += n
        elif wire == 5:
            value = buf[pos:pos + 4]
            pos += 4
        elif wire == 1:
            value = buf[pos:pos + 8]
            pos += 8
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        yield field, wire, value


def _signed64(v):
    return v - (1 << 64) if v >= (1 << 63) else v


def _parse_list(buf, kind, start, end):
    values = []
    for field, wire, value in _fields(buf, start, end):
        if field != 1:
            continue
        if kind == 1:  # BytesList: repeated bytes
            values.append(bytes(buf[value[0]:value[1]]))
        elif kind == 3:  # Int64List: packed (wire 2) or not (wire 0)
            if wire == 2:
                p, e = value
                while p < e:
                    v, p = _varint(buf, p)
                    values.append(_signed64(v))
            else:
                values.append(_signed64(value))
        elif kind == 2:  # FloatList: packed (wire 2) or not (wire 5)
            raw = buf[value[0]:value[1]] if wire == 2 else value
            values.extend(struct.unpack(f"<{len(raw) // 4}f", raw))
    return values


def parse_example(buf, wanted=None):
    """tf.train.Example -> {key: list of bytes / int / float}; only `wanted` keys if given."""
    out = {}
    for f1, w1, (fs, fe) in _fields(buf):
        if f1 != 1 or w1 != 2:  # Example.features
            continue
        for f2, w2, (es, ee) in _fields(buf, fs, fe):
            if f2 != 1 or w2 != 2:  # Features.feature map entry
                continue
            key, feature = None, None
            for f3, w3, value in _fields(buf, es, ee):
                if f3 == 1 and w3 == 2:
                    key = bytes(buf[value[0]:value[1]]).decode("utf-8")
                elif f3 == 2 and w3 == 2:
                    feature = value
            if key is None or (wanted is not None and key not in wanted):
                continue
            values = []
            if feature is not None:
                for kind, w4, (ls, le) in _fields(buf, feature[0], feature[1]):
                    if kind in (1, 2, 3) and w4 == 2:
                        values = _parse_list(buf, kind, ls, le)
            out[key] = values
    return out


def load_split(data_dir, split="train", verify=False, max_records=0):
    paths = sorted(glob.glob(os.path.join(data_dir, f"{split}-*")))
    if not paths:
        raise SystemExit(f"no {split}-* shards in {data_dir}")
    wanted = {"image/encoded", "image/class/label", "image/filename"}
    images, labels = [], []
    for path in paths:
        for record in read_records(path, verify):
            ex = parse_example(record, wanted)
            images.append(ex["image/encoded"][0])
            labels.append(ex["image/class/label"][0])
            if max_records and len(images) >= max_records:
                return images, np.asarray(labels, dtype=np.int64), paths
    return images, np.asarray(labels, dtype=np.int64), paths


# Writing, for --write_test_shards only (tiny shards of random PNGs with our framing).

def _enc_varint(v):
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _enc_len(field, payload):
    return _enc_varint((field << 3) | 2) + _enc_varint(len(payload)) + payload


def encode_example(features):
    entries = b""
    for key, (kind, values) in features.items():
        if kind == "bytes":
            lst = b"".join(_enc_len(1, v) for v in values)
            feat = _enc_len(1, lst)
        else:  # int64, packed
            lst = _enc_len(1, b"".join(_enc_varint(v & ((1 << 64) - 1)) for v in values))
            feat = _enc_len(3, lst)
        entries += _enc_len(1, _enc_len(1, key.encode()) + _enc_len(2, feat))
    return _enc_len(1, entries)


def write_test_shards(out_dir, n=96, classes=10, shards=2, seed=0):
    os.makedirs(out_dir, exist_ok=True)
    rng = np.random.default_rng(seed)
    files = [open(os.path.join(out_dir, f"train-{i:05d}-of-{shards:05d}"), "wb")
             for i in range(shards)]
    for i in range(n):
        png = io.BytesIO()
        Image.fromarray(rng.integers(0, 256, (28, 28), dtype=np.uint8), "L").save(png, "PNG")
        label = i % classes + 1
        data = encode_example({"image/encoded": ("bytes", [png.getvalue()]),
                               "image/class/label": ("int64", [label]),
                               "image/filename": ("bytes", [f"img{i}.png".encode()])})
        head = struct.pack("<Q", len(data))
        files[i % shards].write(head + struct.pack("<I", masked_crc(head)) + data +
                                struct.pack("<I", masked_crc(data)))
    for f in files:
        f.close()
    with open(os.path.join(out_dir, "manifest.json"), "w") as f:
        json.dump({"format": "tfrecord/tf.train.Example", "label_offset": 1,
                   "num_classes": classes}, f)
    images, labels, _ = load_split(out_dir, verify=True)  # read back, checksums included
    assert len(images) == n and sorted(set(labels.tolist())) == list(range(1, classes + 1))
    print(f"wrote {n} records in {shards} shards to {out_dir}; read back with checksums",
          file=sys.stderr)


# ---------------------------------------------------------------------------------------------
# Data: Inception training preprocessing with PIL + torchvision.

class Records(Dataset):
    def __init__(self, images, labels, transform):
        self.images, self.labels, self.transform = images, labels, transform

    def __len__(self):
        return len(self.images)

    def __getitem__(self, index):
        with Image.open(io.BytesIO(self.images[index])) as image:
            return self.transform(image.convert("RGB")), int(self.labels[index])


def train_transform(size, colour=True, distort=True, min_area=0.05):
    to_unit = [transforms.ToTensor(), transforms.Normalize([0.5] * 3, [0.5] * 3)]  # [-1, 1]
    if not distort:
        return transforms.Compose([transforms.Resize((size, size))] + to_unit)
    steps = [transforms.RandomResizedCrop(size, scale=(min_area, 1.0), ratio=(3 / 4, 4 / 3)),
             transforms.RandomHorizontalFlip()]
    if colour:
        steps.append(transforms.ColorJitter(brightness=32 / 255, contrast=0.5, saturation=0.5,
                                            hue=0.2))
    return transforms.Compose(steps + to_unit)


# ---------------------------------------------------------------------------------------------
# Optimizers.

class TFRMSProp(torch.optim.Optimizer):
    """TensorFlow's RMSProp: ms starts at 1; ms = rho ms + (1 - rho) g^2;
    mom = momentum mom + lr g / sqrt(ms + eps); p -= mom. L2 decay added to the gradient."""

    def __init__(self, params, lr, rho=0.9, momentum=0.9, eps=1.0, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, rho=rho, momentum=momentum, eps=eps,
                                      weight_decay=weight_decay))

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            if not params:
                continue
            grads = [p.grad for p in params]
            if group["weight_decay"]:
                grads = torch._foreach_add(grads, params, alpha=group["weight_decay"])
            ms, mom = [], []
            for p in params:
                state = self.state[p]
                if not state:
                    state["ms"] = torch.ones_like(p)
                    state["mom"] = torch.zeros_like(p)
                ms.append(state["ms"])
                mom.append(state["mom"])
            rho = group["rho"]
            torch._foreach_mul_(ms, rho)
            torch._foreach_addcmul_(ms, grads, grads, value=1.0 - rho)
            denom = torch._foreach_add(ms, group["eps"])
            torch._foreach_sqrt_(denom)
            torch._foreach_mul_(mom, group["momentum"])
            torch._foreach_addcdiv_(mom, grads, denom, value=group["lr"])
            torch._foreach_sub_(params, mom)


def make_optimizer(model, name, lr, weight_decay):
    decayed, other = [], []
    for module in model.modules():
        for pname, p in module.named_parameters(recurse=False):
            is_weight = pname == "weight" and isinstance(module, (nn.Conv2d, nn.Linear))
            (decayed if is_weight else other).append(p)
    groups = [{"params": decayed, "weight_decay": weight_decay},
              {"params": other, "weight_decay": 0.0}]
    if name == "sgd":  # PyTorch's momentum = TF's MomentumOptimizer at a constant lr
        return torch.optim.SGD(groups, lr=lr, momentum=0.9, nesterov=False, foreach=True)
    return TFRMSProp(groups, lr=lr)


# ---------------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data_dir")
    ap.add_argument("--batch_size", type=int, default=64)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--warmup_steps", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2, help="torch.set_num_threads")
    ap.add_argument("--workers", type=int, default=1, help="DataLoader worker processes")
    ap.add_argument("--image_size", type=int, default=75)
    ap.add_argument("--depth_multiplier", type=float, default=0.25)
    ap.add_argument("--num_classes", type=int, default=0,
                    help="default: manifest.json's num_classes, else 10")
    ap.add_argument("--no_aux", action="store_true", help="no auxiliary head")
    ap.add_argument("--label_smoothing", type=float, default=0.1)
    ap.add_argument("--dropout", type=float, default=0.2, help="before the classifier")
    ap.add_argument("--optimizer", choices=["sgd", "rmsprop"], default="sgd")
    ap.add_argument("--learning_rate", type=float, default=0.0,
                    help="default 0.1 * batch_size / 256 (constant)")
    ap.add_argument("--weight_decay", type=float, default=4e-5)
    ap.add_argument("--no_colour", action="store_true", help="no colour distortion")
    ap.add_argument("--min_crop_area", type=float, default=0.05,
                    help="smallest random crop (taxon's --min_crop_area)")
    ap.add_argument("--no_distort", action="store_true", help="only resize (no crop/flip/colour)")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--channels_last", action="store_true", help="NHWC weights and images")
    ap.add_argument("--bf16", action="store_true", help="bf16 autocast (forward and loss)")
    ap.add_argument("--verify_crc", action="store_true", help="check record checksums (slow)")
    ap.add_argument("--max_records", type=int, default=0, help="load at most this many (0: all)")
    ap.add_argument("--check_params", action="store_true", help="model checks only, then exit")
    ap.add_argument("--write_test_shards", metavar="DIR", help="write tiny test shards, exit")
    args = ap.parse_args()

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    if args.image_size < MIN_IMAGE_SIZE:
        ap.error(f"--image_size must be at least {MIN_IMAGE_SIZE}")
    if args.write_test_shards:
        write_test_shards(args.write_test_shards)
        return
    if args.check_params:
        check_params(args)
        return
    if not args.data_dir:
        ap.error("--data_dir is required")

    manifest = {}
    manifest_path = os.path.join(args.data_dir, "manifest.json")
    if os.path.exists(manifest_path):
        with open(manifest_path) as f:
            manifest = json.load(f)
    num_classes = args.num_classes or int(manifest.get("num_classes", 10))
    label_offset = int(manifest.get("label_offset", 1))
    lr = args.learning_rate or 0.1 * args.batch_size / 256
    device = torch.device(args.device)

    t0 = time.perf_counter()
    images, labels, paths = load_split(args.data_dir, "train", args.verify_crc, args.max_records)
    labels = labels - label_offset
    if labels.min() < 0 or labels.max() >= num_classes:
        raise SystemExit(f"labels {labels.min()}..{labels.max()} outside 0..{num_classes - 1}")
    print(f"loaded {len(images)} records from {len(paths)} shards in "
          f"{time.perf_counter() - t0:.1f} s", file=sys.stderr)

    dataset = Records(images, labels,
                      train_transform(args.image_size, not args.no_colour, not args.no_distort,
                                      args.min_crop_area))
    loader = DataLoader(dataset, batch_size=args.batch_size, shuffle=True, drop_last=True,
                        num_workers=args.workers, persistent_workers=args.workers > 0,
                        generator=torch.Generator().manual_seed(args.seed),
                        pin_memory=device.type == "cuda")
    if len(loader) == 0:
        raise SystemExit(f"fewer records ({len(images)}) than one batch ({args.batch_size})")

    model = InceptionV3(num_classes, not args.no_aux, args.depth_multiplier,
                        args.dropout).to(device)
    layout = torch.channels_last if args.channels_last else torch.contiguous_format
    model = model.to(memory_format=layout)
    model.train()
    params = count_params(model)
    print(f"model: Inception-v3 m={args.depth_multiplier} image {args.image_size} "
          f"{num_classes} classes aux={'on' if not args.no_aux else 'off'}: {params:,} parameters",
          file=sys.stderr)
    optimizer = make_optimizer(model, args.optimizer, lr, args.weight_decay)

    def batches():
        while True:
            yield from loader

    total = args.warmup_steps + args.steps
    it = batches()
    start = None
    loss_value = float("nan")
    for step in range(1, total + 1):
        if step == args.warmup_steps + 1:
            if device.type == "cuda":
                torch.cuda.synchronize()
            start = time.perf_counter()
        x, y = next(it)
        x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
        x = x.contiguous(memory_format=layout)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=args.bf16):
            logits, aux = model(x)
            loss = F.cross_entropy(logits, y, label_smoothing=args.label_smoothing)
            if aux is not None:
                loss = loss + 0.4 * F.cross_entropy(aux, y, label_smoothing=args.label_smoothing)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if step % 10 == 0 or step == total:
            loss_value = loss.item()
            if not math.isfinite(loss_value):
                raise SystemExit(f"loss is {loss_value} at step {step}")
            timed = step - args.warmup_steps
            rate = (f"{timed * args.batch_size / (time.perf_counter() - start):.1f} images/s"
                    if start is not None and timed > 0 else "warmup")
            print(f"step {step}/{total} loss {loss_value:.4f} {rate}", file=sys.stderr)
    if device.type == "cuda":
        torch.cuda.synchronize()
    elapsed = time.perf_counter() - start if start is not None else float("nan")
    loss_value = loss.item()
    print(json.dumps({
        "images_per_sec": args.steps * args.batch_size / elapsed if args.steps else 0.0,
        "steps": args.steps, "batch_size": args.batch_size, "params": params,
        "threads": args.threads, "workers": args.workers, "image_size": args.image_size,
        "depth_multiplier": args.depth_multiplier,
        "mean_step_sec": elapsed / args.steps if args.steps else 0.0,
        "final_loss": loss_value, "optimizer": args.optimizer, "num_classes": num_classes,
        "records": len(images), "device": str(device), "channels_last": args.channels_last,
        "bf16": args.bf16}))


if __name__ == "__main__":
    main()
