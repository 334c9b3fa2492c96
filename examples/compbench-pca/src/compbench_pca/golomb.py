"""Exp-Golomb codes for signed integers: a prefix code, so the values need no separators.

A value v is zigzag-mapped to u >= 0 (0, -1, 1, -2, ... -> 0, 1, 2, 3, ...); order k writes
u + 2**k in binary, preceded by as many zeros as that has bits beyond k + 1. Small values get
short codes; the order per coefficient comes from its spread on the training images
(:meth:`compbench_pca.basis.Basis.golomb_orders`), so wide coefficients are not penalised.
The bit string is padded with zeros to whole bytes.
"""

from __future__ import annotations

from collections.abc import Sequence


def encode(values: Sequence[int], orders: Sequence[int]) -> bytes:
    """The values, each with its order, as bytes."""
    bits = []
    for value, order in zip(values, orders, strict=True):
        u = 2 * value if value >= 0 else -2 * value - 1
        code = f"{u + (1 << order):b}"
        bits.append("0" * (len(code) - order - 1) + code)
    text = "".join(bits)
    text += "0" * (-len(text) % 8)
    return int(text, 2).to_bytes(len(text) // 8, "big") if text else b""


def decode(data: bytes, orders: Sequence[int]) -> list[int]:
    """One value per order, read from the start of ``data``; ValueError if it runs out."""
    text = f"{int.from_bytes(data, 'big'):0{8 * len(data)}b}" if data else ""
    values, position = [], 0
    for order in orders:
        first_one = text.find("1", position)
        if first_one < 0:
            raise ValueError(f"truncated bitstream: {len(values)} of {len(orders)} values read")
        end = first_one + (first_one - position) + order + 1
        if end > len(text):
            raise ValueError(f"truncated bitstream: {len(values)} of {len(orders)} values read")
        u = int(text[first_one:end], 2) - (1 << order)
        values.append(u // 2 if u % 2 == 0 else -(u + 1) // 2)
        position = end
    return values
