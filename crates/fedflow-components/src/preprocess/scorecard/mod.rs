//! `Scorecard` (FATE's Scorecard), on the guest: turns a binary model's
//! predictions into credit scores.
//!
//! `score = offset + factor / ln(factor_base) · ln(odds)`, `odds = p(0) /
//! p(1)` from the row's `predict_detail`, clipped to `[lower_limit_value,
//! upper_limit_ratio · offset]` and rounded to 2 decimals; a score of 0 gives
//! the upper limit, 1 the lower, one outside [0, 1] gives -1 (then
//! clipped), as FATE. FATE's code divides by ln 2 whatever `factor_base`
//! says; fedflow uses `factor_base` (the same with its default, 2).
//!
//! Parameters (FATE's `ScorecardParam`): `method` (`credit`, the only one),
//! `offset` (500), `factor` (20), `factor_base` (2), `upper_limit_ratio`
//! (3), `lower_limit_value` (0), `need_run` (true).
//!
//! Output: rows `[label, predict_result, predict_score, credit_score]`
//! (a list of numbers per id), header as FATE's. The input must be a
//! binary classifier's predictions (detail with classes `0` and `1`), else
//! the task fails saying so.

use crate::{
    parse_params, Component, ComponentError, ComponentOutput, Dataset, Prediction, Schema,
    TaskContext, PREDICTION_HEADER,
};
use fedflow_computing::{register_op, MapValuesOp, OpError, TypedTable};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// FATE's `ScorecardParam`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScorecardParam {
    /// `credit`.
    pub method: String,
    /// The score of odds 1.
    pub offset: f64,
    /// Points per `factor_base`-fold of the odds.
    pub factor: f64,
    /// The odds ratio `factor` is counted per.
    pub factor_base: f64,
    /// Upper limit = this × offset.
    pub upper_limit_ratio: f64,
    /// Lower limit.
    pub lower_limit_value: f64,
    /// FATE's `need_run`.
    pub need_run: bool,
}

impl Default for ScorecardParam {
    fn default() -> Self {
        ScorecardParam {
            method: "credit".into(),
            offset: 500.0,
            factor: 20.0,
            factor_base: 2.0,
            upper_limit_ratio: 3.0,
            lower_limit_value: 0.0,
            need_run: true,
        }
    }
}

/// The header of score tables.
pub const SCORE_HEADER: [&str; 4] = ["label", "predict_result", "predict_score", "credit_score"];

/// A prediction's credit score.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CreditScore {
    /// `offset`.
    pub offset: f64,
    /// `factor / ln(factor_base)`.
    pub per_ln_odds: f64,
    /// Upper limit.
    pub upper: f64,
    /// Lower limit.
    pub lower: f64,
}

impl CreditScore {
    /// The score of positive-class probability `p1` (negative `p0`).
    pub fn score(&self, p0: f64, p1: f64) -> f64 {
        const ZERO: f64 = 1e-8;
        let s = if p1.abs() < ZERO && p1 >= 0.0 {
            self.upper
        } else if (p1 - 1.0).abs() < ZERO && p1 > 0.0 {
            self.lower
        } else if !(0.0..=1.0).contains(&p1) {
            -1.0
        } else {
            self.offset + self.per_ln_odds * (p0 / p1).ln()
        };
        let s = s.min(self.upper).max(self.lower);
        (s * 100.0).round() / 100.0
    }
}

impl MapValuesOp for CreditScore {
    const NAME: &'static str = "scorecard.credit_score";
    type V = Prediction;
    type Out = Vec<f64>;
    fn map_value(&self, p: Prediction) -> Result<Vec<f64>, OpError> {
        let detail: serde_json::Map<String, Value> = serde_json::from_str(&p.predict_detail)
            .map_err(|e| OpError::msg(format!("predict_detail '{}': {e}", p.predict_detail)))?;
        let prob = |k: &str| {
            detail.get(k).and_then(Value::as_f64).ok_or_else(|| {
                OpError::msg(format!(
                    "predict_detail {} has no class '{k}': Scorecard scores a binary classifier's predictions",
                    p.predict_detail
                ))
            })
        };
        let (p0, p1) = (prob("0")?, prob("1")?);
        Ok(vec![p.label, p.predict_result, p1, self.score(p0, p1)])
    }
}
register_op!(map_values CreditScore, example: CreditScore { offset: 500.0, per_ln_odds: 20.0 / std::f64::consts::LN_2, upper: 1500.0, lower: 0.0 }, input: vec![("a".to_string(), Prediction { label: 1.0, predict_result: 1.0, predict_score: 0.8, predict_detail: "{\"0\": 0.2, \"1\": 0.8}".into(), kind: "train".into() })]);

fn check(cpn: &str, p: &ScorecardParam) -> Result<(), ComponentError> {
    let bad = |path: &str, message: String| ComponentError::Param {
        path: format!("{cpn}.{path}"),
        message,
    };
    if !p.method.eq_ignore_ascii_case("credit") {
        return Err(bad("method", format!("'{}': expected credit", p.method)));
    }
    if !(p.factor_base > 0.0 && p.factor_base != 1.0) {
        return Err(bad(
            "factor_base",
            format!("{}: expected a positive number other than 1", p.factor_base),
        ));
    }
    Ok(())
}

