"""The forecasting network: instance normalisation, patches, xLSTM encoder, direct head."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .stack import XLSTMStack


class InstanceNorm(nn.Module):
    """Reversible instance normalisation: each context is standardised on its own.

    The forecast is mapped back with the same statistics; missing values (NaN) in the
    context are ignored by the statistics.
    """

    def __init__(self, eps: float = 1e-5) -> None:
        super().__init__()
        self.eps = eps

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """``x``: (B, L, ...) → normalised ``x`` (NaN set to 0), mean and scale over ``L``."""
        mean = torch.nanmean(x, dim=1, keepdim=True)
        var = torch.nanmean((x - mean).square(), dim=1, keepdim=True)
        # an all-missing context has no statistics: it is read as zeros
        mean, var = torch.nan_to_num(mean), torch.nan_to_num(var)
        scale = torch.sqrt(var + self.eps)
        return torch.nan_to_num((x - mean) / scale), mean, scale


class NoNorm(nn.Module):
    """The identity in :class:`InstanceNorm`'s form (mean 0, scale 1), for inputs that are
    already on a common scale (NaN still set to 0)."""

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        zero = torch.zeros_like(x[:, :1])
        return torch.nan_to_num(x), zero, zero + 1


class XLSTMForecastNet(nn.Module):
    """Univariate direct multi-step forecaster with an xLSTM encoder.

    The context is normalised per instance, cut into non-overlapping patches (left-padded
    with zeros to a whole number of patches), embedded linearly, encoded by an
    :class:`XLSTMStack`, and the last patch's encoding (or all of them together) is mapped
    by one linear head to ``horizon × len(quantiles)`` outputs, which are de-normalised.
    With ``linear_path``, a linear forecast from the normalised context, centred on its
    last value (as in NLinear), is added to every quantile: the encoder then learns what
    a linear forecaster misses. :meth:`set_linear_path` sets that path from a solution (e.g. a
    ridge regression) and zeroes the encoder's head, so the network starts as that
    linear forecaster.

    Covariates enter each patch's embedding beside the target, on a fixed scale learned
    from the training data (:meth:`set_covariate_scaling`), never on their context's
    own: a flag that was constant over one context must not turn into an unbounded
    input when it changes. Covariates known over the horizon (the last ``n_future``, on
    the same scale) are also mapped linearly onto the forecast. The first ``n_mixed``
    covariates are other series' values (channel mixing): those are normalised per
    instance, as the context is.

    Parameters
    ----------
    context_length, horizon : int
        Lengths of the input and of the forecast.
    quantiles : sequence of float
        Quantile levels of the outputs, increasing.
    patch_len : int
        Steps per patch (token).
    d_model, num_blocks, slstm_at, num_heads, dropout, chunk_size, backend
        Passed to :class:`XLSTMStack`.
    linear_path : bool
        Add the linear path from context to forecast.
    n_covariates : int
        Covariates seen over the context.
    n_future : int
        How many of them (the last ones) are also known over the horizon.
    n_mixed : int
        How many of them (the first ones) are other series' values, normalised per
        instance.
    instance_norm : bool
        Normalise each context on its own (and map the forecast back); ``False`` leaves
        inputs and outputs as they are, for data standardised beforehand (tabular
        regression, where the target's scale need not follow each row's).
    head : {"last", "flatten"}
        ``"last"`` (default): the head maps only the last patch's encoding (``d_model``
        inputs), a small head that memorises the training period less; ``"flatten"``:
        all patch encodings together (``num_patches × d_model`` inputs).
    encoder_context : int, optional
        The encoder sees only the last ``encoder_context`` steps of the (normalised)
        context; the linear path always sees all of it. ``None``: the whole context.
    input_noise : float
        Standard deviation of Gaussian noise added to the encoder's normalised input in
        training (never to the linear path): a regulariser against memorising.

    Attributes
    ----------
    correction_scale : Tensor
        Buffer (a scalar, 1 at first) that multiplies the encoder's part: the forecast is
        ``linear + correction_scale · correction`` (see :meth:`forward_parts`); a blend
        weight chosen on validation windows is stored here.
    covariate_center, covariate_scale : Tensor or None
        Buffers (one value per covariate after the ``n_mixed`` first): covariates enter as
        ``(value − center) / scale`` (0 and 1 until :meth:`set_covariate_scaling`).
    """

    def __init__(
        self,
        context_length: int,
        horizon: int,
        quantiles: Sequence[float] = (0.5,),
        patch_len: int = 16,
        d_model: int = 64,
        num_blocks: int = 2,
        slstm_at: Sequence[int] = (),
        num_heads: int = 4,
        dropout: float = 0.0,
        chunk_size: int = 64,
        backend: str = "auto",
        linear_path: bool = False,
        n_covariates: int = 0,
        n_future: int = 0,
        n_mixed: int = 0,
        instance_norm: bool = True,
        head: str = "last",
        encoder_context: int | None = None,
        input_noise: float = 0.0,
    ) -> None:
        super().__init__()
        if head not in ("flatten", "last"):
            raise ValueError(f"head must be 'flatten' or 'last', got {head!r}")
        self.context_length, self.horizon, self.patch_len = context_length, horizon, patch_len
        self.num_quantiles = len(quantiles)
        self.encoder_context = min(encoder_context or context_length, context_length)
        self.head_kind, self.input_noise = head, input_noise
        self.num_patches = math.ceil(self.encoder_context / patch_len)
        self.norm = InstanceNorm() if instance_norm else NoNorm()
        if not 0 <= n_future <= n_covariates:
            raise ValueError(f"n_future={n_future} must lie in [0, n_covariates={n_covariates}]")
        if not 0 <= n_mixed <= n_covariates - n_future:
            raise ValueError(
                f"n_mixed={n_mixed} must lie in [0, n_covariates - n_future="
                f"{n_covariates - n_future}]"
            )
        self.n_covariates, self.n_future, self.n_mixed = n_covariates, n_future, n_mixed
        own = n_covariates - n_mixed  # the covariates on a fixed scale
        self.register_buffer("covariate_center", torch.zeros(own) if own else None)
        self.register_buffer("covariate_scale", torch.ones(own) if own else None)
        self.embed = nn.Linear(patch_len * (1 + n_covariates), d_model)
        self.encoder = XLSTMStack(
            d_model,
            num_blocks,
            slstm_at,
            num_heads,
            dropout=dropout,
            chunk_size=chunk_size,
            backend=backend,
        )
        self.head_dropout = nn.Dropout(dropout)
        head_in = d_model if head == "last" else self.num_patches * d_model
        self.head = nn.Linear(head_in, horizon * self.num_quantiles)
        self.register_buffer("correction_scale", torch.ones(()))
        self.linear_path = nn.Linear(context_length, horizon) if linear_path else None
        # the linear path's map from the future-known covariates over the horizon
        self.linear_future = (
            nn.Linear(horizon * n_future, horizon, bias=False) if linear_path and n_future else None
        )
        # a level of the linear path in the data's units (set by a ridge start, not trained)
        self.register_buffer("linear_offset", torch.zeros(horizon) if linear_path else None)
        self.future = (
            nn.Linear(horizon * n_future, horizon * self.num_quantiles) if n_future else None
        )

    def forward(
        self,
        context: Tensor,
        covariates: Tensor | None = None,
        future: Tensor | None = None,
    ) -> Tensor:
        """Forecasts (B, horizon, num_quantiles).

        ``context``: (B, context_length); ``covariates``: (B, context_length,
        n_covariates); ``future``: the future-known covariates over the horizon (B, horizon,
        n_future).
        """
        return self.blend(*self.forward_parts(context, covariates, future))

    def blend(self, linear: Tensor, correction: Tensor) -> Tensor:
        """The forecasts from the parts of :meth:`forward_parts`."""
        return linear[..., None] + self.correction_scale * correction

    def forward_parts(
        self,
        context: Tensor,
        covariates: Tensor | None = None,
        future: Tensor | None = None,
    ) -> tuple[Tensor, Tensor]:
        """The linear forecast (B, horizon) and the encoder's correction (B, horizon,
        num_quantiles), both in the data's units. Without a linear path the linear part
        is the context's mean (the de-normalisation offset)."""
        x, mean, scale = self.norm(context)
        features = x[..., None]
        if self.n_mixed:  # other series' values: on their own context's scale
            features = torch.cat([features, self.norm(covariates[..., : self.n_mixed])[0]], -1)
        if self.covariate_center is not None:
            own = self._scaled_covariates(covariates[..., self.n_mixed :])
            features = torch.cat([features, own], dim=-1)
        features = features[:, -self.encoder_context :]
        if self.input_noise and self.training:
            features = features + self.input_noise * torch.randn_like(features)
        B, pad = x.shape[0], self.num_patches * self.patch_len - features.shape[1]
        patches = F.pad(features, (0, 0, pad, 0)).view(B, self.num_patches, -1)
        encoded, _ = self.encoder(self.embed(patches))
        summary = encoded[:, -1] if self.head_kind == "last" else encoded.flatten(1)
        out = self.head(self.head_dropout(summary))
        if self.n_future:
            future = self._scaled_covariates(future, known=True).flatten(1)
            out = out + self.future(future)
        out = out.view(-1, self.horizon, self.num_quantiles)
        linear = torch.zeros_like(x[:, :1]).expand(-1, self.horizon)
        if self.linear_path is not None:
            last = x[:, -1:]
            linear = self.linear_path(x - last) + last
            if self.linear_future is not None:
                linear = linear + self.linear_future(future)
            return linear * scale + mean + self.linear_offset, out * scale[..., None]
        return linear * scale + mean, out * scale[..., None]

    def _scaled_covariates(self, values: Tensor, known: bool = False) -> Tensor:
        """Covariates on their training scale (NaN read as 0); ``known``: only the
        future-known ones (the last ``n_future``)."""
        center, scale = self.covariate_center, self.covariate_scale
        if known:
            center, scale = center[-self.n_future :], scale[-self.n_future :]
        return torch.nan_to_num((values - center) / scale)

    @torch.no_grad()
    def set_covariate_scaling(self, center: Tensor, scale: Tensor) -> None:
        """Set the fixed scale of the covariates after the ``n_mixed`` first: each enters
        as ``(value − center) / scale``."""
        if self.covariate_center is None:
            raise ValueError("this network has no covariates on a fixed scale")
        self.covariate_center.copy_(torch.as_tensor(center, dtype=self.covariate_center.dtype))
        self.covariate_scale.copy_(torch.as_tensor(scale, dtype=self.covariate_scale.dtype))

    @torch.no_grad()
    def linear_path_inputs(
        self, context: Tensor, future: Tensor | None = None
    ) -> tuple[Tensor, Tensor | None, Tensor]:
        """What the linear path sees, in the data's units: ``(features, covariates,
        offset)``.

        With weights ``W`` (horizon, L) and ``V`` (horizon, horizon · n_future) the path
        forecasts ``features @ Wᵀ + covariates @ Vᵀ + offset`` (and the encoder adds its
        part): ``features`` is the normalised context minus its last value, times the
        context's scale; ``covariates`` the future-known covariates over the horizon on
        their fixed scale, flattened, times the context's scale (``None`` without them);
        ``offset`` the last value on the data's scale. A least-squares fit of
        ``target − offset`` on both is thus a fit of the path by squared error in the
        data's units.
        """
        x, mean, scale = self.norm(context)
        last = x[:, -1:]
        covariates = None
        if self.linear_future is not None:
            covariates = self._scaled_covariates(future, known=True).flatten(1) * scale
        return (x - last) * scale, covariates, last * scale + mean

    @torch.no_grad()
    def set_linear_path(
        self,
        weight: Tensor,
        bias: Tensor | None = None,
        offset: Tensor | None = None,
        future_weight: Tensor | None = None,
    ) -> None:
        """Set the linear path's weights (horizon, L), bias (horizon,; in normalised units,
        so a multiple of each window's scale in the data's), offset (horizon,; in the
        data's units) and the weights of its future-known covariates (horizon, horizon ·
        n_future), zero when ``None``, and zero the encoder's head and its
        future-covariate map: the network then forecasts exactly as that linear map."""
        if self.linear_path is None:
            raise ValueError("this network was built without a linear path (linear_path=False)")
        self.linear_path.weight.copy_(torch.as_tensor(weight, dtype=self.linear_path.weight.dtype))
        if bias is None:
            nn.init.zeros_(self.linear_path.bias)
        else:
            self.linear_path.bias.copy_(torch.as_tensor(bias, dtype=self.linear_path.bias.dtype))
        if self.linear_future is not None:
            self.linear_future.weight.zero_()
            if future_weight is not None:
                self.linear_future.weight.copy_(torch.as_tensor(future_weight))
        self.linear_offset.zero_()
        if offset is not None:
            self.linear_offset.copy_(torch.as_tensor(offset, dtype=self.linear_offset.dtype))
        for layer in (self.head, self.future):
            if layer is not None:
                nn.init.zeros_(layer.weight)
                nn.init.zeros_(layer.bias)
