//! Selection filters that read a `HeteroPearson` model (isometric model):
//!
//! * `vif_filter` (`vif_param.threshold`, default 10): each party, on its own
//!   `local_vif`, keeps the candidate columns with VIF below the threshold
//!   (NaN = dropped); if none would stay, the one with the lowest VIF stays
//!   (FATE's keep-one rule).
//! * `correlation_filter` (`correlation_param`: `sort_metric` "iv",
//!   `threshold` 0.1, `select_federated` true): the guest ranks the candidate
//!   columns by IV (from the HeteroFeatureBinning model) — its own and, with
//!   `select_federated`, the host's — and walks them from the highest: a column
//!   not yet dropped drops every other column whose |correlation| with it
//!   exceeds the threshold (guest–guest by `local_corr`, guest–host by the
//!   cross `corr`; host–host pairs are not known to the guest). With
//!   `select_federated` the host receives the anonymous names of its columns
//!   that stay (`host_select_cols`); otherwise the host keeps all its columns.

use crate::hetero_feature_binning::BinningModelParam;
use crate::hetero_pearson::PearsonModelParam;
use crate::{parse_params, ComponentError, TaskContext};
use std::collections::BTreeSet;

/// The HeteroPearson isometric model, required by the Pearson filters.
pub(crate) fn pearson_model(
    ctx: &TaskContext,
    method: &str,
) -> Result<PearsonModelParam, ComponentError> {
    let cpn = &ctx.component_name;
    let m = ctx.inputs.model("HeteroPearson").ok_or_else(|| {
        ComponentError::Input(format!(
            "{cpn}: filter '{method}' needs a HeteroPearson model as isometric_model"
        ))
    })?;
    parse_params(&format!("{cpn}(isometric model HeteroPearson)"), &m.param)
}

/// `vif_filter`: the columns of `left` that stay.
pub(crate) fn vif_filter(
    left: &BTreeSet<String>,
    model: &PearsonModelParam,
    threshold: f64,
) -> BTreeSet<String> {
    let vif_of = |c: &String| {
        model
            .names
            .iter()
            .position(|n| n == c)
            .and_then(|i| model.local_vif.get(i).copied())
    };
    let mut out: BTreeSet<String> = left
        .iter()
        .filter(|c| match vif_of(c) {
            Some(v) => v < threshold,
            // Columns the model did not cover are not judged.
            None => true,
        })
        .cloned()
        .collect();
    if out.is_empty() {
        if let Some(best) = left
            .iter()
            .filter_map(|c| vif_of(c).filter(|v| !v.is_nan()).map(|v| (c, v)))
            .min_by(|a, b| a.1.total_cmp(&b.1))
        {
            out.insert(best.0.clone());
        }
    }
    out
}

/// `correlation_filter` at the guest: `(guest columns that stay, host
/// anonymous names that stay)`; `host_left` = the host's candidate anonymous
/// names (empty unless `select_federated`).
pub(crate) fn correlation_filter(
    left: &BTreeSet<String>,
    host_left: &BTreeSet<String>,
    model: &PearsonModelParam,
    binning: &BinningModelParam,
    threshold: f64,
) -> (BTreeSet<String>, BTreeSet<String>) {
    let g_names = model.guest_names();
    let h_names = model.host_names();
    let host_id = model.host_party_id().map(|h| h.to_string());
    let host_iv = |n: &String| {
        let hr = binning.host_results.get(host_id.as_deref()?)?;
        hr.get(n).map(|r| r.iv)
    };
    // (is_host, name, iv), highest IV first (stable on ties: guest, then header order).
    let mut ranked: Vec<(bool, String, f64)> = left
        .iter()
        .filter_map(|c| {
            binning
                .binning_result
                .get(c)
                .map(|r| (false, c.clone(), r.iv))
        })
        .chain(
            host_left
                .iter()
                .filter_map(|c| host_iv(c).map(|iv| (true, c.clone(), iv))),
        )
        .collect();
    ranked.sort_by(|a, b| b.2.total_cmp(&a.2));
    let mut dropped_g: BTreeSet<String> = BTreeSet::new();
    let mut dropped_h: BTreeSet<String> = BTreeSet::new();
    for (is_host, name, _) in &ranked {
        if (*is_host && dropped_h.contains(name)) || (!*is_host && dropped_g.contains(name)) {
            continue;
        }
        if *is_host {
            let Some(j) = h_names.iter().position(|n| n == name) else {
                continue;
            };
            for (i, g) in g_names.iter().enumerate() {
                if model.cross(i, j).abs() > threshold && left.contains(g) {
                    dropped_g.insert(g.clone());
                }
            }
        } else {
            let Some(i) = g_names.iter().position(|n| n == name) else {
                continue;
            };
            for (k, g) in g_names.iter().enumerate() {
                if k != i && model.local(i, k).abs() > threshold && left.contains(g) {
                    dropped_g.insert(g.clone());
                }
            }
            for (j, h) in h_names.iter().enumerate() {
                if model.cross(i, j).abs() > threshold && host_left.contains(h) {
                    dropped_h.insert(h.clone());
                }
            }
        }
    }
    (
        left.difference(&dropped_g).cloned().collect(),
        host_left.difference(&dropped_h).cloned().collect(),
    )
}
