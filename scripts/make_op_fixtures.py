#!/usr/bin/python3
"""Reference outputs of the 16 DRA operators from Pillow, for test/ops (run with Debian's
/usr/bin/python3; `npm test` only reads what this writes).

Each operator is called the way torchvision's PIL path and timm call Pillow:
Image.transform(AFFINE) / Image.rotate for the geometric ops, ImageEnhance for the
blends, ImageOps for the point and histogram ops, timm's solarize_add lookup table, and
ImageDraw.rectangle for Cutout. Arguments follow src/ops/magnitude-to-argument.ts (the same mapping is
written beside every case so the tests check the TypeScript mapper too).

Writes test/fixtures/ops/: index.json (images and cases), inputs.bin (uint8 HWC images,
concatenated), outputs.bin.gz (uint8 outputs, concatenated, gzip).
"""
import gzip
import json
import math
import os
import sys

import numpy as np
import PIL
from PIL import Image, ImageDraw, ImageEnhance, ImageOps

PHOTO = '/usr/share/matplotlib/mpl-data/sample_data/grace_hopper.jpg'
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'ops')


def translate_range(side):
    if side <= 32:
        return 10 * side / 32
    if side >= 224:
        return 100 * side / 224
    anchors = [(32, 10), (160, 72), (224, 100)]
    for (s0, t0), (s1, t1) in zip(anchors, anchors[1:]):
        if side <= s1:
            return t0 + (t1 - t0) * (side - s0) / (s1 - s0)
    return 100 * side / 224


def make_images():
    rng = np.random.default_rng(20230301)
    photo = Image.open(PHOTO).convert('RGB')  # 512 x 600
    face = photo.crop((150, 60, 390, 300)).resize((32, 32), Image.BICUBIC)
    uniform = photo.crop((0, 300, 480, 700 - 100)).resize((48, 40), Image.BICUBIC)
    random_square = Image.fromarray(rng.integers(0, 256, (16, 16, 3), dtype=np.uint8), 'RGB')
    random_wide = Image.fromarray(rng.integers(0, 256, (12, 20, 3), dtype=np.uint8), 'RGB')
    # Edge cases for the histogram ops: a flat red channel, a green channel of 4 levels, a
    # blue channel of two levels with a dominant top level.
    edge = np.zeros((8, 8, 3), dtype=np.uint8)
    edge[..., 0] = 77
    edge[..., 1] = 100 + (np.arange(64).reshape(8, 8) % 4)
    edge[..., 2] = np.where(np.arange(64).reshape(8, 8) < 3, 10, 200)
    return [
        ('photo-face-32x32', face),
        ('photo-uniform-40x48', uniform),
        ('random-16x16', random_square),
        ('random-12x20', random_wide),
        ('edge-8x8', Image.fromarray(edge, 'RGB')),
    ]


RESAMPLE = {'nearest': Image.NEAREST, 'bilinear': Image.BILINEAR}


def affine(img, matrix, interpolation, fill):
    return img.transform(img.size, Image.AFFINE, matrix, RESAMPLE[interpolation], fillcolor=(fill, fill, fill))


def geometric(op, img, sm, interpolation, fill):
    w, h = img.size
    if op == 'ShearX':
        arg = 0.3 * sm
        return arg, affine(img, (1, arg, 0, 0, 1, 0), interpolation, fill)
    if op == 'ShearY':
        arg = 0.3 * sm
        return arg, affine(img, (1, 0, 0, arg, 1, 0), interpolation, fill)
    if op == 'TranslateX':
        arg = translate_range(w) * sm
        return arg, affine(img, (1, 0, arg, 0, 1, 0), interpolation, fill)
    if op == 'TranslateY':
        arg = translate_range(h) * sm
        return arg, affine(img, (1, 0, 0, 0, 1, arg), interpolation, fill)
    if op == 'Rotate':
        arg = 30 * sm
        return arg, img.rotate(arg, resample=RESAMPLE[interpolation], fillcolor=(fill, fill, fill))
    raise ValueError(op)


def enhance(op, img, sm):
    factor = 1 + 0.9 * sm
    cls = {'Brightness': ImageEnhance.Brightness, 'Color': ImageEnhance.Color,
           'Contrast': ImageEnhance.Contrast, 'Sharpness': ImageEnhance.Sharpness}[op]
    return factor, cls(img).enhance(factor)


def solarize_add(img, addend, threshold=128):
    # timm auto_augment.solarize_add, with the float addend truncated as Pillow stores it.
    lut = [int(min(255, i + addend)) if i < threshold else i for i in range(256)]
    return img.point(lut * 3)


