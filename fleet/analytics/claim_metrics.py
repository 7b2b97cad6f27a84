"""What each claim metric measures, and how it is read from the store. Pure pandas.

A metric handler takes the claim's subject(s) and a ``StoreView`` at a date and returns a
``Measurement``: the figure to compare (or None with the reason it cannot be had) plus
every figure used, each with the estimate or model-run ids it came from. Absence of
estimates is never read as zero: an organisation without estimates of the chips a
metric counts gives *no* figure.

Metrics (``*`` = any chip-family tokens joined by ``_``, e.g. ``a100_h100``, ``tpuv5``):

- ``*_count``: chips of those families the subject holds at the date (``gpu_count``:
  NVIDIA and AMD accelerators);
- ``*_rank``: the subject's rank by that count among tracked organisations;
- ``*_count_vs_sum_of_gpu_counts``: "X vs A+B+C": X's count ÷ the sum of A, B, C's GPUs;
- ``h100e``: H100-equivalents (8-bit basis, Epoch AI's rule);
- ``largest_training_run_flop_vs_gpt4``: the subject's largest reported training run
  (its model runs and its subsidiaries', published by the date) ÷ GPT-4's;
- ``trainable_run_flop_vs_gpt4``: what its largest cluster could train (MFU 40 %,
  90 days) ÷ GPT-4's;
- ``training_flop_ratio_<a>_<b>``: model a's training compute ÷ model b's.

Counts follow the combining rule with capacity attributed to its *user* (who trains on
the chips, as claims about "having" GPUs mean), so leased clusters count once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Callable

import pandas as pd

from fleet.analytics.combine import H100E_ONLY
from fleet.analytics.fleet import FleetState, fleet_state
from fleet.analytics.projection import RunSettings, find_model_run, trainable_run_flop
from fleet.analytics.compute_series import chip_flops
from fleet.chips import Basis
from fleet.names import name_key

GPU_VENDORS = ("nvidia", "amd")
CLAIM_RUN = RunSettings()  # MFU 40 %, 90 days, largest cluster


CLAIMS_BASIS, CLAIMS_ATTRIBUTE_TO = Basis.EIGHT_BIT, "user"


@dataclass(frozen=True)
class StoreView:
    """What the store knew at one moment (``known_at``; None = now): the frames a claim reads.

    Claims read fleets through ``state(as_of)`` (H100e on the 8-bit basis, leased capacity
    under its user). ``states``, if given, supplies those instead of combining ``estimates``
    here: the app passes its cached (and materialised) fleet states for the same settings.
    """

    estimates: pd.DataFrame | None
    chips: pd.DataFrame
    organisations: pd.DataFrame
    model_runs: pd.DataFrame
    known_at: datetime | None = None
    states: Callable[[date], FleetState] | None = field(default=None, compare=False, repr=False)
    _states: dict = field(default_factory=dict, compare=False, repr=False)

    def state(self, as_of: date) -> FleetState:
        if as_of not in self._states:
            self._states[as_of] = self.states(as_of) if self.states is not None else fleet_state(
                self.estimates, self.chips, self.organisations, as_of=as_of, basis=CLAIMS_BASIS,
                attribute_to=CLAIMS_ATTRIBUTE_TO)
        return self._states[as_of]


@dataclass
class Figure:
    label: str
    value: float | None
    unit: str
    as_of: date | None = None
    estimate_ids: tuple[int, ...] = ()
    model_run_ids: tuple[int, ...] = ()
    note: str = ""


@dataclass
class Measurement:
    value: float | None
    figures: list[Figure] = field(default_factory=list)
    missing: str = ""  # why there is no value
    lower_bound: bool = False  # the true value can only be higher (world totals from tracked fleets)


def compact(text: str) -> str:
    return re.sub(r"[^0-9a-z]", "", name_key(text))


def family_chips(chips: pd.DataFrame, tokens: list[str]) -> pd.Index:
    """Chip ids whose family (or, without one, name) matches any token (``gpu`` = NVIDIA/AMD)."""
    vendor = chips["vendor"].fillna("").map(compact)
    family = chips["family"].fillna("").map(compact)
    name = chips["name"].map(compact)
    hit = pd.Series(False, index=chips.index)
    for token in tokens:
        if token == "gpu":
            hit |= vendor.isin(GPU_VENDORS)
        else:
            hit |= family.str.startswith(token) & (family != "") | (family == "") & name.str.contains(token)
    return pd.Index(chips.loc[hit, "id"].astype("int64"))


def _counted(state: FleetState, holder_id: int, chip_ids) -> pd.DataFrame:
    c = state.contributions
    return c.loc[c["counted"] & (c["holder_id"] == holder_id) & c["chip_key"].isin(chip_ids)]


def chip_count(view: StoreView, holder_id: int, name: str, tokens: list[str], as_of: date) -> Measurement:
    state = view.state(as_of)
    ids = family_chips(view.chips, tokens)
    rows = state.by_chip.loc[(state.by_chip["holder_id"] == holder_id) & state.by_chip["chip_key"].isin(ids)]
    label = f"{name}: {'/'.join(t.upper() for t in tokens)} chips"
    if rows.empty:
        only_h100e = ((state.by_chip["holder_id"] == holder_id) & (state.by_chip["chip_key"] == H100E_ONLY)).any()
        why = "only H100-equivalents, no chip counts" if only_h100e else "no estimates of these chips"
        return Measurement(None, missing=f"{name}: {why} by {as_of.isoformat()}")
    used = tuple(sorted(_counted(state, holder_id, ids)["id"].astype(int)))
    figure = Figure(label, float(rows["qty"].sum()), "chips", as_of, used,
                    note=f"range {rows['low'].sum():,.0f}–{rows['high'].sum():,.0f}")
    return Measurement(figure.value, [figure])


def all_counts(view: StoreView, tokens: list[str], as_of: date) -> pd.Series:
    """Chips of these families per tracked organisation (unattributed holders left out)."""
    state = view.state(as_of)
    ids = family_chips(view.chips, tokens)
    rows = state.by_chip.loc[state.by_chip["chip_key"].isin(ids)]
    kinds = view.organisations.set_index("id")["kind"]
    rows = rows.loc[rows["holder_id"].map(kinds) != "unattributed"]
    return rows.groupby("holder_id")["qty"].sum().sort_values(ascending=False)


def world_count(view: StoreView, tokens: list[str], as_of: date) -> Measurement:
    state = view.state(as_of)
    ids = family_chips(view.chips, tokens)
    rows = state.by_chip.loc[state.by_chip["chip_key"].isin(ids)]
    if rows.empty:
        return Measurement(None, missing=f"no estimates of these chips by {as_of.isoformat()}")
    c = state.contributions
    used = tuple(sorted(c.loc[c["counted"] & c["chip_key"].isin(ids), "id"].astype(int)))
    figure = Figure(f"all tracked organisations: {'/'.join(t.upper() for t in tokens)} chips",
                    float(rows["qty"].sum()), "chips", as_of, used,
                    note=f"{rows['holder_id'].nunique()} holders; tracked fleets are a lower bound of the world")
    return Measurement(figure.value, [figure], lower_bound=True)


def rank(view: StoreView, holder_id: int, name: str, tokens: list[str], as_of: date) -> Measurement:
    mine = chip_count(view, holder_id, name, tokens, as_of)
    if mine.value is None:
        return mine
    counts = all_counts(view, tokens, as_of)
    position = int((counts > mine.value).sum()) + 1
    names = view.organisations.set_index("id")["name"]
    ahead = ", ".join(f"{names.get(h, h)} {v:,.0f}" for h, v in counts.head(max(position, 3)).items())
    figure = Figure(f"{name}: rank by {'/'.join(t.upper() for t in tokens)} chips", float(position), "rank", as_of,
                    mine.figures[0].estimate_ids, note=f"top: {ahead}")
    return Measurement(float(position), [*mine.figures, figure])


def h100e(view: StoreView, holder_id: int, name: str, as_of: date) -> Measurement:
    state = view.state(as_of)
    row = state.holders.loc[state.holders["holder_id"] == holder_id]
    if row.empty:
        return Measurement(None, missing=f"{name}: no estimates by {as_of.isoformat()}")
    r = row.iloc[0]
    c = state.contributions
    used = tuple(sorted(c.loc[c["counted"] & (c["holder_id"] == holder_id), "id"].astype(int)))
    figure = Figure(f"{name}: H100e (8-bit basis)", float(r["h100e"]), "H100e", as_of, used,
                    note=f"range {r['h100e_low']:,.0f}–{r['h100e_high']:,.0f}")
    return Measurement(figure.value, [figure])


def gpt4_figure(view: StoreView) -> tuple[Figure | None, str]:
    run = find_model_run(view.model_runs, "GPT-4")
    if run is None:
        return None, "the store has no model run named GPT-4 to compare with"
    return Figure("GPT-4 training compute", float(run["training_flop"]), "FLOP", None,
                  model_run_ids=(int(run["id"]),)), ""


def family_ids(organisations: pd.DataFrame, holder_id: int) -> set[int]:
    """The organisation and its subsidiaries (parent links followed down)."""
    found, frontier = {holder_id}, {holder_id}
    parents = organisations.set_index("id")["parent_id"]
    while frontier:
        frontier = {int(i) for i, p in parents.items() if pd.notna(p) and int(p) in frontier} - found
        found |= frontier
    return found


def largest_run_vs_gpt4(view: StoreView, holder_id: int, name: str, as_of: date) -> Measurement:
    gpt4, why = gpt4_figure(view)
    if gpt4 is None:
        return Measurement(None, missing=why)
    runs = view.model_runs
    mine = runs.loc[runs["organisation_id"].isin(family_ids(view.organisations, holder_id))
                    & (runs["published_on"] <= pd.Timestamp(as_of))]
    context = trainable_vs_gpt4(view, holder_id, name, as_of, gpt4).figures
    if mine.empty:
        return Measurement(None, [gpt4, *context], missing=f"{name}: no model runs published by {as_of.isoformat()}")
    top = mine.sort_values("training_flop").iloc[-1]
    run = Figure(f"{name}: largest reported run ({top['name']}, {top['published_on']:%Y-%m-%d})",
                 float(top["training_flop"]), "FLOP", as_of, model_run_ids=(int(top["id"]),))
    ratio = run.value / gpt4.value
    return Measurement(ratio, [run, gpt4, Figure("ratio to GPT-4", ratio, "× GPT-4", as_of), *context])


def trainable_vs_gpt4(view: StoreView, holder_id: int, name: str, as_of: date,
                      gpt4: Figure | None = None) -> Measurement:
    gpt4 = gpt4 or gpt4_figure(view)[0]
    state = view.state(as_of)
    rows = state.by_chip.loc[state.by_chip["holder_id"] == holder_id]
    if gpt4 is None or rows.empty:
        return Measurement(None, missing=f"{name}: no estimates by {as_of.isoformat()}" if gpt4 else
                           gpt4_figure(view)[1])
    flops = chip_flops(view.chips, "bf16")
    fleet = float((rows["qty"] * rows["chip_key"].map(flops)).sum())
    clusters = state.contributions.loc[(state.contributions["holder_id"] == holder_id)
                                       & (state.contributions["component"] == "cluster")]
    per_cluster = (clusters["qty"] * clusters["chip_key"].map(flops)).groupby(clusters["cluster_key"]).sum()
    biggest = min(float(per_cluster.max()), fleet) if len(per_cluster) else fleet
    run_flop = trainable_run_flop(biggest, CLAIM_RUN.mfu, CLAIM_RUN.days)
    c = state.contributions
    used = tuple(sorted(c.loc[c["counted"] & (c["holder_id"] == holder_id), "id"].astype(int)))
    figure = Figure(f"{name}: trainable run ({CLAIM_RUN.describe()}, BF16)", run_flop, "FLOP", as_of, used,
                    note=f"{run_flop / gpt4.value:.2f}× GPT-4 (capacity, context only)")
    return Measurement(run_flop / gpt4.value, [figure])


def model_by_token(model_runs: pd.DataFrame, token: str) -> tuple[pd.Series | None, str]:
    """The one model run a token like ``gpt3`` names (exact compact name, else prefix; milestones first)."""
    keys = model_runs["name"].map(compact)
    hits = model_runs.loc[keys == token]
    if hits.empty:
        hits = model_runs.loc[keys.str.startswith(token)]
        if len(hits) > 1 and hits["milestone"].fillna(False).astype(bool).any():
            hits = hits.loc[hits["milestone"].fillna(False).astype(bool)]
    if len(hits) == 1:
        return hits.iloc[0], ""
    if hits.empty:
        return None, f"no model run matches {token!r}"
    return None, f"{token!r} is ambiguous: {', '.join(hits['name'])}"


def training_flop_ratio(view: StoreView, a: str, b: str, as_of: date) -> Measurement:
    figures = []
    for token in (a, b):
        run, why = model_by_token(view.model_runs, token)
        if run is None:
            return Measurement(None, figures, missing=why)
        figures.append(Figure(f"{run['name']} training compute", float(run["training_flop"]), "FLOP", None,
                              model_run_ids=(int(run["id"]),)))
    ratio = figures[0].value / figures[1].value
    return Measurement(ratio, [*figures, Figure(f"ratio {figures[0].label.split(' training')[0]} / "
                                                f"{figures[1].label.split(' training')[0]}", ratio, "ratio", as_of)])


# metric pattern -> (kind of subject, handler factory); see fleet.analytics.claims
PATTERNS: list[tuple[re.Pattern, str, Callable]] = [
    (re.compile(r"^largest_training_run_flop_vs_gpt4$"), "orgs",
     lambda m: lambda view, hid, name, as_of: largest_run_vs_gpt4(view, hid, name, as_of)),
    (re.compile(r"^trainable_run_flop_vs_gpt4$"), "orgs",
     lambda m: lambda view, hid, name, as_of: trainable_vs_gpt4(view, hid, name, as_of)),
    (re.compile(r"^h100e$"), "orgs", lambda m: lambda view, hid, name, as_of: h100e(view, hid, name, as_of)),
    (re.compile(r"^([a-z0-9]+(?:_[a-z0-9]+)*)_count_vs_sum_of_gpu_counts$"), "versus",
     lambda m: m.group(1).split("_")),
    (re.compile(r"^([a-z0-9]+(?:_[a-z0-9]+)*)_rank$"), "orgs",
     lambda m: lambda view, hid, name, as_of: rank(view, hid, name, m.group(1).split("_"), as_of)),
    (re.compile(r"^training_flop_ratio_([a-z0-9]+)_([a-z0-9]+)$"), "models",
     lambda m: lambda view, as_of: training_flop_ratio(view, m.group(1), m.group(2), as_of)),
    (re.compile(r"^([a-z0-9]+(?:_[a-z0-9]+)*)_count$"), "orgs_or_world", lambda m: m.group(1).split("_")),
]


def match_metric(metric: str) -> tuple[str, object] | None:
    for pattern, kind, make in PATTERNS:
        found = pattern.match(metric.strip())
        if found:
            return kind, make(found)
    return None
