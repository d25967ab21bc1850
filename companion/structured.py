"""Structured labels: multi-label sets, label trees and sequences.

The book's Chapter 6 (multi-label classification), Chapter 7 (hierarchical classification) and
Chapter 8 (structured prediction with a smoothness penalty).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from . import _checks as C
from .core import _binary_cross_entropy, _check_bce_args, js_divergence

__all__ = ["multilabel_cross_entropy", "Tree", "hierarchical_log_probs",
           "hierarchical_cross_entropy", "adjacent_js_penalty"]


def multilabel_cross_entropy(logits, targets, *, mask=None, pos_weight=None, reduction="mean"):
    r"""Multi-label cross-entropy: one sigmoid per label, BCE summed over the labels.

    .. math::

        \ell_n = \sum_{k=1}^{K} m_{nk}\bigl[\beta_k\, y_{nk}\operatorname{softplus}(-z_{nk})
                 + (1-y_{nk})\operatorname{softplus}(z_{nk})\bigr]

    the negative log-likelihood of the label set when the labels are conditionally independent
    given the input, :math:`-\sum_k \log P(y_{nk} \mid x_n)`. Without ``mask`` and
    ``pos_weight`` it equals ``K * binary_cross_entropy(logits, targets)`` for ``"mean"``.

    Reduction semantics: ``"none"`` gives the per-example sums :math:`\ell_n`; ``"sum"`` adds
    them; ``"mean"`` divides by the number of examples that have at least one observed label
    (all of them when ``mask`` is ``None``). Masked labels (``mask`` ``False``) count in neither
    sum; an all-masked batch gives 0 with zero gradient.

    Args:
        logits: ``(..., K)`` label logits, any floating dtype (half computed in float32);
            finite (see :func:`companion.binary_cross_entropy`).
        targets: floating ``(..., K)`` labels in ``[0, 1]`` (soft labels allowed).
        mask: optional boolean ``(..., K)``; ``False`` marks a missing label.
        pos_weight: optional :math:`\beta`, ``(K,)`` or broadcastable to ``logits``, the
            weight of the positive term of each label.
        reduction: ``"mean"`` | ``"sum"`` | ``"none"``.

    Returns:
        A scalar for ``"mean"`` and ``"sum"``; the ``(...)`` per-example losses for
        ``"none"``.

    Raises:
        TypeError: ``logits`` or ``targets`` is not floating, or ``mask`` is not boolean.
        ValueError: shapes disagree, a target leaves ``[0, 1]`` or is NaN, ``pos_weight`` is
            negative, NaN or infinite or does not broadcast, or ``reduction`` is unknown.

    Example:
        >>> import torch
        >>> from companion import multilabel_cross_entropy
        >>> z = torch.tensor([[2.0, -1.0, 0.0], [0.5, 0.5, -3.0]])
        >>> y = torch.tensor([[1.0, 0.0, 1.0], [1.0, 1.0, 0.0]])
        >>> round(multilabel_cross_entropy(z, y).item(), 4)
        1.065
        >>> mask = torch.tensor([[True, True, False], [True, True, True]])
        >>> round(multilabel_cross_entropy(z, y, mask=mask).item(), 4)
        0.7185

    References:
        Zhang and Zhou (2014), *A review on multi-label learning algorithms*,
        https://doi.org/10.1109/TKDE.2013.39.

    See also:
        Chapter 6 (multi-label classification) and Chapter 10 (missing labels).
    """
    C.check_logits(logits)
    C.check_reduction(reduction)
    _check_bce_args(logits, targets, pos_weight, None, mask, target_name="targets")
    dtype = C.compute_dtype(logits)
    z, y = logits.to(dtype), targets.to(dtype)
    pw = None if pos_weight is None else pos_weight.to(dtype)
    # BCE in the compute dtype, so that the sum over labels is not rounded to half
    if reduction == "none":
        return _binary_cross_entropy(z, y, pw, None, mask, "none").sum(-1).to(logits.dtype)
    # a mean or sum of the rows' sums is the sum over every label (over a row count): BCE's
    # reduced path, which makes no (..., K) tensor of losses
    total = _binary_cross_entropy(z, y, pw, None, mask, "sum")
    if mask is None:
        rows = torch.tensor(float(math.prod(logits.shape[:-1])), device=logits.device)
    else:
        rows = mask.any(-1).sum()
    return C.reduce(total, reduction, rows).to(logits.dtype)


class Tree:
    r"""A label taxonomy: a rooted tree whose children compete under a softmax.

    ``Tree(parents)``: ``parents[i]`` is the parent of node ``i``; node 0 is the root and
    ``parents[0] == -1``. The nodes may be listed in any order as long as every node reaches the
    root. The leaves (nodes without children), in increasing node order, are the classes.

    **Logit layout.** Every non-root node has one logit: the logits have shape
    ``(..., num_nodes - 1)`` and column ``i - 1`` belongs to node ``i``. The children of each
    internal node :math:`u` compete under a softmax,

    .. math::

        P(c \mid u) = \frac{\exp z_c}{\sum_{c' \in \operatorname{ch}(u)} \exp z_{c'}},
        \qquad P(\ell) = \prod_{v \in \operatorname{path}(\ell) \setminus \{r\}} P(v \mid \operatorname{pa}(v)).

    Attributes:
        parents: the parent list (a tuple of ints).
        num_nodes: the number of nodes, root included.
        leaves: the leaf node ids in increasing order; a class index ``j`` means
            ``leaves[j]``.
        names: node names (``from_paths``) or ``None``.

    Example:
        >>> from companion import Tree
        >>> tree = Tree.from_paths({"cat": ["mammal", "cat"], "dog": ["mammal", "dog"],
        ...                         "trout": ["fish", "trout"]})
        >>> tree.num_nodes, tree.leaves
        (6, [2, 3, 5])
        >>> tree.path(tree.leaves[1]), [tree.names[i] for i in tree.path(3)]
        ([0, 1, 3], ['<root>', 'mammal', 'dog'])

    See also:
        Chapter 7, hierarchical classification.
    """

    ROOT_NAME = "<root>"

    def __init__(self, parents, *, names=None):
        if isinstance(parents, torch.Tensor):
            parents = parents.tolist()
        try:
            parents = [int(p) for p in parents]
        except (TypeError, ValueError) as err:
            raise TypeError(f"parents must be a sequence of ints, got {parents!r}") from err
        n = len(parents)
        if n < 2:
            raise ValueError(f"parents must list at least 2 nodes (a root and a child), got {n}")
        if parents[0] != -1:
            raise ValueError(f"parents[0] must be -1 (node 0 is the root), got {parents[0]}")
        for i, p in enumerate(parents[1:], start=1):
            if not 0 <= p < n or p == i:
                raise ValueError(f"parents[{i}] is {p}; a non-root node's parent must be another "
                                 f"node in [0, {n})")
        depth = [0] * n
        for i in range(1, n):
            seen, v = set(), i
            while v != 0:
                if v in seen:
                    raise ValueError(f"parents has a cycle through node {v}; it must describe a tree")
                seen.add(v)
                v = parents[v]
            depth[i] = len(seen)
        if names is not None:
            names = list(names)
            if len(names) != n:
                raise ValueError(f"names has {len(names)} entries but the tree has {n} nodes")
        self.parents = tuple(parents)
        self.names = names
        self.num_nodes = n
        self.children = [[] for _ in range(n)]
        for i in range(1, n):
            self.children[parents[i]].append(i)
        self.leaves = [i for i in range(n) if not self.children[i]]
        self.depth = depth
        self._paths = [self._walk(i) for i in range(n)]
        self._cache = {}

    def _walk(self, node):
        out = [node]
        while out[-1] != 0:
            out.append(self.parents[out[-1]])
        return out[::-1]

    @classmethod
    def from_paths(cls, paths):
        """Build a tree from ``{leaf_name: [ancestor, ..., leaf_name]}``.

        Each list runs from the top-level ancestor (a child of the implicit root, named
        ``"<root>"``) down to the leaf; a list that does not end with its key gets the key
        appended. A name denotes one node wherever it appears, so it must have the same parent
        in every path. Nodes are numbered in order of first appearance, so the leaves come out
        in the order of the dictionary's keys.

        Raises:
            TypeError: ``paths`` is not a mapping of names to sequences.
            ValueError: a path is empty, a name has two different parents, or a key names an
                internal node.
        """
        if not hasattr(paths, "items"):
            raise TypeError(f"paths must be a dict of leaf name -> list of names, got {type(paths).__name__}")
        names, parents, index = [cls.ROOT_NAME], [-1], {cls.ROOT_NAME: 0}
        for leaf, path in paths.items():
            if isinstance(path, str) or not hasattr(path, "__iter__"):
                raise TypeError(f"paths[{leaf!r}] must be a list of names, got {path!r}")
            path = list(path)
            if not path or path[-1] != leaf:
                path.append(leaf)
            parent = 0
            for name in path:
                if name == cls.ROOT_NAME:
                    raise ValueError(f"the name {cls.ROOT_NAME!r} is reserved for the root")
                if name not in index:
                    index[name] = len(names)
                    names.append(name)
                    parents.append(parent)
                elif parents[index[name]] != parent:
                    raise ValueError(
                        f"node {name!r} appears under {names[parents[index[name]]]!r} and under "
                        f"{names[parent]!r}; a name must have one parent"
                    )
                parent = index[name]
        tree = cls(parents, names=names)
        internal = [leaf for leaf in paths if tree.children[index[leaf]]]
        if internal:
            raise ValueError(f"paths has key {internal[0]!r}, which is an internal node, not a leaf")
        return tree

    @property
    def num_leaves(self) -> int:
        return len(self.leaves)

    def path(self, node):
        """Node ids from the root to ``node``, both included."""
        if isinstance(node, bool) or not isinstance(node, int) or not 0 <= node < self.num_nodes:
            raise ValueError(f"node must be an int in [0, {self.num_nodes}), got {node!r}")
        return list(self._paths[node])

    def index(self, name):
        """The node id of ``name`` (trees built with ``from_paths``)."""
        if self.names is None or name not in self.names:
            raise ValueError(f"the tree has no node named {name!r}")
        return self.names.index(name)

    def __repr__(self):
        return f"Tree(num_nodes={self.num_nodes}, num_leaves={self.num_leaves})"

    def _tensors(self, device):
        """Index tensors on ``device``, built once per device.

        * ``groups (G, M)``: column ids (node - 1) of the children of each internal node,
          padded with the index of an extra ``-inf`` column;
        * ``group_of (num_nodes - 1,)``: the group of each non-root node's parent;
        * ``paths (num_leaves, D)``: column ids of each leaf's path below the root, padded
          with the index of an extra zero column;
        * ``slot (num_nodes - 1,)``: where each non-root node sits in ``groups`` flattened.
        """
        key = str(device)
        if key not in self._cache:
            n = self.num_nodes
            internal = [u for u in range(n) if self.children[u]]
            width = max(len(self.children[u]) for u in internal)
            pad = n - 1  # the extra column appended to the logits
            groups = [[c - 1 for c in self.children[u]] + [pad] * (width - len(self.children[u]))
                      for u in internal]
            slot = {u: g for g, u in enumerate(internal)}
            group_of = [slot[self.parents[i]] for i in range(1, n)]
            deepest = max(len(self._paths[leaf]) - 1 for leaf in self.leaves)
            paths = [[v - 1 for v in self._paths[leaf][1:]]
                     + [pad] * (deepest - len(self._paths[leaf]) + 1) for leaf in self.leaves]
            slot_of = [0] * (n - 1)
            for g, row in enumerate(groups):
                for j, col in enumerate(row):
                    if col != pad:
                        slot_of[col] = g * width + j
            as_long = lambda x: torch.tensor(x, dtype=torch.long, device=device)
            self._cache[key] = (as_long(groups), as_long(group_of), as_long(paths),
                                as_long(slot_of))
        return self._cache[key]

    def _path_tensors(self, device):
        """Each leaf's sibling groups along its path, as index tensors on ``device``.

        * ``cols (num_leaves, D, M)``: for each node on the path from the root down to the
          leaf's parent, one row per depth, the logit columns of that node's children;
        * ``real (num_leaves, D, M)``: True at a real child, False at padding: a short group
          is padded with ``-inf``, and a depth below a shallow leaf is a row ``[0, -inf, ...]``
          whose log-sum-exp is 0;
        * ``node (num_leaves, D)``: the position within that row of the path's next node (0
          for a depth below the leaf, whose value is then the row's 0).

        ``D`` is the deepest leaf's depth and ``M`` the widest group; padded columns point at
        column 0, which ``real`` masks.
        """
        key = "path:" + str(device)
        if key not in self._cache:
            width = max(len(c) for c in self.children if c)
            depth = max(len(self._paths[leaf]) - 1 for leaf in self.leaves)
            cols, real, node = [], [], []
            for leaf in self.leaves:
                path = self._paths[leaf]
                c_rows, r_rows, n_row = [], [], []
                for parent, child in zip(path[:-1], path[1:]):
                    kids = self.children[parent]
                    c_rows.append([k - 1 for k in kids] + [0] * (width - len(kids)))
                    r_rows.append([True] * len(kids) + [False] * (width - len(kids)))
                    n_row.append(kids.index(child))
                for _ in range(depth - len(path) + 1):
                    c_rows.append([0] * width)
                    r_rows.append([False] * width)
                    n_row.append(0)
                cols.append(c_rows)
                real.append(r_rows)
                node.append(n_row)
            self._cache[key] = (torch.tensor(cols, dtype=torch.long, device=device),
                                torch.tensor(real, dtype=torch.bool, device=device),
                                torch.tensor(node, dtype=torch.long, device=device))
        return self._cache[key]


def _check_tree_logits(logits, tree):
    if not isinstance(tree, Tree):
        raise TypeError(f"tree must be a companion.Tree, got {type(tree).__name__}")
    C.check_logits(logits)
    if logits.shape[-1] != tree.num_nodes - 1:
        raise ValueError(
            f"logits have {logits.shape[-1]} entries on the last axis but the tree has "
            f"{tree.num_nodes} nodes; expected one logit per non-root node, {tree.num_nodes - 1}"
        )


def _conditional_log_probs(logits, tree):
    """log P(v | pa(v)) for every non-root node: a log-softmax within each sibling group.

    The logits are laid out as the padded ``(..., G, M)`` sibling groups (an extra ``-inf``
    column fills the short ones; exp(-inf) adds nothing), one fused log-softmax runs over the
    last axis, and every node's value is read back from its slot. The log-softmax subtracts
    each group's maximum first, (z - m) - log sum exp(z - m), so the result keeps its digits at
    logits of size 1e4, where z - logsumexp(z) would round at the size of z (a 1.8% error in
    float32). Index selections both ways keep the backward to index additions.
    """
    groups, _, _, slot = tree._tensors(logits.device)
    z = logits.to(C.compute_dtype(logits))
    pad = torch.full_like(z[..., :1], float("-inf"))
    grouped = torch.cat([z, pad], -1).index_select(-1, groups.reshape(-1))
    log_p = F.log_softmax(grouped.unflatten(-1, groups.shape), dim=-1)
    cond = log_p.flatten(-2).index_select(-1, slot)
    # a group whose children are all masked (-inf) gives NaN: its nodes get -inf, as any
    # masked node does (NaN logits stay NaN)
    if bool(torch.isnan(cond).any()):
        cond = torch.where(torch.isneginf(z), z, cond)
    return cond


def _leaf_log_probs(cond, tree):
    _, _, paths, _ = tree._tensors(cond.device)
    # sum along each path by gathering (exact, no matmul): an extra zero column pads short paths
    padded = torch.cat([cond, torch.zeros_like(cond[..., :1])], -1)
    return padded[..., paths].sum(-1)  # (..., num_leaves)


def hierarchical_log_probs(logits, tree):
    r"""Leaf log-probabilities of a tree of softmaxes.

    .. math::

        \log P(\ell \mid x) = \sum_{v \in \operatorname{path}(\ell) \setminus \{r\}}
            \Bigl(z_v - \log \sum_{c \in \operatorname{ch}(\operatorname{pa}(v))} e^{z_c}\Bigr)

    Vectorised over the batch: one padded log-sum-exp over all sibling groups, then a gather
    along the padded leaf paths. ``exp`` of the result sums to one over the leaves.

    Args:
        logits: ``(..., num_nodes - 1)``; column ``i - 1`` is node ``i``'s logit (see
            :class:`Tree`). Any floating dtype; half precision is computed in float32. A logit
            may be ``-inf`` (a masked node): its leaves get probability 0 (log-probability
            ``-inf``); ``+inf`` or NaN logits give NaN.
        tree: the :class:`Tree`.

    Returns:
        ``(..., num_leaves)`` leaf log-probabilities in the input's dtype, ordered as
        ``tree.leaves``.

    Raises:
        TypeError: ``tree`` is not a :class:`Tree`, or ``logits`` is not floating.
        ValueError: the last axis of ``logits`` is not ``num_nodes - 1``.

    Example:
        >>> import torch
        >>> from companion import Tree, hierarchical_log_probs
        >>> tree = Tree([-1, 0, 0, 1, 1])  # root -> {1, 2}, 1 -> {3, 4}; leaves 2, 3, 4
        >>> p = hierarchical_log_probs(torch.zeros(4), tree).exp()
        >>> [round(v, 3) for v in p.tolist()]
        [0.5, 0.25, 0.25]

    References:
        Morin and Bengio (2005), *Hierarchical probabilistic neural network language model*,
        https://proceedings.mlr.press/r5/morin05a.html.

    See also:
        Chapter 7, hierarchical classification.
    """
    _check_tree_logits(logits, tree)
    return _leaf_log_probs(_conditional_log_probs(logits, tree), tree).to(logits.dtype)


def hierarchical_cross_entropy(logits, target, tree, *, reduction="mean"):
    r"""Cross-entropy of a tree of softmaxes: the sum of the local losses on the true path.

    .. math::

        \ell = -\log P(\ell^\star \mid x)
             = \sum_{v \in \operatorname{path}(\ell^\star) \setminus \{r\}}
               -\log \operatorname{softmax}\bigl(z_{\operatorname{ch}(\operatorname{pa}(v))}\bigr)_v

    Only the sibling groups on the true path enter the loss, so only their logits receive
    gradient, equal to :math:`P(c \mid \operatorname{pa}(c)) - \mathbb 1[c \in
    \operatorname{path}]` within each group; every other logit gets exactly zero.

    Args:
        logits: ``(..., num_nodes - 1)`` node logits (see :class:`Tree`), any floating dtype
            (half precision computed in float32); each sibling group is shifted by its maximum,
            so the loss keeps its relative accuracy at logits of size 1e4. ``-inf`` marks a
            masked node: the loss is ``+inf`` if the target's path goes through one.
        target: ``(...)`` integer class indices into ``tree.leaves``.
        tree: the :class:`Tree`.
        reduction: ``"mean"`` | ``"sum"`` | ``"none"``.

    Returns:
        A scalar for ``"mean"`` and ``"sum"``; the ``(...)`` per-example losses for ``"none"``.

    Raises:
        TypeError: ``tree`` is not a :class:`Tree`, ``logits`` is not floating, or ``target``
            is not an integer tensor.
        ValueError: the logits do not have ``num_nodes - 1`` entries, ``target`` has the wrong
            shape or an index outside ``[0, num_leaves)``, or ``reduction`` is unknown.

    Example:
        >>> import torch
        >>> from companion import Tree, hierarchical_cross_entropy
        >>> tree = Tree([-1, 0, 0, 1, 1])
        >>> z = torch.tensor([[1.0, 0.0, 2.0, 0.0]])
        >>> round(hierarchical_cross_entropy(z, torch.tensor([1]), tree).item(), 4)
        0.4402

    References:
        Morin and Bengio (2005), *Hierarchical probabilistic neural network language model*,
        https://proceedings.mlr.press/r5/morin05a.html.

    See also:
        Chapter 7, hierarchical classification.
    """
    _check_tree_logits(logits, tree)
    C.check_reduction(reduction)
    C.check_tensor(target, "target")
    if target.is_floating_point() or target.is_complex() or target.dtype == torch.bool:
        raise TypeError(f"target must hold integer leaf indices, got dtype {target.dtype}")
    if target.shape != logits.shape[:-1]:
        raise ValueError(f"target has shape {tuple(target.shape)} but logits have shape "
                         f"{tuple(logits.shape)}; target must have shape {tuple(logits.shape[:-1])}")
    C.check_same_device("logits", logits, "target", target)
    if target.numel():
        lo, hi = int(target.min()), int(target.max())
        if hi >= tree.num_leaves or lo < 0:
            bad = hi if hi >= tree.num_leaves else lo
            raise ValueError(f"target has leaf index {bad} but the tree has {tree.num_leaves} leaves")
    t = target.long()
    loss = _path_cross_entropy(logits, t, tree)
    if bool(torch.isnan(loss).any()):
        # a group of only -inf logits, or a +inf or NaN logit, on some row's path: the full
        # conditional log-probabilities, which give a masked node -inf (and keep NaN as NaN)
        cond = _conditional_log_probs(logits, tree)
        _, _, paths, _ = tree._tensors(logits.device)
        padded = torch.cat([cond, torch.zeros_like(cond[..., :1])], -1)
        loss = -padded.gather(-1, paths[t]).sum(-1)
    return C.reduce(loss, reduction).to(logits.dtype)


def _path_cross_entropy(logits, target, tree):
    """Per-row loss from the sibling groups on the true path only, never the whole tree.

    For each depth d the row's group ``g`` and the path's node ``v`` in it give
    ``-log softmax(z_g)_v = (m - z_v) + log sum exp(z_g - m)`` with ``m = max z_g``: the
    difference ``m - z_v`` is exact for nearby logits and the sum lies in ``[1, M]``, so the
    digits survive at logits of size 1e4. ``m`` is held constant for autograd (its
    derivative cancels), so the gradient is the group's softmax minus the one-hot, on the
    path's groups only. Work and memory are ``O(N D M)``, against ``O(N V)`` for the full
    conditional log-probabilities; backward scatters into one zero ``(N, V)`` gradient.
    A row whose path has a group of only -inf logits, or a +inf or NaN logit in one of its
    groups, comes out NaN; the caller then redoes the batch.
    """
    cols, real, node = tree._path_tensors(logits.device)
    z = logits.to(C.compute_dtype(logits))
    lead = z.shape[:-1]
    z2 = z.reshape(-1, z.shape[-1])
    t = target.reshape(-1)
    g_cols, g_real, g_node = cols[t], real[t], node[t]          # (n, D, M), (n, D, M), (n, D)
    n, d, m = g_cols.shape
    zg = z2.gather(-1, g_cols.reshape(n, d * m)).reshape(n, d, m)
    # padding: -inf in a short group; a depth below the leaf becomes [0, -inf, ...]
    below = ~g_real[..., 0]
    fill = torch.full_like(zg, float("-inf"))
    fill[..., 0] = torch.where(below, 0.0, float("-inf"))
    zg = torch.where(g_real, zg, fill)
    top = zg.detach().amax(-1, keepdim=True)                       # (n, D, 1)
    z_v = zg.gather(-1, g_node.unsqueeze(-1))                      # (n, D, 1)
    per_depth = (top - z_v).squeeze(-1) + (zg - top).exp().sum(-1).log()
    return per_depth.sum(-1).reshape(lead)


def adjacent_js_penalty(logits, *, mask=None):
    r"""Mean Jensen-Shannon divergence between the predictions at neighbouring positions.

    .. math::

        R = \frac{1}{|\mathcal P|} \sum_{(b, i) \in \mathcal P}
            \mathrm{JS}\bigl(\operatorname{softmax}(z_{b,i}),\ \operatorname{softmax}(z_{b,i+1})\bigr)

    where :math:`\mathcal P` holds the adjacent pairs :math:`(i, i+1)` whose positions are both
    valid. Added to the per-position cross-entropy with a weight :math:`\lambda`, it discourages
    isolated predictions such as C-H-C that a per-position loss cannot see.

    Args:
        logits: ``(B, L, K)`` sequence logits (more leading axes are allowed: positions are
            axis ``-2``); half precision is computed in float32.
        mask: optional boolean ``(B, L)`` (``logits.shape[:-1]``); ``True`` marks a valid
            position, e.g. not padding. A pair counts only if both of its positions are valid.

    Returns:
        A scalar in the input's dtype, in ``[0, log 2]``; 0 with zero gradient when no pair
        counts (``L == 1`` or everything masked).

    Raises:
        TypeError: ``logits`` is not floating or ``mask`` is not boolean.
        ValueError: ``logits`` has fewer than 2 dimensions or ``mask`` has the wrong shape.

    Example:
        >>> import torch
        >>> from companion import adjacent_js_penalty
        >>> z = 20.0 * torch.eye(3)[torch.tensor([[0, 0, 1, 0]])]  # confident C-C-H-C
        >>> # two of three pairs switch: (2/3) log 2
        >>> round(adjacent_js_penalty(z).item(), 4)
        0.4621

    References:
        Lin (1991), *Divergence measures based on the Shannon entropy*,
        https://doi.org/10.1109/18.61115.

    See also:
        Chapter 8, structured prediction (protein secondary structure).
    """
    C.check_logits(logits, min_dim=2)
    if mask is not None:
        C.check_tensor(mask, "mask")
        if mask.dtype != torch.bool:
            raise TypeError(f"mask must be a boolean tensor, got dtype {mask.dtype}")
        if mask.shape != logits.shape[:-1]:
            raise ValueError(f"mask has shape {tuple(mask.shape)} but must have shape "
                             f"{tuple(logits.shape[:-1])}, the logits without the class axis")
        C.check_same_device("logits", logits, "mask", mask)
    z = logits.to(C.compute_dtype(logits))
    js = js_divergence(z[..., :-1, :], z[..., 1:, :])  # (..., L - 1)
    if mask is None:
        counted = torch.tensor(float(js.numel()), device=z.device)
    else:
        pair = mask[..., :-1] & mask[..., 1:]
        js = torch.where(pair, js, torch.zeros_like(js))
        counted = pair.sum()
    return C.reduce(js, "mean", counted).to(logits.dtype)