def cutout(img, side, centre, fill):
    h = img.size[1]
    w = img.size[0]
    out = img.copy()
    if side > 0:
        top = math.floor(centre[0] * h - side / 2)
        left = math.floor(centre[1] * w - side / 2)
        ImageDraw.Draw(out).rectangle((left, top, left + side - 1, top + side - 1), fill=(fill, fill, fill))
    return out


def main():
    images = make_images()
    os.makedirs(OUT, exist_ok=True)
    index = {'generator': f'scripts/make_op_fixtures.py (Pillow {PIL.__version__}, numpy {np.__version__}, Python {sys.version.split()[0]})',
             'photo': PHOTO + ' (Debian python-matplotlib-data: sample_data/grace_hopper.jpg)',
             'images': [], 'cases': []}
    inputs = bytearray()
    for name, img in images:
        arr = np.asarray(img, dtype=np.uint8)
        index['images'].append({'name': name, 'height': arr.shape[0], 'width': arr.shape[1], 'channels': 3, 'offset': len(inputs)})
        inputs += arr.tobytes()
    outputs = bytearray()
    photos = [0, 1]
    randoms = [2, 3]
    counter = [0]

    def add(op, image_ids, magnitude, sign, fn, **extra):
        for i in image_ids:
            img = images[i][1]
            argument, out = fn(img)
            arr = np.asarray(out, dtype=np.uint8)
            assert arr.shape == np.asarray(img).shape, (op, arr.shape)
            index['cases'].append({'op': op, 'image': i, 'magnitude': magnitude, 'sign': sign, 'argument': argument,
                                   'offset': len(outputs), **extra})
            outputs.extend(arr.tobytes())

    def pair():
        k = counter[0]
        counter[0] += 1
        return [photos[k % 2], randoms[k % 2]]

    geometry_settings = [('nearest', 0), ('bilinear', 0), ('bilinear', 128), ('nearest', 128)]
    for op in ['ShearX', 'ShearY', 'TranslateX', 'TranslateY', 'Rotate']:
        for j, (interpolation, fill) in enumerate(geometry_settings):
            combos = [(0.35, 1), (1.0, -1)] if j % 2 == 0 else [(1.0, 1), (0.35, -1)]
            for magnitude, sign in combos:
                add(op, pair(), magnitude, sign,
                    lambda img, op=op, sm=magnitude * sign, it=interpolation, fl=fill: geometric(op, img, sm, it, fl),
                    interpolation=interpolation, fill=fill)
    for op in ['Brightness', 'Color', 'Contrast', 'Sharpness']:
        for magnitude, sign in [(0.3, 1), (0.3, -1), (0.7, 1), (1.0, -1), (1.0, 1)]:
            add(op, pair() + [4], magnitude, sign, lambda img, op=op, sm=magnitude * sign: enhance(op, img, sm))
    for magnitude in [0.2, 0.5, 0.8, 1.0]:
        add('Solarize', pair() + [4], magnitude, 1,
            lambda img, m=magnitude: (256 - 256 * m, ImageOps.solarize(img, 256 - 256 * m)))
        add('Posterize', pair() + [4], magnitude, 1,
            lambda img, m=magnitude: (int(4 * m), ImageOps.posterize(img, 8 - int(4 * m))))
        add('SolarizeAdd', pair() + [4], magnitude, 1,
            lambda img, m=magnitude: (110 * m, solarize_add(img, 110 * m)))
    rng = np.random.default_rng(7)
    for magnitude, fill in [(0.5, 0), (1.0, 0), (1.0, 128), (0.3, 128)]:
        for i in range(4):
            centre = [float(x) for x in rng.uniform(0, 1, 2)]
            side = math.floor(magnitude * 0.2 * images[i][1].size[1])
            add('Cutout', [i], magnitude, 1, lambda img, s=side, c=centre, f=fill: (s, cutout(img, s, c, f)),
                fill=fill, centre=centre)
    for op, fn in [('Equalize', ImageOps.equalize), ('AutoContrast', ImageOps.autocontrast), ('Invert', ImageOps.invert)]:
        add(op, [0, 1, 2, 3, 4], 0, 1, lambda img, fn=fn: (0, fn(img)))

    with open(os.path.join(OUT, 'inputs.bin'), 'wb') as f:
        f.write(bytes(inputs))
    with open(os.path.join(OUT, 'outputs.bin.gz'), 'wb') as f:
        f.write(gzip.compress(bytes(outputs), compresslevel=9, mtime=0))
    with open(os.path.join(OUT, 'index.json'), 'w') as f:
        json.dump(index, f, indent=1)
        f.write('\n')
    print(f"{len(index['cases'])} cases, inputs {len(inputs)} B, outputs {len(outputs)} B raw")


if __name__ == '__main__':
    main()
