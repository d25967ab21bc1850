"""The book's one figure style: sizes for a page, retina resolution, colour-blind-safe cycles.

Every chapter calls :func:`use_book_style` once, right after its imports. The palette is
Okabe and Ito's eight colours, which stay distinguishable under the common colour-vision
deficiencies; every line also gets its own line style (and markers where the data are
sparse), so no two series differ by colour alone.

See also: Chapter 1, the first to use it; the Preface on how figures are drawn.
"""
from __future__ import annotations

__all__ = ["OKABE_ITO", "LINESTYLES", "MARKERS", "use_book_style"]

#: Okabe & Ito (2008): black, orange, sky blue, bluish green, yellow, blue, vermillion,
#: reddish purple, reordered so that the first colours are the most distinct
OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000",
             "#F0E442"]
#: one line style per colour, so the cycle never relies on colour alone
LINESTYLES = ["-", "--", "-.", ":", (0, (5, 1.5, 1, 1.5, 1, 1.5)), (0, (1, 1)),
              (0, (8, 2)), (0, (3, 1, 1, 1))]
#: markers in the same order, for scatter plots and sparse lines (``marker=MARKERS[i]``)
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]


def use_book_style() -> None:
    """Set matplotlib's rcParams (and, in IPython, retina PNG output) for the book's figures.

    Fonts are sized for a figure about 7 inches wide shown at full column width: 11 pt text,
    10 pt ticks and legends. Figures are drawn at 100 dpi and stored at twice that (retina), so
    they stay sharp on high-density screens and when a phone reader zooms.

    Example:
        >>> from companion.plotting import use_book_style
        >>> use_book_style()
        >>> import matplotlib as mpl
        >>> mpl.rcParams["font.size"]
        11.0
    """
    import matplotlib as mpl
    from cycler import cycler

    mpl.rcParams.update({
        "figure.figsize": (7.0, 3.2),
        "figure.dpi": 100,
        "savefig.dpi": 200,
        "figure.constrained_layout.use": True,
        "font.size": 11.0,
        "axes.titlesize": 11.0,
        "axes.labelsize": 11.0,
        "xtick.labelsize": 10.0,
        "ytick.labelsize": 10.0,
        "legend.fontsize": 10.0,
        "legend.framealpha": 0.85,
        "lines.linewidth": 1.8,
        "lines.markersize": 5.0,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "image.cmap": "viridis",
        "axes.prop_cycle": cycler(color=OKABE_ITO) + cycler(linestyle=LINESTYLES),
        # PNG metadata without a timestamp keeps stored notebooks byte-identical across runs
        "svg.hashsalt": "cross-entropy-in-practice",
    })
    try:  # inline figures at twice the pixel density (no-op outside IPython)
        from IPython import get_ipython
        if get_ipython() is not None:
            from matplotlib_inline.backend_inline import set_matplotlib_formats
            set_matplotlib_formats("retina")
    except ImportError:
        pass
