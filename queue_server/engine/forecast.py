"""A state-aware, learned wait forecast: forward Monte Carlo from the branch's state.

Pure standard library; no clock (time comes in ``ForecastInput.now``), no global
random (``random.Random(seed)``), no I/O: it returns data.

Model
-----
The branch is simulated forward from ``now`` (t0) through the engine's one ordering
rule: the static part of each counter's key (sent to this counter, service rank,
front flag) is taken from ``ordering.sort_key`` and eligibility from
``ordering.is_eligible``; the dynamic part (a normal ticket that starves joins the
priority tier, the interleave turn after ``priority_burst`` priority calls, then
arrival and id) follows ``ordering``'s rule. The tests replay simulated call
sequences through ``ordering.next_for_counter``.

* Counters: CLOSED never serve. OPEN ones call at once (the one free the longest
  first; the same when an arrival finds several idle). A counter holding a ticket
  is busy for the RESIDUAL holding time given how long it has held it (since the
  ticket's ``called_at``). A PAUSED counter comes back after the residual of a
  learned break length given how long it has been paused (prior
  ``PAUSE_PRIOR_MINUTES``, learned from the day's finished breaks; or never, with
  ``Learned.start(pause_prior_minutes=None)``), then calls like any free counter.
  Future breaks and closings are not foreseen.
* Holding times (call to finish: what keeps a counter from calling the next one),
  per service, ``ServiceTimes``: a blend of a prior lognormal (the service's
  ``prior_service_minutes`` with weight ``EXPLICIT_PRIOR_WEIGHT``, else the branch
  default ``Policy.default_service_minutes`` with weight ``DEFAULT_PRIOR_WEIGHT``)
  and the service's recent durations resampled as they are (a Dirichlet-process
  predictive: any shape, lognormal, gamma, exponential, is kept; the weight moves
  from the prior to the data as observations arrive). A service never borrows
  another service's mean; only the coefficient of variation of the prior's
  lognormal is pooled. Once a service has durations, its law is the Bayesian model
  average of that blend and a lognormal (pooled log-variance, log-mean updated from
  the prior's by the observations' logs), weighted by how well a lognormal rather
  than a gamma (shape pooled over services; exponential = shape 1) fits the
  branch's durations (``ServiceTimes.shape_evidence``, from running sums). Durations outside 10 s .. 2 h are ignored. A learned share
  of no-shows holds the counter for a learned no-show time instead.
* Arrivals (``ArrivalRates``): per service an exponentially weighted rate
  (half-life ``ARRIVAL_HALF_LIFE_MINUTES``) times a priority share (the service's,
  shrunk to the branch's), constant over the horizon. An arrival class is
  simulated only while it may be called before a ticket still being measured at a
  counter that may call both (its tier or the counter's service rank puts it
  first): the others cannot change a measured wait (exact), and their rate is
  dropped (Poisson thinning, memoryless) as the measured tickets are called.
* Probes: per service and tier (normal; priority = elderly, disabled, pregnant) a
  zero-duration ticket queued at t0 after everyone present. A counter that would
  call a probe records the call and goes on with its real choice: probes never
  disturb the others. A probe is called ``PROBE_DEPTH + 1`` times: the j-th call is
  the wait of a new ticket with j more tickets ahead of it (the counter that made
  a call stays taken by that extra ticket until it is free again; a counter with
  nothing real to do serves a phantom of the probe's service meanwhile).

Cost bounds
-----------
A replication ends when every waiting ticket is called and every probe has its
calls; or at ``CALL_CAP`` calls / ``HORIZON_MINUTES``, and the tickets not reached
are then placed by a fluid rule ((tickets ahead at the best counter + 1) / calls
per minute the counters that may call them made in the replication). The number
of replications R is the budget of ``WORK_BUDGET`` simulated events (calls and
arrivals) over the first replication's count, between ``MIN_REPLICATIONS`` and
``DEFAULT_REPLICATIONS``. The default seed is fixed: common random numbers across
forecasts, which then differ by the branch's state, not by noise.

Monte Carlo noise
-----------------
Every draw is one uniform through an inverse transform, taken from a stream of its
own: one per counter (its holdings, in order; a busy counter's residual first) and
one for arrivals, so the j-th holding of counter k uses the same coordinate in every
replication. Across the R replications each coordinate is a randomly shifted
rank-1 lattice (``u = v + r z / R`` mod 1, ``z`` coprime with R): each replication's
draws are independent uniforms (unbiased), and over the replications each
coordinate takes one value in each 1/R stratum (the sum of the holdings ahead of a
ticket, most of its wait, is stratified). A new ticket's mean wait is corrected by
a control variate: per replication, the holdings its counters drew after the first
counter event minus their means. That sum is a martingale stopped at the ticket's
call, of mean zero even among the replications a later read keeps (their first
counter event is after the read: a fact of the draws before it), so mean(wait) -
beta x mean(control), beta the regression slope over the kept replications, is the
same mean with less noise (``_controlled_mean``). On 45 states of replayed days the
spread of the mean across seeds fell from 0.31 to 0.23 minutes (rms).

Read path (no simulation)
-------------------------
``Forecast.new_ticket(service_id, priority, now=t, ahead_delta=k)`` and
``Forecast.waiting(ticket_id, now=t)``. A forecast made at t0 read at t > t0, when
no counter event happened in between (the caller recomputes after each batch of
committed events), is conditioned on that fact: only the replications whose first
counter event (a holding or a break that ends) is after t are kept (rejection
sampling: the exact conditional law of the residuals), and the wait is counted
from t, ``max(0, call - t)``. When fewer than ``MIN_KEPT`` (or R/8) replications
qualify, those whose first event is the latest are used. Arrivals are not part of
the condition (Poisson arrivals are memoryless; the tickets issued since t0 are
counted by ``ahead_delta``). ``ahead_delta`` = how many more tickets are ahead of
the new ticket at t than were ahead of the probe at t0 (``Forecast.ahead``, the
same count as ``ordering.people_ahead``): the probe's k-th call for 0 <= k <=
PROBE_DEPTH; beyond, the last call plus (k - PROBE_DEPTH) times the mean simulated
per-position increment (last call minus the one before); a negative delta (calls
happened since t0) takes that many first increments off, floored at 0. The wait
is non-decreasing in ``ahead_delta``.

Estimates: ``minutes`` is the mean over the kept replications (unbiased), ``low``
/ ``high`` the 20th / 80th percentiles, ``median``, and ``printed`` = ``minutes``
rounded half up: whole minutes whose bias against the real wait is about 0 (a
ceiling adds +0.5 min on average, a floor -0.5).
"""
from __future__ import annotations

import bisect
import heapq
import math
import random
from dataclasses import dataclass, field, replace
from datetime import datetime
from statistics import NormalDist
from typing import Mapping

from .model import Counter, CounterState, Policy, PriorityClass, Ticket, TicketStatus
from .ordering import is_eligible, sort_key

# --- constants (documented choices, not fitted to any data set) ------------
MIN_DURATION_S = 10.0
MAX_DURATION_S = 7200.0
DEFAULT_CV = 0.7                 # shape of a prior when none is given (coefficient of variation)
DEFAULT_PRIOR_WEIGHT = 1.0       # pseudo-observations of the branch default (a guess)
EXPLICIT_PRIOR_WEIGHT = 3.0      # pseudo-observations of a per-service prior from the branch file
RECENT_WINDOW = 200              # observations kept per service (the learned distribution)
NO_SHOW_PRIOR_MINUTES = 1.5      # counter time lost to a no-show before any is seen
PAUSE_PRIOR_MINUTES = 30.0       # a break's length before any break has ended today
PAUSE_PRIOR_CV = 0.5
ARRIVAL_HALF_LIFE_MINUTES = 45.0
ARRIVAL_PRIOR_EXPOSURE_MINUTES = 15.0  # a rate of none yet, worth 15 minutes: the burst at
                                      # the door at opening is a backlog, not a rate
