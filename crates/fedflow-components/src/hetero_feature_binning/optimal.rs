//! Optimal binning (FATE's `OptimalBinning`): a column is first cut into many
//! initial buckets (`init_bin_nums`, quantile or equal width), then adjacent
//! buckets are merged by a label metric until at most `bin_num` are left.
//!
//! `iv`, `gini` and `chi_square` merge bottom-up with a min-heap of adjacent
//! pairs scored by the metric (the pair that loses least by merging goes
//! first), in phases, each with its own heap and target:
//!
//! 1. `mixture` only: pairs where neither bucket holds both classes, until
//!    every bucket is mixed; then pairs where at most one is mixed.
//! 2. pairs where both buckets hold fewer than `ceil(min_bin_pct · n)` rows,
//!    then pairs where at least one does, until none does.
//! 3. any pair, until at most `bin_num` buckets are left.
//!
//! No merge ever makes a bucket larger than `floor(max_bin_pct · n)` rows,
//! so a phase can end before its target (FATE logs and keeps the result).
//! Scores (lower merges first): `iv` = IV(left) + IV(right) − IV(merged);
//! `gini` = gini(merged) − gini(left) − gini(right); `chi_square` = χ² of the
//! 2×2 table of the pair. A pair with an empty side, or whose merged bucket
//! lacks a class (χ²), scores −∞. Ties go to the leftmost pair, so the
//! result is deterministic (FATE's heap order on ties is an accident of its
//! insertion order, and it carries stale entries between phases; fedflow
//! starts each phase with a fresh heap).
//!
//! `ks` splits top-down instead: a range of buckets is cut where the KS of
//! the cumulative event / non-event rates peaks (at its middle if the peak
//! leaves a side below the minimum size, or if every KS is 0); a cut is kept
//! only if both sides are large enough (and mixed, with `mixture`); ranges
//! are split breadth-first, the larger side first, until `bin_num − 1` cuts.
//!
//! The functions work on counts only, so the guest runs them for a host's
//! column on the decrypted per-bucket sums and returns bucket indexes: the
//! host maps them to its own thresholds, which the guest never sees.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};

/// The merge / split criterion (`optimal_binning_param.metric_method`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// Information value.
    Iv,
    /// Gini impurity.
    Gini,
    /// Chi-square of adjacent buckets.
    ChiSquare,
    /// Kolmogorov–Smirnov (top-down splits).
    Ks,
}

impl Metric {
    /// FATE's accepted spellings (case-insensitive; `chi-square` = `chi_square`).
    pub fn parse(s: &str) -> Option<Metric> {
        match s.to_ascii_lowercase().replace('-', "_").as_str() {
            "iv" => Some(Metric::Iv),
            "gini" => Some(Metric::Gini),
            "chi_square" => Some(Metric::ChiSquare),
            "ks" => Some(Metric::Ks),
            _ => None,
        }
    }
}

/// Everything the merge needs besides the counts.
#[derive(Debug, Clone)]
pub struct OptimalSettings {
    /// The metric.
    pub metric: Metric,
    /// At most this many final bins (`bin_num`).
    pub max_bin: usize,
    /// Minimum rows of a bin: `ceil(min_bin_pct · sample_count)`.
    pub min_items: u64,
    /// Maximum rows of a bin: `floor(max_bin_pct · sample_count)`.
    pub max_items: u64,
    /// Every bin should hold both classes.
    pub mixture: bool,
    /// WOE's `adjustment_factor` (IV metric).
    pub adjustment: f64,
    /// Events (label 1) of the whole data set.
    pub event_total: u64,
    /// Non-events of the whole data set.
    pub non_event_total: u64,
}

