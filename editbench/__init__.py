"""editbench: benchmark instruction-based image editors on a pool of GPUs, judged by a VLM.

Data flows producer → queue → workers → ledger → reports; see README.md for the map.
"""

__version__ = "0.1.0"