PRIORITY_SHARE_PRIOR = (0.5, 4.5)  # Beta(a, b): a weak 10 % prior on the priority share
PRIORITY_SHARE_SHRINK = 10.0     # pseudo-tickets pulling a service's share to the branch's

DEFAULT_REPLICATIONS = 64       # at most (a quiet branch); see WORK_BUDGET
PROBE_DEPTH = 1                  # a probe answers ahead_delta 0..PROBE_DEPTH exactly
CALL_CAP = 300                   # simulated calls per replication, at most
WORK_BUDGET = 3000               # simulated events per forecast, about (see forecast())
MIN_REPLICATIONS = 8
HORIZON_MINUTES = 600.0
MIN_KEPT = 8
LOW_Q, HIGH_Q = 0.2, 0.8
CONTROL_BETA_MAX = 1.5           # a control variate's slope, bounded (see _controlled_mean)

_ND = NormalDist()
_INF = float("inf")


def _minutes(a: datetime, b: datetime) -> float:
    """b - a in minutes."""
    return (b - a).total_seconds() / 60.0


def _lognormal(mean: float, cv: float) -> tuple[float, float]:
    s2 = math.log(1.0 + cv * cv)
    return math.log(max(mean, 1e-6)) - s2 / 2.0, math.sqrt(s2)


# --- learned durations ----------------------------------------------------------

@dataclass(frozen=True)
class Durations:
    """A learned duration distribution (minutes): a prior blended with observations.

    The predictive law is the mixture ``w0/(w0+n)`` x base + ``n/(w0+n)`` x the
    observed values (n = observations kept, newest ``window``). The base is a
    lognormal whose mean is the prior mean shrunk to the data's mean (weights w0
    and n) and whose coefficient of variation is ``cv`` (the prior's, or a pooled
    one given by the caller): as observations arrive the law moves from the prior
    to the observed distribution, whatever its shape.
    """

    prior_mean: float
    prior_cv: float = DEFAULT_CV
    prior_weight: float = DEFAULT_PRIOR_WEIGHT
    recent: tuple = ()
    window: int = RECENT_WINDOW
    sums: tuple = (0.0, 0.0, 0.0)   # of x, log x, (log x)^2 over ``recent``

    def observe(self, minutes: float) -> "Durations":
        x = float(minutes)
        rec = self.recent + (x,)
        sx, sl, sl2 = self.sums
        lx = math.log(x)
        sx, sl, sl2 = sx + x, sl + lx, sl2 + lx * lx
        if len(rec) > self.window:
            for y in rec[:-self.window]:
                ly = math.log(y)
                sx, sl, sl2 = sx - y, sl - ly, sl2 - ly * ly
            rec = rec[-self.window:]
        return replace(self, recent=rec, sums=(sx, sl, sl2))

    @property
    def n(self) -> int:
        return len(self.recent)

    @property
    def mean(self) -> float:
        """Mean of the predictive law."""
        w0, n = self.prior_weight, len(self.recent)
        return (w0 * self._base_mean() + sum(self.recent)) / (w0 + n) if n else self.prior_mean

    def _base_mean(self) -> float:
        w0, n = self.prior_weight, len(self.recent)
        return (w0 * self.prior_mean + sum(self.recent)) / (w0 + n)

    def data_cv(self) -> tuple[float, int]:
        """(sample coefficient of variation, n) of the observations."""
        n = len(self.recent)
        if n < 2:
            return 0.0, n
        m = sum(self.recent) / n
        var = sum((x - m) ** 2 for x in self.recent) / (n - 1)
        return (math.sqrt(var) / m if m > 0 else 0.0), n

    def log_stats(self) -> tuple[int, float, float]:
        """(n, sum of logs, sum of squared deviations of the logs) of the
        observations, from running sums (no pass over the observations)."""
        n = len(self.recent)
        if not n:
            return 0, 0.0, 0.0
        _, sl, sl2 = self.sums
        return n, sl, max(sl2 - sl * sl / n, 0.0)

    def log_posterior(self, sig2: float) -> float:
        """The log-mean of lognormal durations with log-variance ``sig2``: the
        prior's (``prior_weight`` pseudo-observations at log(prior mean) - sig2/2)
        updated with the observations' logs (the normal model's conjugate update)."""
        n, sl, _ = self.log_stats()
        w0 = self.prior_weight * self.prior_weight / (self.prior_weight + n)
        return (w0 * (math.log(max(self.prior_mean, 1e-6)) - sig2 / 2.0) + sl) / (w0 + n)

    def sampler(self, cv: float | None = None) -> "_Sampler":
        return _Sampler(self._base_mean(), self.prior_cv if cv is None else cv,
                        self.prior_weight, sorted(self.recent))


class _Sampler:
    """Inverse-transform draws (one uniform each) from a ``Durations`` law."""

    __slots__ = ("mu", "sig", "w0", "obs", "n", "p0", "mean")

    def __init__(self, base_mean: float, cv: float, w0: float, obs: list):
        self.mu, self.sig = _lognormal(base_mean, max(cv, 0.05))
        self.w0, self.obs, self.n = w0, obs, len(obs)
        self.p0 = w0 / (w0 + self.n)
        self.mean = (w0 * base_mean + sum(obs)) / (w0 + self.n)

    def draw(self, u: float) -> float:
        if u < self.p0:
            z = _ND.inv_cdf(min(max(u / self.p0, 1e-9), 1 - 1e-9))
            return math.exp(self.mu + self.sig * z)
        return self.obs[min(int((u - self.p0) / (1.0 - self.p0) * self.n), self.n - 1)]

    def residual(self, elapsed: float, u: float) -> float:
        """A draw of (D - elapsed) given D > elapsed."""
        if elapsed <= 0:
            return self.draw(u)
        f0 = _ND.cdf((math.log(elapsed) - self.mu) / self.sig)
        wb = self.w0 * (1.0 - f0)
        i = bisect.bisect_right(self.obs, elapsed)
        above = self.n - i
        tot = wb + above
        if tot <= 0:
            return 0.0
        x = u * tot
        if x < wb or above == 0:
            uu = min(x / wb, 1.0) if wb > 0 else u
            p = min(max(f0 + (1.0 - f0) * uu, 1e-12), 1 - 1e-12)
            return max(math.exp(self.mu + self.sig * _ND.inv_cdf(p)) - elapsed, 0.0)
        return self.obs[min(i + int(x - wb), self.n - 1)] - elapsed


