"""Benchmarks as data: load and validate a benchmark folder, store its images by content.

This package is pure (no database): the producer's ingest step calls :func:`load_benchmark`,
shows the rejections, copies images into an :class:`ImageStore` and writes the ledger.
"""

from editbench.benchmark.errors import BenchmarkFormatError, MissingImageError
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
    BenchmarkSpec,
    CategorySpec,
    CriterionSpec,
    ItemSpec,
    Overall,
    PassRule,
    ReasonCode,
    Rejection,
)
from editbench.benchmark.store import ImageStore, StoredImage

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "TEMPLATE_FIELDS",
    "BenchmarkFormatError",
    "BenchmarkSpec",
    "CategorySpec",
    "CriterionSpec",
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
