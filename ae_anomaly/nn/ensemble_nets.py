"""Many small autoencoders as one batched module: a member dimension on every weight.

Nothing here knows about scikit-learn. :class:`EnsembleNet` holds ``n_members`` MLP
autoencoders of the same shape; a forward pass runs them all at once with
:func:`torch.baddbmm` over the member dimension, so that training 50 members costs a few
batched matrix products per step instead of 50 small networks.

Diversity is built in, RandNet / feature-bagging style (Chen et al., 2017; Lazarevic and
Kumar, 2005):

- each member sees a random subset of the input features (``feature_index``, fixed at
  construction) and reconstructs those only: its layers are sized by the subset, so a
  member on 20 of 1,000 columns costs what a network on 20 columns does;
- each member can be fed its own rows: every method takes either one batch shared by all
  members, ``(batch, n_features)``, or one batch per member, ``(batch, n_members,
  n_features)`` (row ``i`` of member ``m`` at ``[i, m]``), which is how the estimator
  trains each member on its own subsample of the rows.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .nets import ACTIVATIONS, INIT_DTYPE, Dropout


class EnsembleNet(nn.Module):
    """``n_members`` MLP autoencoders trained and evaluated as one module.

    Member ``m`` is ``k -> *hidden -> n_components -> *reversed(hidden) -> k`` on the
    ``k`` columns ``feature_index[m]`` (code and output layers linear).

    Parameters
    ----------
    n_features : int
    feature_index : LongTensor of shape (n_members, k)
        The columns each member sees and reconstructs.
    hidden : tuple of int
    n_components : int
        Code width of each member.
    activation : str, default="relu"
    dropout : float, default=0.0
        Dropout rate after every hidden layer, while training.

    Examples
    --------
    >>> import torch
    >>> net = EnsembleNet(5, torch.tensor([[0, 1, 2], [2, 3, 4]]), (4,), 2)
    >>> net.member_errors(torch.zeros(7, 5)).shape  # 7 rows, 2 members
    torch.Size([7, 2])
    >>> net.encode(torch.zeros(7, 5)).shape  # the members' codes side by side
    torch.Size([7, 4])
    >>> net(torch.zeros(7, 5)).shape  # each column: the mean over the members seeing it
    torch.Size([7, 5])
    """

    def __init__(
        self, n_features, feature_index, hidden, n_components, activation="relu", dropout=0.0
    ):
        super().__init__()
        # on the CPU, also when built under torch.device("meta") (a model file's audit)
        index = torch.as_tensor(feature_index, dtype=torch.long, device="cpu")
        self.n_features = int(n_features)
        self.n_members, self.n_inputs = (int(size) for size in index.shape)
        self.n_components = int(n_components)
        if index.min() < 0 or index.max() >= self.n_features:
            raise ValueError(f"feature_index must hold columns in [0, {self.n_features}).")
        sizes = [self.n_inputs, *hidden, self.n_components]
        self.encoder = _BatchedMLP(self.n_members, sizes, activation, dropout)
        self.decoder = _BatchedMLP(self.n_members, sizes[::-1], activation, dropout)
        self.register_buffer("feature_index", index)
        coverage = torch.zeros(self.n_features, device="cpu").index_add_(
            0, index.flatten(), torch.ones(index.numel(), device="cpu")
        )
        self.register_buffer("coverage", coverage)
        #: every member reads every column, in order (``k == n_features``, up to 32
        #: columns by default): a shared batch then needs no gather, and the members'
        #: first layers are one matrix product
        self.shares_columns = self.n_inputs == self.n_features and bool(
            (index == torch.arange(self.n_features, device="cpu")).all()
        )
        #: activation values per input row of the widest layer, over all members: what
        #: sizes an inference batch to the cache (:func:`~ae_anomaly.nn.training.
        #: inference_batch_size`)
        self.row_elements = self.n_members * max(sizes)

    # ------------------------------------------------------------------ members
    def member_inputs(self, x):
        """Each member's columns: ``(n_members, batch, k)`` from a shared batch
        ``(batch, n_features)``, per-member batches ``(batch, n_members, n_features)``, or
        per-member batches already on the members' columns, ``(batch, n_members, k)``
        (with ``k == n_features`` every member sees every column, in order: the same)."""
        if x.dim() == 2:
            if self.shares_columns:  # a broadcast view: no copy
                return x.expand(self.n_members, *x.shape)
            return x[:, self.feature_index].permute(1, 0, 2)
        if x.shape[2] == self.n_inputs:
            return x.permute(1, 0, 2)
        members = torch.arange(self.n_members, device=x.device)[:, None]
        return x[:, members, self.feature_index].permute(1, 0, 2)

    def member_codes(self, x):
        """Codes of every member: shape ``(n_members, batch, n_components)``."""
        return self.encoder(self._encoder_input(x))

    def member_parts(self, x):
        """``(squared errors, codes)`` of every member: the squared error on each of its
        columns, ``(n_members, batch, k)``, and its code, ``(n_members, batch,
        n_components)``. Without autograd (inference) the difference is made inside the
        decoder's last product (:meth:`_BatchedMLP.residual`) and squared in place."""
        codes, inputs = self.member_codes(x), self.member_inputs(x)
        if torch.is_grad_enabled():
            return (self.decoder(codes) - inputs).pow(2), codes
        return self.decoder.residual(codes, inputs).square_(), codes

    def member_squared_errors(self, x):
        """Squared error of each member on each of its columns: ``(n_members, batch, k)``."""
        return self.member_parts(x)[0]

    def _encoder_input(self, x):
        """The shared batch itself where every member reads every column (the encoder's
        first layer is then one matrix product), else :meth:`member_inputs`."""
        return x if x.dim() == 2 and self.shares_columns else self.member_inputs(x)

    def member_errors(self, x):
        """Mean squared error of each member over its columns: shape ``(batch, n_members)``."""
        return self.member_squared_errors(x).mean(dim=2).T

    def to_columns(self, per_member):
        """Sum ``(n_members, batch, k)`` values into the columns: ``(batch, n_features)``."""
        batch = per_member.shape[1]
        out = per_member.new_zeros(batch, self.n_features)
        index = self.feature_index.T.reshape(1, -1).expand(batch, -1)
        return out.scatter_add_(1, index, per_member.permute(1, 2, 0).reshape(batch, -1))

    # ------------------------------------------------------------- the common network API
    def encode(self, x):
        """The members' codes side by side: shape ``(batch, n_members * n_components)``."""
        codes = self.member_codes(x)
        return codes.permute(1, 0, 2).reshape(codes.shape[1], -1)

    def decode(self, z):
        """Each column reconstructed as the mean over the members that see it (0 if none)."""
        codes = z.reshape(z.shape[0], self.n_members, self.n_components).permute(1, 0, 2)
        return self.to_columns(self.decoder(codes)) / self.coverage.clamp(min=1)

    def forward(self, x):
        return self.decode(self.encode(x))


