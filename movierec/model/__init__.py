"""The model: the co-like cost and its kernels, training (one process or data-parallel), and the
best cost an embedding size can reach. Imports only :mod:`movierec.data` below it."""
