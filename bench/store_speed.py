"""Host time to encode an edited image, the largest part of an edit task's overhead (issue 15).

Compares PIL's PNG encoder (zlib levels 6 and 1) with editbench's strip-parallel encoder
(``editbench.queue.png_encoding``) on a 1024² noise image (what capacity-mode editors produce:
incompressible, the worst case) and a smooth gradient, checking that each decodes back exactly.

    python bench/store_speed.py --repeats 7 --json out/store_speed.json
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from PIL import Image

from editbench.queue.png_encoding import encode_png, encoder_threads


def _images(side: int) -> dict[str, Image.Image]:
    noise = np.random.default_rng(0).integers(0, 256, (side, side, 3), dtype=np.uint8)
    ramp = np.linspace(0, 255, side, dtype=np.uint8)
    smooth = np.stack([np.tile(ramp, (side, 1)), np.tile(ramp[:, None], (1, side)), np.full((side, side), 128, np.uint8)], -1)
    return {"noise": Image.fromarray(noise), "smooth": Image.fromarray(smooth)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--side", type=int, default=1024)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", default=f"1,{encoder_threads()}")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    rows = []
    for name, image in _images(args.side).items():
        pixels = np.asarray(image)
        encoders = {f"PIL level {lvl}": (lambda im, lvl=lvl: _pil(im, lvl)) for lvl in (6, 1)}
        for threads in (int(t) for t in args.threads.split(",")):
            pool = ThreadPoolExecutor(threads)
            encoders[f"editbench level 1, {threads} threads"] = lambda im, pool=pool, threads=threads: encode_png(
                im, 1, pool, strips=threads
            )
        for label, encode in encoders.items():
            times = []
            for _ in range(args.repeats):
                started = time.perf_counter()
                data = encode(image)
                times.append(time.perf_counter() - started)
            exact = bool((np.asarray(Image.open(io.BytesIO(data)).convert("RGB")) == pixels).all())
            rows.append(
                {
                    "image": name,
                    "encoder": label,
                    "ms_median": round(1000 * statistics.median(times), 1),
                    "kib": len(data) // 1024,
                    "exact": exact,
                }
            )
            print(f"{name:7} {label:32} {rows[-1]['ms_median']:8.1f} ms {rows[-1]['kib']:6d} KiB exact={exact}", flush=True)
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "date": datetime.now(UTC).isoformat(timespec="seconds"),
                    "cpus": os.cpu_count(),
                    "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
                    "rows": rows,
                },
                indent=1,
            )
        )
    return 0


def _pil(image: Image.Image, level: int) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=level)
    return buffer.getvalue()


if __name__ == "__main__":
    sys.exit(main())