/// The component.
pub struct Scorecard;

impl Component for Scorecard {
    fn module(&self) -> &'static str {
        "Scorecard"
    }

    fn check_params(
        &self,
        component: &str,
        _role: fedflow_core::Role,
        params: &Value,
    ) -> Result<(), ComponentError> {
        check(component, &parse_params(component, params)?)
    }

    fn run(&self, ctx: &TaskContext) -> Result<ComponentOutput, ComponentError> {
        let cpn = ctx.component_name.as_str();
        let p: ScorecardParam = parse_params(cpn, &ctx.params)?;
        check(cpn, &p)?;
        let Some(input) = ctx.inputs.any() else {
            return Ok(ComponentOutput::default());
        };
        if !p.need_run {
            return Ok(ComponentOutput {
                summary: json!({"need_run": false}),
                data: vec![input.clone()],
                model: None,
            });
        }
        if !input
            .schema
            .header
            .iter()
            .map(String::as_str)
            .eq(PREDICTION_HEADER)
        {
            return Err(ComponentError::Input(format!(
                "{cpn}: Scorecard scores a model's predictions; its input has columns {:?}",
                input.schema.header
            )));
        }
        let op = CreditScore {
            offset: p.offset,
            per_ln_odds: p.factor / p.factor_base.ln(),
            upper: p.upper_limit_ratio * p.offset,
            lower: p.lower_limit_value,
        };
        let t: TypedTable<String, Prediction> = TypedTable::from_raw(input.table.clone());
        let out = t.map_values(op)?;
        let formula = format!(
            "Score = {} + {} / ln({}) * ln(Odds)",
            p.offset, p.factor, p.factor_base
        );
        tracing::info!("{cpn}: {formula}");
        Ok(ComponentOutput {
            summary: json!({"scorecard_compute_formula": formula}),
            data: vec![Dataset {
                table: out.raw().clone(),
                schema: Schema {
                    sid: input.schema.sid.clone(),
                    header: SCORE_HEADER.iter().map(|s| s.to_string()).collect(),
                    label_name: None,
                    extra: Default::default(),
                },
            }],
            model: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::*;
    use fedflow_computing::parallelize;

    fn predictions(rows: &[(f64, f64)]) -> Dataset {
        let rows: Vec<(String, Prediction)> = rows
            .iter()
            .enumerate()
            .map(|(i, &(y, p1))| {
                (
                    format!("{i}"),
                    Prediction {
                        label: y,
                        predict_result: f64::from(u8::from(p1 > 0.5)),
                        predict_score: p1,
                        predict_detail: json!({"0": 1.0 - p1, "1": p1}).to_string(),
                        kind: "train".into(),
                    },
                )
            })
            .collect();
        let s = session();
        let t = parallelize(s.as_ref(), rows, 2).unwrap();
        Dataset {
            table: t.raw().clone(),
            schema: Schema {
                sid: "id".into(),
                header: PREDICTION_HEADER.iter().map(|s| s.to_string()).collect(),
                label_name: None,
                extra: Default::default(),
            },
        }
    }

    fn run(params: Value, d: Dataset) -> Result<ComponentOutput, ComponentError> {
        let dir = tempfile::tempdir().unwrap();
        crate::run(
            &Scorecard,
            &ctx(dir.path(), "sc", GUEST, params, inputs("data", d)),
        )
    }

    #[test]
    fn scores_follow_the_formula_with_fates_limits() {
        let out = run(
            json!({}),
            predictions(&[(1.0, 0.2), (0.0, 0.5), (1.0, 0.0), (1.0, 1.0), (0.0, 1e-12)]),
        )
        .unwrap();
        let t: TypedTable<String, Vec<f64>> = TypedTable::from_raw(out.data[0].table.clone());
        let rows: std::collections::BTreeMap<String, Vec<f64>> =
            t.collect().unwrap().into_iter().collect();
        // p1 = 0.2: odds 4, two doublings: 500 + 2 × 20.
        assert_eq!(rows["0"], vec![1.0, 0.0, 0.2, 540.0]);
        assert_eq!(rows["1"][3], 500.0);
        assert_eq!(rows["2"][3], 1500.0);
        assert_eq!(rows["3"][3], 0.0);
        assert_eq!(rows["4"][3], 1500.0);
        assert_eq!(out.data[0].schema.header, SCORE_HEADER.to_vec());
        // factor_base 4: 20 points per 4-fold odds.
        let out = run(
            json!({"factor_base": 4, "upper_limit_ratio": 1.05}),
            predictions(&[(1.0, 0.2)]),
        )
        .unwrap();
        let t: TypedTable<String, Vec<f64>> = TypedTable::from_raw(out.data[0].table.clone());
        assert_eq!(t.collect().unwrap()[0].1[3], 520.0);
    }

    #[test]
    fn bad_input_fails_saying_what_is_expected() {
        let e = run(json!({"method": "fico"}), predictions(&[(1.0, 0.2)]))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("sc.method") && e.contains("expected credit"),
            "{e}"
        );
        let e = run(json!({"factor_base": 1}), predictions(&[(1.0, 0.2)]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("sc.factor_base"), "{e}");
        let e = run(
            json!({}),
            transformed("breast_hetero_guest.csv", true, GUEST),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("scores a model's predictions"), "{e}");
    }
}
