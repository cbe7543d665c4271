"""A stack of mLSTM and sLSTM blocks: the xLSTM encoder."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from torch import Tensor, nn

from .mlstm_block import MLSTMBlock
from .slstm_block import SLSTMBlock

StackState = list[Any]
"""One state per block, in order."""


class XLSTMStack(nn.Module):
    """Residual blocks ``x + block(norm(x))``, sLSTM at ``slstm_at``, mLSTM elsewhere.

    Parameters
    ----------
    d_model : int
        Width of the residual stream.
    num_blocks : int
        Number of blocks.
    slstm_at : sequence of int
        Positions (0-based) of the sLSTM blocks; e.g. ``num_blocks=8, slstm_at=(7,)`` is
        xLSTM[7:1]. Empty means mLSTM only.
    num_heads : int
        Heads of every cell.
    dropout : float
        Dropout inside the blocks.
    mlstm_mode : {"parallel", "chunkwise", "recurrent"}
        Form of the mLSTM cell used for sequences longer than one step.
    chunk_size : int
        Chunk size of the chunkwise mLSTM form.
    backend : {"auto", "torch", "triton"}
        Kernel backend of both cells.
    **block_kwargs
        Extra arguments of :class:`MLSTMBlock` (``proj_factor``, ``conv_kernel``,
        ``qkv_block_size``).

    Examples
    --------
    >>> import torch
    >>> stack = XLSTMStack(d_model=32, num_blocks=3, slstm_at=(1,), num_heads=2)
    >>> x = torch.randn(2, 100, 32)
    >>> y, state = stack(x[:, :60])
    >>> y2, state = stack(x[:, 60:], state)   # continues the same sequence
    >>> y2.shape
    torch.Size([2, 40, 32])
    """

    def __init__(
        self,
        d_model: int,
        num_blocks: int = 2,
        slstm_at: Sequence[int] = (),
        num_heads: int = 4,
        dropout: float = 0.0,
        mlstm_mode: str = "chunkwise",
        chunk_size: int = 64,
        backend: str = "auto",
        **block_kwargs: Any,
    ) -> None:
        super().__init__()
        bad = [p for p in slstm_at if not 0 <= p < num_blocks]
        if bad:
            raise ValueError(f"slstm_at positions {bad} are outside [0, {num_blocks})")
        self.slstm_at = tuple(sorted(set(slstm_at)))
        blocks: list[nn.Module] = []
        for position in range(num_blocks):
            if position in self.slstm_at:
                block: nn.Module = SLSTMBlock(d_model, num_heads, dropout=dropout, backend=backend)
            else:
                block = MLSTMBlock(
                    d_model,
                    num_heads,
                    dropout=dropout,
                    mode=mlstm_mode,
                    chunk_size=chunk_size,
                    backend=backend,
                    **block_kwargs,
                )
            blocks.append(block)
        self.blocks = nn.ModuleList(blocks)
        self.norm = nn.LayerNorm(d_model)

    def forward(self, x: Tensor, state: StackState | None = None) -> tuple[Tensor, StackState]:
        """Encode ``x`` (B, S, d_model), optionally continuing from ``state``.

        Returns the normalised outputs (B, S, d_model) and the state after the last step,
        which continues the sequence exactly when passed to the next call.
        """
        states = [None] * len(self.blocks) if state is None else state
        if len(states) != len(self.blocks):
            raise ValueError(f"state has {len(states)} entries, expected {len(self.blocks)}")
        new_states = []
        for block, block_state in zip(self.blocks, states, strict=True):
            x, block_state = block(x, block_state)
            new_states.append(block_state)
        return self.norm(x), new_states

    def step(self, x: Tensor, state: StackState | None = None) -> tuple[Tensor, StackState]:
        """Advance one time step, for streaming: ``x`` (B, d_model) → (B, d_model)."""
        y, state = self.forward(x[:, None], state)
        return y[:, 0], state
