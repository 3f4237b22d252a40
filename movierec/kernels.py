"""Dense kernels of the training step, chosen per device: the Gram matrix V V^T.

Book page: "Scaling up".
"""

from __future__ import annotations

import torch


def gram_matrix(rows: torch.Tensor) -> torch.Tensor:
    """V V^T (d x d) from the n x d movie rows of V."""
    return rows.mT @ rows
