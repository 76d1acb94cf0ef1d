#!/usr/bin/python3
"""Regenerates the TIFF fixtures with Pillow (libtiff underneath): /usr/bin/python3 make_tiffs.py

rgb_*.tif: 7x5 RGB, pixel (x, y) = (30x + y, 50y + 3, (x * y * 11) % 256); gray_*.tif: 7x5 8-bit gray, 36x + 7y + 1;
"""
import os

from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
W, H = 7, 5

rgb = Image.new("RGB", (W, H))
gray = Image.new("L", (W, H))
gray16 = Image.new("I;16", (W, H))
for y in range(H):
    for x in range(W):
        rgb.putpixel((x, y), (30 * x + y, 50 * y + 3, (x * y * 11) % 256))
        gray.putpixel((x, y), 36 * x + 7 * y + 1)
        gray16.putpixel((x, y), 9000 * x + 300 * y)

for name, compression in (("raw", "raw"), ("packbits", "packbits"), ("lzw", "tiff_lzw")):
    rgb.save(os.path.join(HERE, "rgb_%s.tif" % name), compression=compression)
    gray.save(os.path.join(HERE, "gray_%s.tif" % name), compression=compression)
gray16.save(os.path.join(HERE, "gray16_raw.tif"), compression="raw")
