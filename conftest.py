"""Repository-wide pytest configuration.

nbval executes cells with ``store_history=False``. IPython decides whether a trailing ``;``
silences a cell's result by looking at the last cell *stored in the history*, so under nbval the
semicolon that ends a plotting line stops working and stray reprs such as
``<matplotlib.legend.Legend at 0x...>`` appear that Jupyter, Jupyter Book and
``make notebooks`` (all ``store_history=True``) never produce. Executing with history, as those
do, makes nbval compare what a reader actually sees.

The stored notebooks were executed in the environment of scripts/reference_numerics.env, so a run
with ``--nbval`` sets the same variables before its first kernel starts.
"""
import pathlib
import sys
try:
    from nbval.kernel import RunningKernel
except ImportError:  # nbval not installed: nothing to adjust
    RunningKernel = None

if RunningKernel is not None:
    def _execute_cell_input(self, cell_input, allow_stdin=None):
        return self.kc.execute(cell_input, store_history=True, allow_stdin=allow_stdin,
                               stop_on_error=False)

    RunningKernel.execute_cell_input = _execute_cell_input


def pytest_configure(config):
    if config.getoption("--nbval", default=False):
        sys.path.insert(0, str(pathlib.Path(__file__).parent / "scripts"))
        from reference_numerics import apply
        apply()