class _MixSampler:
    """Draws from p x lognormal(mu, sig) + (1 - p) x another sampler's law (one
    uniform each); residuals weigh each part by its survival past the elapsed time."""

    __slots__ = ("p", "mu", "sig", "other", "mean")

    def __init__(self, p: float, mu: float, sig: float, other: "_Sampler"):
        self.p, self.mu, self.sig, self.other = p, mu, max(sig, 0.05), other
        self.mean = p * math.exp(mu + self.sig ** 2 / 2.0) + (1.0 - p) * other.mean

    def _ln(self, u: float) -> float:
        return math.exp(self.mu + self.sig * _ND.inv_cdf(min(max(u, 1e-9), 1 - 1e-9)))

    def draw(self, u: float) -> float:
        if u < self.p:
            return self._ln(u / self.p)
        return self.other.draw((u - self.p) / (1.0 - self.p))

    def residual(self, elapsed: float, u: float) -> float:
        if elapsed <= 0:
            return self.draw(u)
        f0 = _ND.cdf((math.log(elapsed) - self.mu) / self.sig)
        o = self.other
        if o.n:
            i = bisect.bisect_right(o.obs, elapsed)
            fb = _ND.cdf((math.log(elapsed) - o.mu) / o.sig)
            s_other = (o.w0 * (1.0 - fb) + (o.n - i)) / (o.w0 + o.n)
        else:
            s_other = 1.0 - _ND.cdf((math.log(elapsed) - o.mu) / o.sig)
        a, b = self.p * (1.0 - f0), (1.0 - self.p) * s_other
        if a + b <= 0:
            return 0.0
        q = a / (a + b)
        if u < q:
            uu = min(max(f0 + (1.0 - f0) * (u / q), 1e-12), 1 - 1e-12)
            return max(math.exp(self.mu + self.sig * _ND.inv_cdf(uu)) - elapsed, 0.0)
        return o.residual(elapsed, (u - q) / (1.0 - q))


def _usable_minutes(seconds: float) -> float | None:
    if seconds is None or not (MIN_DURATION_S <= seconds <= MAX_DURATION_S):
        return None
    return seconds / 60.0


@dataclass(frozen=True)
class ServiceTimes:
    """Counter holding time per service (call to finish), learned, pure and incremental.

    ``priors``: service id -> (mean minutes, sd minutes or None), e.g. the branch
    file's ``prior_service_minutes``; a service without one uses
    ``default_minutes`` (``Policy.default_service_minutes``) as a weak prior.
    Every ``observe*`` returns a new object.
    """

    default_minutes: float = 6.0
    priors: Mapping = field(default_factory=dict)
    laws: Mapping = field(default_factory=dict)        # service id -> Durations
    served: Mapping = field(default_factory=dict)      # service id -> finished count
    no_shows: Mapping = field(default_factory=dict)    # service id -> no-show count
    no_show_time: Durations = field(
        default_factory=lambda: Durations(NO_SHOW_PRIOR_MINUTES, 0.6, 1.0))

    @classmethod
    def from_policy(cls, policy: Policy, priors: Mapping | None = None) -> "ServiceTimes":
        """``priors``: service id -> mean minutes, or (mean, sd) minutes."""
        norm = {}
        for sid, p in (priors or {}).items():
            mean, sd = (p if isinstance(p, (tuple, list)) else (p, None))
            if mean and mean > 0:
                norm[sid] = (float(mean), float(sd) if sd else None)
        return cls(default_minutes=policy.default_service_minutes, priors=norm)

    def law(self, service_id: int) -> Durations:
        if service_id in self.laws:
            return self.laws[service_id]
        if service_id in self.priors:
            mean, sd = self.priors[service_id]
            return Durations(mean, (sd / mean) if sd else DEFAULT_CV, EXPLICIT_PRIOR_WEIGHT)
        return Durations(self.default_minutes, DEFAULT_CV, DEFAULT_PRIOR_WEIGHT)

    def observe(self, service_id: int, seconds: float) -> "ServiceTimes":
        """One finished ticket: how long it held the counter (seconds)."""
        m = _usable_minutes(seconds)
        served = {**self.served, service_id: self.served.get(service_id, 0) + 1}
        if m is None:
            return replace(self, served=served)
        return replace(self, laws={**self.laws, service_id: self.law(service_id).observe(m)},
                       served=served)

    def observe_ticket(self, ticket: Ticket) -> "ServiceTimes":
        """A DONE ticket: held from ``called_at`` (else ``started_at``) to ``finished_at``."""
        since = ticket.called_at or ticket.started_at
        if ticket.finished_at is None or since is None:
            return self
        return self.observe(ticket.service_id, (ticket.finished_at - since).total_seconds())

    def observe_no_show(self, service_id: int, held_seconds: float | None) -> "ServiceTimes":
        m = _usable_minutes(held_seconds) if held_seconds is not None else None
        return replace(self, no_shows={**self.no_shows,
                                       service_id: self.no_shows.get(service_id, 0) + 1},
                       no_show_time=self.no_show_time.observe(m) if m else self.no_show_time)

    def mean_minutes(self, service_id: int) -> float:
        return self.law(service_id).mean

    def no_show_share(self, service_id: int) -> float:
        k = self.no_shows.get(service_id, 0)
        return k / (k + self.served.get(service_id, 0) + 2.0)

    def shape_evidence(self, prior_cv: float = DEFAULT_CV) -> tuple[float, float]:
        """(probability that the durations are lognormal rather than gamma, pooled
        log-variance), from all services' observations at once.

        Both families are fitted with a per-service scale and ONE shape shared by the
        services (lognormal: the pooled variance of the logs, with 2 pseudo-
        observations of the prior CV's; gamma: Minka's closed-form shape from the
        pooled log(mean) - mean(log)). Both have the same number of parameters, so
        the posterior odds (equal prior odds) are the likelihood ratio. Exponential
        durations are the gamma of shape 1. No observations: even odds.
        """
        sig2_0 = math.log(1.0 + prior_cv * prior_cv)
        num, den = 2.0 * sig2_0, 2.0
        fits = []
        for law in self.laws.values():
            n, sl, ss = law.log_stats()
            if n >= 2:
                num += ss
                den += n - 1
                fits.append((n, law.sums[0], sl, ss))
        sig2 = num / den
        if not fits:
            return 0.5, sig2
        # gamma: pooled s = log(mean) - mean(log) per service, weighted by n
        ntot = sum(f[0] for f in fits)
        s_bar = max(sum(n * math.log(sx / n) - sl for n, sx, sl, _ in fits) / ntot, 1e-6)
        k = (3.0 - s_bar + math.sqrt((s_bar - 3.0) ** 2 + 24.0 * s_bar)) / (12.0 * s_bar)
        # log-likelihoods from the sufficient statistics (n, sum x, sum log x, SS of logs)
        ll_ln = ll_g = 0.0
        for n, sx, sl, ss in fits:
            theta = sx / n / k
            ll_ln += -sl - n * 0.5 * math.log(sig2) - ss / (2.0 * sig2)
            ll_g += (k - 1.0) * sl - sx / theta - n * (k * math.log(theta) + math.lgamma(k))
        ll_ln -= 0.5 * math.log(2.0 * math.pi) * ntot
        d = max(min(ll_g - ll_ln, 700.0), -700.0)
        return 1.0 / (1.0 + math.exp(d)), sig2

    def samplers(self, service_ids, cv: float) -> list:
        """One predictive sampler per service: the Bayesian model average of two
        laws, weighted by how well each family fits the branch's durations
        (``shape_evidence``): a lognormal with the pooled log-variance whose
        log-mean is the conjugate update of the prior's (``Durations.log_posterior``),
        and the prior-and-observations blend of ``Durations`` (any shape; its mean
        is the sample mean's, the gamma's maximum likelihood estimate)."""
        p_ln, sig2 = self.shape_evidence()
        out = []
        for sid in service_ids:
            law = self.law(sid)
            base = law.sampler(cv)
            if law.n == 0 or p_ln <= 0.0:
                out.append(base)
            else:
                out.append(_MixSampler(p_ln, law.log_posterior(sig2), math.sqrt(sig2), base))
        return out

    def pooled_cv(self, prior_cv: float = DEFAULT_CV) -> float:
        """Shape shared by the bases of the services' laws (2 pseudo-obs of the prior CV)."""
        num, den = 2.0 * prior_cv * prior_cv, 2.0
        for law in self.laws.values():
            cv, n = law.data_cv()
            if n >= 2:
                num += (n - 1) * cv * cv
                den += n - 1
        return math.sqrt(num / den)


