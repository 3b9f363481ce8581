"""Benchmarks as data: load and validate a benchmark folder, store its images by content.

This package is pure (no database): the producer's ingest step calls :func:`load_benchmark`,
shows the rejections, copies images into an :class:`ImageStore` and writes the ledger.
"""

from editbench.benchmark.example import write_example_benchmark
from editbench.benchmark.images import (
    DEFAULT_MAX_PIXELS,
    ImageInfo,
    ImageProblem,
    check_image,
    sha256_file,
)
from editbench.benchmark.loader import LoadedBenchmark, load_benchmark
from editbench.benchmark.prompts import TEMPLATE_FIELDS
from editbench.benchmark.spec import (
    Benchmark,
    Category,
    Criterion,
    ItemSpec,
    Overall,
    PassRule,
    ReasonCode,
    Rejection,
)
from editbench.benchmark.store import ImageStore, StoredImage
from editbench.errors import BenchmarkFormatError, MissingImageError

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "TEMPLATE_FIELDS",
    "Benchmark",
    "BenchmarkFormatError",
    "Category",
    "Criterion",
    "ImageInfo",
    "ImageProblem",
    "ImageStore",
    "ItemSpec",
    "LoadedBenchmark",
    "MissingImageError",
    "Overall",
    "PassRule",
    "ReasonCode",
    "Rejection",
    "StoredImage",
    "check_image",
    "load_benchmark",
    "sha256_file",
    "write_example_benchmark",
]