class _BatchedMLP(nn.Module):
    """``n_members`` MLPs of the same sizes, weights ``(n_members, n_in, n_out)``, applied to
    ``(n_members, batch, n_in)`` with :func:`torch.baddbmm`, or to one ``(batch, n_in)``
    batch shared by every member (the first layer is then one :func:`torch.addmm` of the
    members' weights side by side). Initialization is PyTorch's ``nn.Linear`` default,
    member by member."""

    def __init__(self, n_members, sizes, activation, dropout=0.0):
        super().__init__()
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
            bound = 1.0 / math.sqrt(n_in)
            weight = torch.empty(n_members, n_in, n_out, dtype=INIT_DTYPE).uniform_(-bound, bound)
            bias = torch.empty(n_members, 1, n_out, dtype=INIT_DTYPE).uniform_(-bound, bound)
            self.weights.append(nn.Parameter(weight))
            self.biases.append(nn.Parameter(bias))
        self.activation = ACTIVATIONS[activation]()
        self.dropout = Dropout(dropout) if dropout > 0 else nn.Identity()

    def forward(self, x):
        return self._layers(x, len(self.weights))

    def residual(self, x, target):
        """``forward(x) - target`` without autograd, ``target`` ``(n_members, batch,
        n_out)`` (a broadcast view will do): the last layer's product is accumulated into
        ``target - bias`` in place, so the difference costs no pass of its own."""
        hidden = self._layers(x, len(self.weights) - 1)
        out = torch.sub(target, self.biases[-1])  # a fresh (n_members, batch, n_out)
        if hidden.dim() == 2:
            hidden = hidden.expand(out.shape[0], *hidden.shape)
        return out.baddbmm_(hidden, self.weights[-1], beta=-1)

    def _layers(self, x, count):
        """The first ``count`` layers applied to ``x``."""
        last = len(self.weights) - 1
        # in inference (eval mode, no autograd) ReLU works in place: no fresh activations
        inference = not (self.training or torch.is_grad_enabled())
        relu_ = inference and isinstance(self.activation, nn.ReLU)
        # a slice of a ParameterList builds a new module: a list of the pairs is cheaper
        layers = list(zip(self.weights, self.biases, strict=True))[:count]
        for i, (weight, bias) in enumerate(layers):
            if x.dim() == 2:  # shared by every member: (batch, n_in) @ (n_in, members * n_out)
                n_members, n_in, n_out = weight.shape
                side_by_side = weight.permute(1, 0, 2).reshape(n_in, n_members * n_out)
                if inference:
                    x = torch.mm(x, side_by_side).add_(bias.reshape(1, n_members * n_out))
                else:
                    x = torch.addmm(bias.reshape(1, n_members * n_out), x, side_by_side)
                x = x.view(-1, n_members, n_out).transpose(0, 1)
            else:
                x = torch.bmm(x, weight).add_(bias) if inference else torch.baddbmm(bias, x, weight)
            if i < last:
                x = x.relu_() if relu_ else self.dropout(self.activation(x))
        return x
