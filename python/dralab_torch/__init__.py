"""A dralab policy in PyTorch: the searched (or any frozen) DRA policy as a torchvision
transform that gives dralab's bytes, seeded per sample for DataLoader workers and DDP."""
from .policy import ALL_OP_NAMES, DRA_OP_NAMES, DraPolicy, LayerDraw, PolicyError, apply_op
from .transform import DraTransform, SeededDataset, sample_rng


def _transform(self: DraPolicy, seed: int = 0, interpolation: str = 'bilinear', fill: float = 0.0) -> DraTransform:
    """This policy as a transform (see DraTransform)."""
    return DraTransform(self, seed=seed, interpolation=interpolation, fill=fill)


DraPolicy.transform = _transform  # type: ignore[attr-defined]

__all__ = ['ALL_OP_NAMES', 'DRA_OP_NAMES', 'DraPolicy', 'DraTransform', 'LayerDraw', 'PolicyError', 'SeededDataset', 'apply_op', 'sample_rng']
__version__ = '0.1.0'