@dataclass(frozen=True)
class ArrivalRates:
    """Tickets issued per service, exponentially weighted, and the priority share.

    ``start``: when observation began (the branch opened today). ``level``: service
    id -> decayed count at ``last``. ``counts``: service id -> (normal, priority)
    counts of the day (the share of priority tickets).
    """

    half_life_minutes: float = ARRIVAL_HALF_LIFE_MINUTES
    start: datetime | None = None
    last: datetime | None = None
    level: Mapping = field(default_factory=dict)
    counts: Mapping = field(default_factory=dict)

    def opened(self, at: datetime) -> "ArrivalRates":
        return self if self.start is not None else replace(self, start=at)

    def _tau(self) -> float:
        return self.half_life_minutes / math.log(2.0)

    def observe(self, service_id: int, priority, at: datetime) -> "ArrivalRates":
        prio = priority.is_priority if isinstance(priority, PriorityClass) else bool(priority)
        base = self.opened(at)
        decay = math.exp(-max(_minutes(base.last, at), 0.0) / self._tau()) if base.last else 1.0
        level = {k: v * decay for k, v in base.level.items()}
        level[service_id] = level.get(service_id, 0.0) + 1.0
        n, p = base.counts.get(service_id, (0, 0))
        counts = {**base.counts, service_id: (n + (not prio), p + prio)}
        return replace(base, last=at, level=level, counts=counts)

    def priority_share(self, service_id: int) -> float:
        a, b = PRIORITY_SHARE_PRIOR
        tn = sum(c[0] for c in self.counts.values())
        tp = sum(c[1] for c in self.counts.values())
        pooled = (tp + a) / (tn + tp + a + b)
        n, p = self.counts.get(service_id, (0, 0))
        return (p + PRIORITY_SHARE_SHRINK * pooled) / (n + p + PRIORITY_SHARE_SHRINK)

    def per_minute(self, service_id: int, is_priority: bool, now: datetime) -> float:
        if self.start is None or self.last is None:
            return 0.0
        tau = self._tau()
        lvl = self.level.get(service_id, 0.0) * math.exp(
            -max(_minutes(self.last, now), 0.0) / tau)
        age = max(_minutes(self.start, now), 0.0)
        exposure = tau * (1.0 - math.exp(-age / tau)) + ARRIVAL_PRIOR_EXPOSURE_MINUTES
        rate = lvl / exposure
        share = self.priority_share(service_id)
        return rate * (share if is_priority else 1.0 - share)


@dataclass(frozen=True)
class Learned:
    """What the forecast learns from the day: holding times, arrivals, breaks."""

    service_times: ServiceTimes
    arrivals: ArrivalRates = field(default_factory=ArrivalRates)
    pauses: Durations = field(
        default_factory=lambda: Durations(PAUSE_PRIOR_MINUTES, PAUSE_PRIOR_CV, 1.0))
    pauses_return: bool = True  # False: a paused counter is assumed not to come back

    @classmethod
    def start(cls, policy: Policy, opened_at: datetime | None = None,
              priors: Mapping | None = None,
              pause_prior_minutes: float | None = PAUSE_PRIOR_MINUTES,
              arrival_half_life_minutes: float = ARRIVAL_HALF_LIFE_MINUTES) -> "Learned":
        """A day's empty learner. ``pause_prior_minutes=None``: breaks never end."""
        arr = ArrivalRates(half_life_minutes=arrival_half_life_minutes)
        if opened_at is not None:
            arr = arr.opened(opened_at)
        pm = pause_prior_minutes or PAUSE_PRIOR_MINUTES
        return cls(ServiceTimes.from_policy(policy, priors), arr,
                   Durations(pm, PAUSE_PRIOR_CV, 1.0), pause_prior_minutes is not None)

    def issued(self, ticket: Ticket) -> "Learned":
        return replace(self, arrivals=self.arrivals.observe(
            ticket.service_id, ticket.priority, ticket.issued_at))

    def finished(self, ticket: Ticket) -> "Learned":
        return replace(self, service_times=self.service_times.observe_ticket(ticket))

    def no_show(self, ticket: Ticket, at: datetime) -> "Learned":
        since = ticket.called_at
        held = (at - since).total_seconds() if since else None
        return replace(self, service_times=self.service_times.observe_no_show(
            ticket.service_id, held))

    def pause_ended(self, paused_since: datetime, at: datetime) -> "Learned":
        m = _usable_minutes((at - paused_since).total_seconds())
        return self if m is None else replace(self, pauses=self.pauses.observe(m))


# --- input and output -----------------------------------------------------------

@dataclass(frozen=True)
class CounterView:
    """A counter as the forecast needs it.

    ``since``: when it entered its current state (opened, paused, took its ticket).
    ``holding``: the ticket it holds (CALLED or SERVING), if any; its ``called_at``
    (else ``started_at``, else ``since``) dates the holding.
    """

    counter: Counter
    since: datetime
    holding: Ticket | None = None


@dataclass(frozen=True)
class ForecastInput:
    now: datetime
    policy: Policy
    today: str
    services: tuple                 # service ids to answer new tickets for
    counters: tuple                 # CounterView, every counter of the branch
    waiting: tuple                  # Ticket; only WAITING ones are used
    learned: Learned


@dataclass(frozen=True)
class Estimate:
    minutes: float | None           # mean remaining wait (None: nobody can call it)
    low: float | None
    high: float | None
    printed: int | None             # the whole minutes a ticket shows
    replications: int = 0
    median: float | None = None

    @property
    def known(self) -> bool:
        return self.minutes is not None


UNKNOWN = Estimate(None, None, None, None, 0, None)


def _quantile(sorted_vals: list, q: float) -> float:
    k = (len(sorted_vals) - 1) * q
    lo = int(k)
    hi = min(lo + 1, len(sorted_vals) - 1)
    return sorted_vals[lo] + (sorted_vals[hi] - sorted_vals[lo]) * (k - lo)


def _controlled_mean(vals: list, ctl: list) -> float:
    """The mean of ``vals`` with a control variate ``ctl`` of known mean 0: mean(v) -
    beta x mean(c), beta the regression slope of v on c over the replications."""
    n = len(vals)
    mv, mc = sum(vals) / n, sum(ctl) / n
    sxx = sxy = 0.0
    for v, c in zip(vals, ctl):
        dc = c - mc
        sxx += dc * dc
        sxy += dc * (v - mv)
    if n < 4 or sxx <= 1e-12:
        return mv
    beta = min(max(sxy / sxx, 0.0), CONTROL_BETA_MAX)
    return max(mv - beta * mc, 0.0)


def _estimate(vals: list, ctl: list | None = None) -> Estimate:
    m = sum(vals) / len(vals) if ctl is None else _controlled_mean(vals, ctl)
    vals.sort()
    return Estimate(m, _quantile(vals, LOW_Q), _quantile(vals, HIGH_Q),
                    int(math.floor(m + 0.5)), len(vals), _quantile(vals, 0.5))


