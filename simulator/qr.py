"""Reading a QR code PNG back, as a phone's camera would."""

from __future__ import annotations

import io

import png
import zxingcpp


def read_qr(data: bytes) -> str | None:
    width, height, rows, info = png.Reader(file=io.BytesIO(data)).asDirect()
    scale = 255 // ((1 << info["bitdepth"]) - 1)
    grey = bytearray()
    for row in rows:
        grey.extend(value * scale for value in row[:: info["planes"]])
    found = zxingcpp.read_barcodes(memoryview(bytes(grey)).cast("B", [height, width]))
    return found[0].text if found else None