impl OptimalSettings {
    /// Settings from the parameters and the data set's size and label counts.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        metric: Metric,
        max_bin: usize,
        min_bin_pct: f64,
        max_bin_pct: f64,
        mixture: bool,
        adjustment: f64,
        sample_count: u64,
        event_total: u64,
    ) -> OptimalSettings {
        let n = sample_count as f64;
        OptimalSettings {
            metric,
            max_bin,
            min_items: (min_bin_pct * n).ceil() as u64,
            max_items: (max_bin_pct * n).floor() as u64,
            mixture,
            adjustment,
            event_total,
            non_event_total: sample_count.saturating_sub(event_total),
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    ev: u64,
    ne: u64,
    /// Last initial bucket covered.
    last: usize,
    /// First initial bucket covered (tie-break: leftmost first).
    first: usize,
    prev: Option<usize>,
    next: Option<usize>,
    alive: bool,
}

impl Bucket {
    fn total(&self) -> u64 {
        self.ev + self.ne
    }
    fn mixed(&self) -> bool {
        self.ev > 0 && self.ne > 0
    }
}

/// IV of one bucket against the totals (FATE's `Bucket.iv`).
fn bucket_iv(ev: u64, ne: u64, s: &OptimalSettings) -> f64 {
    let te = s.event_total.max(1) as f64;
    let tn = s.non_event_total.max(1) as f64;
    let (er, nr) = if ev == 0 || ne == 0 {
        (
            (ev as f64 + s.adjustment) / te,
            (ne as f64 + s.adjustment) / tn,
        )
    } else {
        (ev as f64 / te, ne as f64 / tn)
    };
    (er - nr) * (er / nr).ln()
}

fn gini(ev: u64, ne: u64) -> f64 {
    let t = (ev + ne) as f64;
    if t == 0.0 {
        return 0.0;
    }
    1.0 - (ev as f64 / t).powi(2) - (ne as f64 / t).powi(2)
}

/// The score of merging `l` and `r` (lower merges first).
fn score(l: &Bucket, r: &Bucket, s: &OptimalSettings) -> f64 {
    let (ev, ne) = (l.ev + r.ev, l.ne + r.ne);
    if ev + ne == 0 {
        return f64::NEG_INFINITY;
    }
    match s.metric {
        Metric::Iv => bucket_iv(l.ev, l.ne, s) + bucket_iv(r.ev, r.ne, s) - bucket_iv(ev, ne, s),
        Metric::Gini => gini(ev, ne) - gini(l.ev, l.ne) - gini(r.ev, r.ne),
        Metric::ChiSquare | Metric::Ks => {
            if ev == 0 || ne == 0 || l.total() == 0 || r.total() == 0 {
                return f64::NEG_INFINITY;
            }
            let t = (ev + ne) as f64;
            [(l, l.total() as f64), (r, r.total() as f64)]
                .iter()
                .map(|(b, n)| {
                    let (e1, e0) = (n / t * ev as f64, n / t * ne as f64);
                    (b.ev as f64 - e1).powi(2) / e1 + (b.ne as f64 - e0).powi(2) / e0
                })
                .sum()
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Mixture,
    SingleMixture,
    SmallSize,
    SingleSmallSize,
    Normal,
}

/// A candidate merge; the heap pops the lowest score, then the leftmost.
#[derive(Debug, Clone, Copy)]
struct Node {
    score: f64,
    first: usize,
    left: usize,
    right: usize,
}

impl PartialEq for Node {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl Eq for Node {}
impl PartialOrd for Node {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Node {
    // Reversed: BinaryHeap is a max-heap.
    fn cmp(&self, o: &Self) -> Ordering {
        o.score
            .total_cmp(&self.score)
            .then_with(|| o.first.cmp(&self.first))
    }
}

struct Merger<'a> {
    b: Vec<Bucket>,
    s: &'a OptimalSettings,
}

impl Merger<'_> {
    fn eligible(&self, l: &Bucket, r: &Bucket, phase: Phase) -> bool {
        let min = self.s.min_items;
        l.total() + r.total() <= self.s.max_items
            && match phase {
                Phase::Mixture => !l.mixed() && !r.mixed(),
                Phase::SingleMixture => !(l.mixed() && r.mixed()),
                Phase::SmallSize => l.total() < min && r.total() < min,
                Phase::SingleSmallSize => l.total() < min || r.total() < min,
                Phase::Normal => true,
            }
    }

    fn push(&self, heap: &mut BinaryHeap<Node>, l: usize, r: usize, phase: Phase) {
        let (bl, br) = (&self.b[l], &self.b[r]);
        if self.eligible(bl, br, phase) {
            heap.push(Node {
                score: score(bl, br, self.s),
                first: bl.first,
                left: l,
                right: r,
            });
        }
    }

    fn alive(&self) -> impl Iterator<Item = &Bucket> {
        self.b.iter().filter(|b| b.alive)
    }

    /// How far the phase is from its target (> 0: keep merging).
    fn aim(&self, phase: Phase) -> i64 {
        match phase {
            Phase::Mixture | Phase::SingleMixture => {
                self.alive().filter(|b| !b.mixed()).count() as i64
            }
            Phase::SmallSize | Phase::SingleSmallSize => self
                .alive()
                .filter(|b| b.total() < self.s.min_items)
                .count() as i64,
            Phase::Normal => self.alive().count() as i64 - self.s.max_bin as i64,
        }
    }

    fn run(&mut self, phase: Phase) {
        let mut heap = BinaryHeap::new();
        let ids: Vec<usize> = (0..self.b.len()).filter(|&i| self.b[i].alive).collect();
        for &i in &ids {
            if let Some(j) = self.b[i].next {
                self.push(&mut heap, i, j, phase);
            }
        }
        let mut aim = self.aim(phase);
        while aim > 0 {
            let Some(n) = heap.pop() else { break };
            if !self.b[n.left].alive || !self.b[n.right].alive {
                continue;
            }
            let (l, r) = (self.b[n.left], self.b[n.right]);
            let id = self.b.len();
            let m = Bucket {
                ev: l.ev + r.ev,
                ne: l.ne + r.ne,
                first: l.first,
                last: r.last,
                prev: l.prev,
                next: r.next,
                alive: true,
            };
            self.b[n.left].alive = false;
            self.b[n.right].alive = false;
            self.b.push(m);
            if let Some(p) = m.prev {
                self.b[p].next = Some(id);
            }
            if let Some(q) = m.next {
                self.b[q].prev = Some(id);
            }
            aim = match phase {
                Phase::Mixture | Phase::SingleMixture => {
                    aim - i64::from(!l.mixed()) - i64::from(!r.mixed()) + i64::from(!m.mixed())
                }
                Phase::SmallSize | Phase::SingleSmallSize => {
                    let small = |b: &Bucket| i64::from(b.total() < self.s.min_items);
                    aim - small(&l) - small(&r) + small(&m)
                }
                Phase::Normal => aim - 1,
            };
            if let Some(p) = m.prev {
                self.push(&mut heap, p, id, phase);
            }
            if let Some(q) = m.next {
                self.push(&mut heap, id, q, phase);
            }
        }
    }

    fn result(&self) -> Vec<usize> {
        let mut out: Vec<usize> = self.alive().map(|b| b.last).collect();
        out.sort_unstable();
        out
    }
}

/// The final bins of a column from its initial buckets' `(events, rows)`:
/// the index of the last initial bucket of every final bin, ascending (the
/// last is `counts.len() - 1`). Empty for no buckets.
pub fn optimal_bins(counts: &[(u64, u64)], s: &OptimalSettings) -> Vec<usize> {
    if counts.is_empty() {
        return Vec::new();
    }
    if s.metric == Metric::Ks {
        return ks_bins(counts, s);
    }
    let n = counts.len();
    let b: Vec<Bucket> = counts
        .iter()
        .enumerate()
        .map(|(i, &(ev, rows))| Bucket {
            ev,
            ne: rows.saturating_sub(ev),
            first: i,
            last: i,
            prev: i.checked_sub(1),
            next: (i + 1 < n).then_some(i + 1),
            alive: true,
        })
        .collect();
    let mut m = Merger { b, s };
    if s.mixture {
        m.run(Phase::Mixture);
        m.run(Phase::SingleMixture);
    }
    m.run(Phase::SmallSize);
    m.run(Phase::SingleSmallSize);
    m.run(Phase::Normal);
    m.result()
}

/// Top-down KS splits (FATE's `split_optimal_binning`).
fn ks_bins(counts: &[(u64, u64)], s: &OptimalSettings) -> Vec<usize> {
    let n = counts.len();
    let ev: Vec<u64> = counts.iter().map(|c| c.0).collect();
    let ne: Vec<u64> = counts.iter().map(|c| c.1.saturating_sub(c.0)).collect();
    // Cuts: a cut `c` ends a bin after initial bucket `c - 1`.
    let mut cuts: Vec<usize> = Vec::new();
    let mut todo: VecDeque<(usize, usize)> = VecDeque::from([(0, n)]);
    while let Some((start, end)) = todo.pop_front() {
        if cuts.len() + 1 >= s.max_bin {
            break;
        }
        if end - start < 2 {
            continue;
        }
        let (mut ae, mut an) = (Vec::new(), Vec::new());
        let (mut ce, mut cn) = (0u64, 0u64);
        for i in start..end {
            ce += ev[i];
            cn += ne[i];
            ae.push(ce);
            an.push(cn);
        }
        if ce == 0 || cn == 0 {
            continue;
        }
        // The last position cuts nothing off: candidates end one before it.
        let ks: Vec<f64> = ae[..ae.len() - 1]
            .iter()
            .zip(&an)
            .map(|(&e, &x)| (e as f64 / ce as f64 - x as f64 / cn as f64).abs())
            .collect();
        let max = ks.iter().copied().fold(0.0, f64::max);
        let middle = (end - start) / 2 - 1;
        let mut best = if max == 0.0 {
            middle
        } else {
            ks.iter().position(|&k| k == max).unwrap_or(middle)
        };
        let sides = |b: usize| {
            let (le, ln) = (ae[b], an[b]);
            (le, ln, ce - le, cn - ln)
        };
        let (le, ln, re, rn) = sides(best);
        if le + ln < s.min_items || re + rn < s.min_items {
            best = middle;
        }
        let (le, ln, re, rn) = sides(best);
        if s.mixture && !(le > 0 && ln > 0 && re > 0 && rn > 0) {
            continue;
        }
        if le + ln < s.min_items || re + rn < s.min_items {
            continue;
        }
        let cut = start + best + 1;
        cuts.push(cut);
        if re + rn > le + ln {
            todo.push_back((cut, end));
            todo.push_back((start, cut));
        } else {
            todo.push_back((start, cut));
            todo.push_back((cut, end));
        }
    }
    if cuts.is_empty() && n >= 2 {
        cuts.push(n / 2);
    }
    cuts.sort_unstable();
    let mut out: Vec<usize> = cuts.into_iter().map(|c| c - 1).collect();
    out.push(n - 1);
    out
}

/// Sums initial buckets' `(events, rows)` into the final bins `ends` gives.
pub fn merge_counts(counts: &[(u64, u64)], ends: &[usize]) -> Vec<(u64, u64)> {
    let mut out = Vec::with_capacity(ends.len());
    let mut start = 0;
    for &e in ends {
        let range = counts.get(start..=e).unwrap_or(&[]);
        out.push(range.iter().fold((0, 0), |a, c| (a.0 + c.0, a.1 + c.1)));
        start = e + 1;
    }
    out
}