class Forecast:
    """The result of one ``forecast()``: answers reads cheaply (no simulation)."""

    def __init__(self, t0, services, first_event, probe_hits, probe_ahead, ticket_calls,
                 ticket_index, reps, probe_controls=None):
        self.t0 = t0
        self.services = services
        self.replications = reps
        # replications ordered by first counter event, latest first
        order = sorted(range(reps), key=lambda r: -first_event[r])
        self._order = order
        self._neg_first = [-first_event[r] for r in order]  # ascending
        self._probe_hits = probe_hits      # (sid, prio) -> [depth][rep] call time (or None)
        self._probe_ctl = probe_controls or {}  # (sid, prio) -> [depth][rep] control value
        self._probe_ahead = probe_ahead    # (sid, prio) -> people ahead at t0
        self._calls = ticket_calls         # [rep][slot]
        self._slot = ticket_index          # ticket id -> slot (None: unreachable)

    def _kept(self, now: datetime | None) -> tuple[list, float]:
        d = 0.0 if now is None else max(_minutes(self.t0, now), 0.0)
        m = bisect.bisect_left(self._neg_first, -d)  # first events strictly after d
        m = max(m, min(self.replications, max(MIN_KEPT, self.replications // 8)))
        return self._order[:m], d

    def ahead(self, service_id: int, priority: PriorityClass) -> int | None:
        """People ahead of the probe at the forecast's time (``ordering.people_ahead``)."""
        return self._probe_ahead.get((service_id, priority.is_priority))

    def new_ticket(self, service_id: int, priority: PriorityClass = PriorityClass.NORMAL,
                   now: datetime | None = None, ahead_delta: int = 0) -> Estimate:
        key = (service_id, priority.is_priority)
        hits = self._probe_hits.get(key)
        if hits is None:
            return UNKNOWN
        ctl = self._probe_ctl.get(key)
        kept, d = self._kept(now)
        K = len(hits) - 1
        k = ahead_delta
        if 0 <= k <= K:
            row = hits[k]
            vals = [max(0.0, row[r] - d) for r in kept]
            c = ctl[k] if ctl else None
        elif k > K:
            a, b = hits[K - 1], hits[K]
            inc = sum(b[r] - a[r] for r in kept) / len(kept)
            vals = [max(0.0, b[r] + (k - K) * inc - d) for r in kept]
            c = ctl[K] if ctl else None
        else:
            a, b = hits[0], hits[1]
            inc = sum(b[r] - a[r] for r in kept) / len(kept)
            vals = [max(0.0, a[r] + k * inc - d) for r in kept]
            c = ctl[0] if ctl else None
        return _estimate(vals, None if c is None else [c[r] for r in kept])

    def waiting(self, ticket_id: int, now: datetime | None = None) -> Estimate:
        """Remaining wait (from ``now``, default the forecast's time) of a waiting ticket."""
        slot = self._slot.get(ticket_id)
        if slot is None:
            return UNKNOWN
        kept, d = self._kept(now)
        calls = self._calls
        return _estimate([max(0.0, calls[r][slot] - d) for r in kept])

    def waiting_ids(self) -> list:
        return [t for t, s in self._slot.items() if s is not None]

    # --- between server processes (readmodel/estimates.py) ---------------------------
    #
    # One process simulates a branch; the others read its result. Plain JSON types
    # (Python's json writes each float so that it reads back the same, infinities
    # too), so a forecast read back answers exactly as the one that was written.

    def to_wire(self) -> dict:
        first = [0.0] * self.replications
        for i, r in enumerate(self._order):
            first[r] = -self._neg_first[i]
        return {"t0": self.t0.isoformat(), "services": list(self.services), "first": first,
                "hits": [[sid, prio, rows] for (sid, prio), rows in self._probe_hits.items()],
                "ahead": [[sid, prio, n] for (sid, prio), n in self._probe_ahead.items()],
                "ctl": [[sid, prio, rows] for (sid, prio), rows in self._probe_ctl.items()],
                "calls": self._calls, "slots": [[t, s] for t, s in self._slot.items()],
                "reps": self.replications}

    @classmethod
    def from_wire(cls, d: dict) -> "Forecast":
        return cls(datetime.fromisoformat(d["t0"]), tuple(d["services"]), d["first"],
                   {(sid, prio): rows for sid, prio, rows in d["hits"]},
                   {(sid, prio): n for sid, prio, n in d["ahead"]}, d["calls"],
                   {t: s for t, s in d["slots"]}, d["reps"],
                   {(sid, prio): rows for sid, prio, rows in d.get("ctl", [])})


# --- the simulation ---------------------------------------------------------------

class _Prep:
    """Everything a replication needs, computed once per forecast."""


def _prepare(inp: ForecastInput) -> _Prep:
    P = _Prep()
    pol, now, today = inp.policy, inp.now, inp.today
    st = inp.learned.service_times
    P.wb = pol.starvation_rule in ("wait_bound", "both")
    P.bound = float(pol.starvation_wait_minutes)
    P.inter = pol.starvation_rule in ("interleave", "both") and pol.priority_burst > 0
    P.burst = pol.priority_burst

    views = [v for v in inp.counters if v.counter.state is not CounterState.CLOSED]
    P.views = views
    nk = len(views)
    waiting = [t for t in inp.waiting if t.status is TicketStatus.WAITING]

    # services: every service a waiting ticket, a probe or a counter may need
    sids = list(dict.fromkeys(list(inp.services) + [t.service_id for t in waiting]
                              + [v.holding.service_id for v in views if v.holding]))
    P.sids = sids
    sidx = {s: i for i, s in enumerate(sids)}
    cv = st.pooled_cv()
    P.samplers = st.samplers(sids, cv)
    P.noshow = [st.no_show_share(s) for s in sids]
    P.ns_sampler = st.no_show_time.sampler()
    learned = inp.learned
    P.pause_sampler = learned.pauses.sampler()
    P.pauses_return = learned.pauses_return

    # groups: (is priority class, target counter id, service id, front)
    gkey_index: dict = {}
    groups: list = []
    rep_ticket: list = []

    def group_of(key, example):
        g = gkey_index.get(key)
        if g is None:
            g = gkey_index[key] = len(groups)
            groups.append([])
            rep_ticket.append(example)
        return g

    # which counters may call which ticket (ordering.is_eligible)
    counters = [v.counter for v in views]
    reach = []
    slots = {}
    meas = []
    for t in inp.waiting:
        if t.status is not TicketStatus.WAITING or t.id is None:
            continue
        el = [k for k, c in enumerate(counters) if is_eligible(t, c, today, pol)]
        if not el or (not P.pauses_return and all(
                counters[k].state is CounterState.PAUSED for k in el)):
            slots[t.id] = None
            continue
        key = (t.priority.is_priority, t.target_counter_id, t.service_id, bool(t.front))
        g = group_of(key, t)
        slots[t.id] = len(meas)
        q = _minutes(now, t.queued_at)
        groups[g].append((q, t.id, len(meas), sidx[t.service_id], t.priority.is_priority))
        meas.append(t)
    for g in groups:
        g.sort()
    P.slots, P.n_meas = slots, len(meas)

    # arrival / probe groups: (prio, None, sid, False) for every service
    probe_ex = {}
    for s in sids:
        for prio in (False, True):
            ex = Ticket(id=None, service_id=s, number=0, code="", day=today,
                        status=TicketStatus.WAITING,
                        priority=PriorityClass.ELDERLY if prio else PriorityClass.NORMAL,
                        channel="kiosk", language="fr", issued_at=now, queued_at=now)
            probe_ex[(s, prio)] = ex
            group_of((prio, None, s, False), ex)
    P.groups = groups
    P.arr_group = {(sidx[s], prio): gkey_index[(prio, None, s, False)]
                   for s in sids for prio in (False, True)}

    # static part of each counter's key, from ordering.sort_key itself
    gprio = [False] * len(groups)
    for key, g in gkey_index.items():
        gprio[g] = key[0]
    vis = []
    sees = [[False] * nk for _ in groups]
    static = {}
    for k, c in enumerate(counters):
        parts = {}
        for g, ex in enumerate(rep_ticket):
            if is_eligible(ex, c, today, pol):
                parts[g] = sort_key(ex, c, pol, now)[1:4]
        rank = {p: i for i, p in enumerate(sorted(set(parts.values())))}
        vis.append([(g, rank[p], gprio[g]) for g, p in parts.items()])
        for g in parts:
            sees[g][k] = True
        static[k] = {g: rank[p] for g, p in parts.items()}
    P.vis, P.sees, P.gprio = vis, sees, gprio

    # probes
    probes = []
    for s in dict.fromkeys(inp.services):
        for prio in (False, True):
            g = gkey_index[(prio, None, s, False)]
            at = [k for k in range(nk) if sees[g][k]]
            if not P.pauses_return:
                at = [k for k in at if counters[k].state is not CounterState.PAUSED]
            probes.append(dict(sid=s, si=sidx[s], prio=prio, g=g, at=at,
                               psidx={k: static[k][g] for k in at}))
    P.probes = probes
    P.probes_at = [[p for p, pr in enumerate(probes) if k in pr["psidx"]] for k in range(nk)]

    # initial counters
    init = []
    for k, v in enumerate(views):
        c = v.counter
        if c.state is CounterState.PAUSED:
            init.append(("pause", _minutes(v.since, now)))
        elif c.state is CounterState.SERVING or v.holding is not None:
            h = v.holding
            since = (h.called_at or h.started_at) if h else None
            since = since or v.since
            si = sidx[h.service_id] if h else sidx.get(next(iter(c.services), None), 0)
            init.append(("busy", _minutes(since, now), si))
        else:
            init.append(("free", _minutes(v.since, now)))
    P.init = init
    P.streak0 = [c.priority_streak for c in counters]

    # arrivals: rates of the classes that can overtake a measured ticket somewhere
    arr = learned.arrivals
    P.arr_classes = []
    for s in sids:
        for prio in (False, True):
            lam = arr.per_minute(s, prio, now)
            if lam > 0:
                over = _overtakes(P, sidx[s], prio)
                if over:
                    P.arr_classes.append((lam, sidx[s], prio, over))
    P.counters = counters
    P.probe_ahead = {(pr["sid"], pr["prio"]): _probe_ahead(P, pr, counters)
                     for pr in probes}
    return P


def _tiers(prio: bool, wb: bool) -> tuple:
    return (0,) if prio else ((0, 1) if wb else (1,))


def _overtakes(P, si, prio) -> frozenset:
    """The groups whose tickets an arrival of this class may be called before, at a
    counter that may call both (it queues after everyone present: only its tier or
    the counter's service rank can put it first; with the interleave rule, any)."""
    g_arr = P.arr_group[(si, prio)]
    ta = _tiers(prio, P.wb)
    out = set()
    for k in range(len(P.vis)):
        if not P.sees[g_arr][k]:
            continue
        sa = dict((g, s) for g, s, _ in P.vis[k])[g_arr]
        for g, s, gprio in P.vis[k]:
            if P.inter or any((x, sa) < (y, s) for x in ta for y in _tiers(gprio, P.wb)):
                out.add(g)
    return frozenset(out)


def _probe_ahead(P, pr, counters) -> int | None:
    """ordering.people_ahead for the probe, from the groups (no sort)."""
    bound, wb = P.bound, P.wb
    able = [k for k in range(len(counters)) if k in pr["psidx"]]
    if not able:
        return None
    best = None
    tp0 = 0 if pr["prio"] or (wb and 0.0 >= bound) else 1
    for k in able:
        rows = []
        for g, s, gprio in P.vis[k]:
            members = P.groups[g]
            if gprio:
                rows.append((0, s, len(members)))
            else:
                npro = sum(1 for m in members if wb and -m[0] >= bound)
                rows.append((0, s, npro))
                rows.append((1, s, len(members) - npro))
        tp = tp0
        if P.inter and P.streak0[k] >= P.burst and (
                tp == 1 or any(t == 1 and n for t, _, n in rows)):
            rows = [(1 - t, s, n) for t, s, n in rows]
            tp = 1 - tp
        mine = (tp, pr["psidx"][k])
        ahead = sum(n for t, s, n in rows if (t, s) <= mine)
        best = ahead if best is None else min(best, ahead)
    return best


def _simulate(P, R: int, seed: int, trace: list | None = None, budget: int | None = None,
              controls: list | None = None):
    """R replications (a shifted lattice of uniforms, see the module's notes); with a
    ``budget`` of events (calls and arrivals), R is cut to the budget over the first
    replication's events (at least MIN_REPLICATIONS; stopped at twice the budget)."""
    rng = random.Random(seed)
    nk = len(P.views)
    K1 = PROBE_DEPTH + 1
    wb, bound, inter, burst = P.wb, P.bound, P.inter, P.burst
    vis, sees, samplers = P.vis, P.sees, P.samplers
    noshow, ns_sampler = P.noshow, P.ns_sampler
    any_noshow = any(x > 0 for x in noshow)
    probes = P.probes
    npb = len(probes)
    probes_at = P.probes_at
    pprio = [pr["prio"] for pr in probes]
    psi = [pr["si"] for pr in probes]
    psidx = [[pr["psidx"].get(k, -1) for k in range(nk)] for pr in probes]
    arr_classes = P.arr_classes
    arr_group = P.arr_group
    n_meas = P.n_meas
    base_groups = P.groups
    reachable_probes = [bool(pr["at"]) for pr in probes]
    # one stream of uniforms per counter (its holdings, in order) and one for arrivals:
    # the j-th holding of counter k uses the same coordinate in every replication
    per_counter = 2 * (n_meas + K1 * npb) // max(nk, 1) + 2 * K1 + 8
    n_arr = 2 * int(sum(c[0] for c in arr_classes) * 240) + 16
    lens = [per_counter] * nk + [n_arr]
    V = [[rng.random() for _ in range(n)] for n in lens]   # the random shift
    Z: list = []                                              # the lattice's generator
    lat_R = 1
    # arrivals are simulated only while they may overtake a ticket still measured
    G = len(base_groups)
    um0 = [sum(1 for e in g if e[2] >= 0) for g in base_groups]
    for p, pr in enumerate(probes):
        if reachable_probes[p]:
            um0[pr["g"]] += 1
    classes_of = [[] for _ in range(G)]
    for c, cls in enumerate(arr_classes):
        for g in cls[3]:
            classes_of[g].append(c)
    need0 = [sum(um0[g] for g in cls[3]) for cls in arr_classes]
    probe_g = [pr["g"] for pr in probes]

    def arrival_rates(need):
        act = [c for c in range(len(arr_classes)) if need[c] > 0]
        cum, acc = [], 0.0
        for c in act:
            acc += arr_classes[c][0]
            cum.append(acc)
        return act, cum, acc

    first_events = []
    all_calls = []
    all_hits = [[[0.0] * R for _ in range(K1)] for _ in range(npb)]
    all_ctl = [[[0.0] * R for _ in range(K1)] for _ in range(npb)]
    # control variates: the mean of each holding time drawn (a no-show or a service)
    hold_mean = [(noshow[si] * ns_sampler.mean if any_noshow else 0.0)
                 + (1.0 - (noshow[si] if any_noshow else 0.0)) * samplers[si].mean
                 for si in range(len(samplers))]
    probe_at = [pr["at"] for pr in probes]
    heappush, heappop = heapq.heappush, heapq.heappop
    spent = 0
    done_reps = R0 = R
    for r in range(R0):
        if r == 1:
            # how many replications: the first one's cost against the budget
            if budget is not None:
                R2 = max(MIN_REPLICATIONS, min(R, budget // max(spent, 1)))
                done_reps = R = R2
            lat_R = R
            Z.extend([[_coprime(rng, R) for _ in range(n)] for n in lens])
        if r >= R:
            break
        if budget is not None and r >= MIN_REPLICATIONS and spent >= 2 * budget:
            done_reps = r
            break
        shift = r / lat_R
        sidx = [0] * (nk + 1)

        gm = [list(g) for g in base_groups]
        gh = [0] * len(gm)
        calls = [_INF] * n_meas
        hits = [[] for _ in range(npb)]
        ctl = [[] for _ in range(npb)]
        work = [0.0] * nk      # per counter: sum of (holding drawn - its mean) since the
                               # first counter event (a zero-mean martingale: see Forecast)
        pdone = [not reachable_probes[p] for p in range(npb)]
        pblocked = [0] * npb
        remaining = n_meas + sum(1 for p in range(npb) if not pdone[p])
        streak = list(P.streak0)
        idle_since = [None] * nk
        heap = []
        ncalls = 0
        calls_by = [0] * nk
        first_event = _INF
        arr_seq = 0
        um = list(um0)
        need = list(need0)
        act, cum, arr_total = arrival_rates(need)
        dirty = False
        n_idle = 0

        def measured(g):
            nonlocal dirty
            um[g] -= 1
            for c in classes_of[g]:
                need[c] -= 1
                if need[c] == 0:
                    dirty = True

        def draw(q):
            """The next uniform of stream q (a counter, or nk: arrivals): a randomly
            shifted rank-1 lattice point across the replications (each replication's
            draws are independent uniforms; over the R replications each coordinate
            takes one value in each 1/R stratum); past the stream's length, fresh."""
            j = sidx[q]
            sidx[q] = j + 1
            vq = V[q]
            if j >= len(vq):
                return rng.random()
            if r == 0:
                return vq[j]
            u = vq[j] + (shift * Z[q][j]) % 1.0
            return u - 1.0 if u >= 1.0 else u

        def hold(si, k):
            u = draw(k)
            if any_noshow and noshow[si] > 0:
                if u < noshow[si]:
                    return ns_sampler.draw(u / noshow[si])
                u = (u - noshow[si]) / (1.0 - noshow[si])
            return samplers[si].draw(u)

        free_now = []
        for k, ini in enumerate(P.init):
            if ini[0] == "busy":
                heappush(heap, (samplers[ini[2]].residual(ini[1], draw(k)), k, -1))
            elif ini[0] == "pause":
                if P.pauses_return:
                    heappush(heap, (P.pause_sampler.residual(ini[1], draw(k)), k, -1))
            else:
                free_now.append((-ini[1], k))
        free_now.sort()

        if arr_total > 0:
            next_arr = -math.log(1.0 - draw(nk)) / arr_total
        else:
            next_arr = _INF

        def decide(k, now):
            nonlocal remaining, ncalls, n_idle
            bit = 1 << k
            stk = streak[k]
            turn_rule = inter and stk >= burst
            nt = False
            if turn_rule:
                for g, s, gp in vis[k]:
                    lst = gm[g]
                    if not gp and gh[g] < len(lst) and not (wb and now - lst[-1][0] >= bound):
                        nt = True
                        break
            best = None
            bg = bpos = -1
            for g, s, gp in vis[k]:
                lst = gm[g]
                h = gh[g]
                if h >= len(lst):
                    continue
                e = lst[h]
                pos = h
                if gp:
                    tier = 0
                elif wb and now - e[0] >= bound:
                    tier = 0
                else:
                    tier = 1
                if nt:
                    if tier == 0 and not gp:
                        j = h + 1
                        while j < len(lst) and now - lst[j][0] >= bound:
                            j += 1
                        if j < len(lst):
                            e = lst[j]
                            pos = j
                            tier = 0
                        else:
                            tier = 1
                    else:
                        tier = 1 - tier
                key = (tier, s, e[0], e[1])
                if best is None or key < best:
                    best, bg, bpos = key, g, pos
            hit_here = None
            for p in probes_at[k]:
                if pdone[p] or pblocked[p] & bit:
                    continue
                if pprio[p] or (wb and now >= bound):
                    tp = 0
                else:
                    tp = 1
                if turn_rule:
                    if nt:
                        tp = 1 - tp
                    elif tp == 1:
                        # with the probe, the normal tier has its turn: the probe goes first
                        tp = -1
                if best is None or (tp, psidx[p][k], 0.0, _INF) < best:
                    hp = hits[p]
                    hp.append(now)
                    ctl[p].append(sum(work[q] for q in probe_at[p]))
                    if len(hp) >= K1:
                        pdone[p] = True
                        remaining -= 1
                        measured(probe_g[p])
                    else:
                        pblocked[p] |= bit
                        if hit_here is None:
                            hit_here = []
                        hit_here.append(p)
            if best is not None:
                lst = gm[bg]
                if bpos == gh[bg]:
                    e = lst[bpos]
                    gh[bg] += 1
                else:
                    e = lst.pop(bpos)
                m = e[2]
                if m >= 0:
                    calls[m] = now
                    remaining -= 1
                    measured(bg)
                streak[k] = stk + 1 if e[4] else 0
                if idle_since[k] is not None:
                    idle_since[k] = None
                    n_idle -= 1
                ncalls += 1
                calls_by[k] += 1
                h = hold(e[3], k)
                if first_event <= now:
                    work[k] += h - hold_mean[e[3]]
                heappush(heap, (now + h, k, -1))
                if trace is not None and r == 0:
                    trace.append(("call", now, k, e[1], e[3], e[4], e[0]))
            else:
                if idle_since[k] is None:
                    idle_since[k] = now
                    n_idle += 1
                if hit_here:
                    for p in hit_here:
                        h = samplers[psi[p]].draw(draw(k))
                        if first_event <= now:
                            work[k] += h - samplers[psi[p]].mean
                        heappush(heap, (now + h, k, p))

        for neg_el, k in free_now:
            idle_since[k] = neg_el
            n_idle += 1
            decide(k, 0.0)

        now = 0.0
        while remaining > 0:
            t_c = heap[0][0] if heap else _INF
            if dirty:
                dirty = False
                act, cum, arr_total = arrival_rates(need)
                # memoryless: the next arrival of the classes still relevant, from now
                next_arr = now - math.log(1.0 - draw(nk)) / arr_total if arr_total > 0 else _INF
                continue
            if next_arr < t_c:
                now = next_arr
                if now > HORIZON_MINUTES:
                    break
                u = draw(nk) * arr_total
                c = act[min(bisect.bisect_right(cum, u), len(act) - 1)]
                _, si, prio, _ = arr_classes[c]
                g = arr_group[(si, prio)]
                arr_seq += 1
                gm[g].append((now, 10 ** 12 + arr_seq, -1, si, prio))
                if trace is not None and r == 0:
                    trace.append(("arrive", now, -1, 10 ** 12 + arr_seq, si, prio, now))
                next_arr = now - math.log(1.0 - draw(nk)) / arr_total
                idle = [(idle_since[k], k) for k in range(nk)
                        if idle_since[k] is not None and sees[g][k]] if n_idle else None
                if idle:
                    idle.sort()
                    for _, k in idle:
                        decide(k, now)
                        if idle_since[k] is None:
                            break
            else:
                if t_c == _INF:
                    break
                now, k, p = heappop(heap)
                if now > HORIZON_MINUTES:
                    break
                if p < 0:
                    if first_event == _INF:
                        first_event = now
                    nb = ~(1 << k)
                    for q in range(npb):
                        pblocked[q] &= nb
                    decide(k, now)
                else:
                    pblocked[p] &= ~(1 << k)
                    if idle_since[k] is not None:
                        decide(k, now)
            if ncalls >= CALL_CAP:
                break

        if remaining > 0:
            _extrapolate(P, now, gm, gh, calls, hits, pdone, calls_by, K1)
        first_events.append(first_event)
        all_calls.append(calls)
        for p in range(npb):
            hp, cp = hits[p], ctl[p]
            if len(cp) < len(hp):
                end = sum(work[q] for q in probe_at[p])
                cp.extend([end] * (len(hp) - len(cp)))
            for j in range(K1):
                all_hits[p][j][r] = hp[j] if j < len(hp) else _INF
                all_ctl[p][j][r] = cp[j] if j < len(cp) else 0.0
        spent += ncalls + arr_seq
    if done_reps < R0:
        all_hits = [[row[:done_reps] for row in ph] for ph in all_hits]
        all_ctl = [[row[:done_reps] for row in ph] for ph in all_ctl]
    if controls is not None:
        controls.extend(all_ctl)
    return first_events, all_calls, all_hits


def _coprime(rng, n: int) -> int:
    """A random integer in 1..n-1 coprime with n (1 when n <= 2)."""
    if n <= 2:
        return 1
    while True:
        z = rng.randrange(1, n)
        if math.gcd(z, n) == 1:
            return z


def _extrapolate(P, now, gm, gh, calls, hits, pdone, calls_by, K1):
    """Fluid placement of what a capped replication did not reach: (tickets ahead at
    the best counter + 1) / (calls per minute of the counters that may call it)."""
    span = max(now, 1e-6)
    nk = len(P.views)
    wb, bound = P.wb, P.bound

    def rate_at(ks, si):
        r = sum(calls_by[k] for k in ks) / span
        return r if r > 0 else len(ks) / max(P.samplers[si].mean, 0.1)

    # per counter: remaining tickets by (tier, static rank); per group: promoted prefix
    npro = []
    for g, lst in enumerate(gm):
        rest = lst[gh[g]:]
        if P.gprio[g] or not wb:
            npro.append(len(rest) if P.gprio[g] else 0)
        else:
            npro.append(sum(1 for x in rest if now - x[0] >= bound))
    cnt = []
    for k in range(nk):
        c = {}
        for g, s, gp in P.vis[k]:
            n = len(gm[g]) - gh[g]
            if n:
                c[(0, s)] = c.get((0, s), 0) + npro[g]
                c[(1, s)] = c.get((1, s), 0) + n - npro[g]
        cnt.append((c, dict((g, s) for g, s, _ in P.vis[k])))

    # tickets before (tier, rank) at counter k: computed once per counter
    before = []
    for c, sk in cnt:
        keys = sorted(set(c) | {(t, s) for s in sk.values() for t in (0, 1)})
        acc, b = 0, {}
        for ts in keys:
            b[ts] = acc
            acc += c.get(ts, 0)
        before.append(b)

    def ahead(k, g, tier, within):
        return before[k][(tier, cnt[k][1][g])] + within

    for g, lst in enumerate(gm):
        ks = [k for k in range(nk) if P.sees[g][k]]
        if not ks:
            continue
        rest = lst[gh[g]:]
        if not any(e[2] >= 0 and calls[e[2]] == _INF for e in rest):
            continue
        rate = rate_at(ks, rest[0][3])
        base0 = min(ahead(k, g, 0, 0) for k in ks)
        base1 = min(ahead(k, g, 1, 0) for k in ks)
        for i, e in enumerate(rest):
            m = e[2]
            if m < 0 or calls[m] != _INF:
                continue
            a = base0 + i if i < npro[g] else base1 + i - npro[g]
            calls[m] = now + (a + 1) / rate
    for p, pr in enumerate(P.probes):
        if pdone[p] or not pr["at"]:
            continue
        g = pr["g"]
        tier = 0 if pr["prio"] or (wb and now >= bound) else 1
        # members present at t0 with the probe's tier are ahead of it; arrivals are not
        within = sum(1 for x in gm[g][gh[g]:] if x[0] <= 0.0 and (
            0 if (P.gprio[g] or (wb and now - x[0] >= bound)) else 1) == tier)
        a = min(ahead(k, g, tier, max(within, 0)) for k in pr["at"])
        rate = rate_at(pr["at"], pr["si"])
        hp = hits[p]
        j = len(hp)
        while len(hp) < K1:
            hp.append(now + (a + 1 + len(hp) - j) / rate)


def forecast(inp: ForecastInput, replications: int | None = None,
             seed: int | None = None) -> Forecast:
    """Simulate the branch forward from ``inp`` and return what the reads need.

    ``replications``: a fixed even number; by default, as many as ``WORK_BUDGET``
    simulated events (calls and arrivals) allow at the first replication's count,
    between ``MIN_REPLICATIONS`` and ``DEFAULT_REPLICATIONS``: a quiet branch gets
    many replications, a busy or deep one fewer, and the cost stays bounded.
    ``seed``: default 0 (common random numbers across forecasts).
    """
    P = _prepare(inp)
    if replications is None:
        R, budget = DEFAULT_REPLICATIONS, WORK_BUDGET
    else:
        R, budget = max(2, replications + (replications % 2)), None
    ctl: list = []
    first, calls, hits = _simulate(P, R, 0 if seed is None else seed, budget=budget,
                                   controls=ctl)
    R = len(first)
    probe_hits, probe_ctl = {}, {}
    for p, pr in enumerate(P.probes):
        if pr["at"]:
            probe_hits[(pr["sid"], pr["prio"])] = hits[p]
            probe_ctl[(pr["sid"], pr["prio"])] = ctl[p]
    return Forecast(inp.now, tuple(inp.services), first, probe_hits, P.probe_ahead, calls,
                    P.slots, R, probe_ctl)


def trace_calls(inp: ForecastInput, seed: int = 0) -> list:
    """What the first replication did, in order, for the tests to replay through
    ``ordering``: ("arrive" | "call", minutes after now, counter id or None, ticket
    id, service id, is priority class, queued minutes after now). Simulated
    arrivals have ids from 10**12 + 1."""
    P = _prepare(inp)
    tr: list = []
    _simulate(P, 2, seed, trace=tr)
    return [(kind, t, P.counters[k].id if k >= 0 else None, tid, P.sids[si], prio, q)
            for kind, t, k, tid, si, prio, q in tr]
