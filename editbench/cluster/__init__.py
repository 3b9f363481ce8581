"""One-machine clusters: an embedded Redis and worker/beat/Flower processes (``editbench up``)."""
