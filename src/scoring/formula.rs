//! Annual results (§8.1): a subject type's weighted formula tree evaluated over the subject's own
//! evaluation results and its linked subjects' annual scores, absent leaves renormalised away.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::exact::{non_terminating, Exact, Fraction};
use crate::scoring::inputs::EvaluationKind;
use crate::scoring::model::SubjectType;
use crate::scoring::rubric::ScoringSettings;
use crate::scoring::scheme::{FormulaNode, LinkRelation};

/// The scores an annual formula draws on for one subject.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AnnualInputs {
    /// The subject's own evaluation results (absent ones are skipped).
    #[serde(default)]
    pub evaluations: Vec<EvaluationScore>,
    /// Linked subjects' annual scores (absent ones are skipped).
    #[serde(default)]
    pub linked: Vec<LinkedScore>,
}

/// One of the subject's own evaluation results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EvaluationScore {
    /// The evaluation.
    pub evaluation_id: Uuid,
    /// Its kind.
    pub kind: EvaluationKind,
    /// Its title.
    pub title: String,
    /// The exact result (rubric total or democratic score); absent = not scored.
    pub value: Option<Exact>,
}

/// A linked subject's annual score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LinkedScore {
    /// The linked subject.
    pub subject_id: Uuid,
    /// Its name.
    pub name: String,
    /// Its type.
    pub subject_type: SubjectType,
    /// How it is linked.
    pub relation: LinkRelation,
    /// Its exact annual score; absent = not scored.
    pub value: Option<Exact>,
}

/// A subject's annual result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AnnualResult {
    /// Exact annual score; absent when every component is absent.
    #[schema(example = "87.04")]
    pub value: Option<Exact>,
    /// The exact annual score as a fraction in lowest terms, present only when it does not
    /// terminate as a decimal: then `value` is rounded to 28 digits and this is the value itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "961/12")]
    pub exact: Option<Fraction>,
    /// Rounded half-up to the scheme's digits: what grades, ranks and consequences use.
    #[schema(example = "87.04")]
    pub published_score: Option<Decimal>,
    /// The formula tree as evaluated.
    pub formula: FormulaResult,
}

/// One evaluated node of the formula tree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FormulaResult {
    /// The component's label, if the scheme names it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// The weight the scheme declares for it among its siblings (1 for the root).
    #[schema(example = "0.4")]
    pub declared_weight: Decimal,
    /// Its share of the annual score after absent siblings' weights were redistributed
    /// (declared ÷ present siblings' declared × parent's effective weight); 0 when absent.
    #[schema(example = "0.4")]
    pub effective_weight: Exact,
    /// Exact value; absent when the component is absent.
    pub value: Option<Exact>,
    /// The value as a fraction in lowest terms, when it does not terminate as a decimal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exact: Option<Fraction>,
    /// Whether the component is absent (a leaf with nothing to average, or all children absent).
    pub absent: bool,
    /// What the component is.
    pub node: FormulaResultNode,
}

/// The kind of an evaluated formula node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FormulaResultNode {
    /// Weighted children.
    Weighted {
        /// The children.
        #[schema(no_recursion)]
        children: Vec<FormulaResult>,
    },
    /// Mean of the subject's own evaluation results.
    Own {
        /// The evaluation kinds averaged.
        evaluations: Vec<EvaluationKind>,
        /// The results averaged.
        inputs: Vec<FormulaInput>,
    },
    /// Mean of linked subjects' annual scores.
    Linked {
        /// The linked type.
        subject_type: SubjectType,
        /// The relation.
        relation: LinkRelation,
        /// The scores averaged.
        inputs: Vec<FormulaInput>,
    },
}

/// One score a leaf averaged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FormulaInput {
    /// One of the subject's evaluations.
    Evaluation {
        /// The evaluation.
        evaluation_id: Uuid,
        /// Its kind.
        kind: EvaluationKind,
        /// Its title.
        title: String,
        /// Its exact result.
        value: Exact,
    },
    /// A linked subject.
    Subject {
        /// The subject.
        subject_id: Uuid,
        /// Its name.
        name: String,
        /// Its exact annual score.
        value: Exact,
    },
}

impl FormulaInput {
    fn value(&self) -> &Exact {
        match self {
            FormulaInput::Evaluation { value, .. } | FormulaInput::Subject { value, .. } => value,
        }
    }
}

/// Evaluates an annual formula. Every leaf is the mean of its list; an empty list makes the leaf
/// absent, and present siblings' weights are scaled up to their parent's weight.
pub fn evaluate_annual(formula: &FormulaNode, inputs: &AnnualInputs, settings: &ScoringSettings) -> AnnualResult {
    let mut root = evaluate(formula, Decimal::ONE, None, inputs);
    assign_effective_weights(&mut root, Exact::from_integer(1));
    AnnualResult {
        value: root.value.clone(),
        exact: root.exact.clone(),
        published_score: root.value.as_ref().map(|value| settings.publish(value)),
        formula: root,
    }
}

fn mean<'a>(values: impl Iterator<Item = &'a Exact>) -> Option<Exact> {
    let (sum, count) = values.fold((Exact::zero(), 0usize), |(sum, count), value| {
        (sum.add(value), count.saturating_add(1))
    });
    sum.div_count(count)
}

fn leaf(
    declared_weight: Decimal,
    label: Option<String>,
    inputs: Vec<FormulaInput>,
    node: impl FnOnce(Vec<FormulaInput>) -> FormulaResultNode,
) -> FormulaResult {
    let value = mean(inputs.iter().map(FormulaInput::value));
    result(declared_weight, label, value, node(inputs))
}

/// A node's result before its effective weight is known.
fn result(
    declared_weight: Decimal,
    label: Option<String>,
    value: Option<Exact>,
    node: FormulaResultNode,
) -> FormulaResult {
    FormulaResult {
        label,
        declared_weight,
        effective_weight: Exact::zero(),
        exact: value.as_ref().and_then(non_terminating),
        absent: value.is_none(),
        value,
        node,
    }
}

fn evaluate(
    node: &FormulaNode,
    declared_weight: Decimal,
    label: Option<String>,
    inputs: &AnnualInputs,
) -> FormulaResult {
    match node {
        FormulaNode::Own { evaluations } => {
            let own = inputs
                .evaluations
                .iter()
                .filter(|evaluation| evaluations.contains(&evaluation.kind))
                .filter_map(|evaluation| {
                    Some(FormulaInput::Evaluation {
                        evaluation_id: evaluation.evaluation_id,
                        kind: evaluation.kind,
                        title: evaluation.title.clone(),
                        value: evaluation.value.clone()?,
                    })
                })
                .collect();
            leaf(declared_weight, label, own, |inputs| FormulaResultNode::Own {
                evaluations: evaluations.clone(),
                inputs,
            })
        }
        FormulaNode::Linked { subject_type, relation } => {
            let linked = inputs
                .linked
                .iter()
                .filter(|linked| linked.subject_type == *subject_type && linked.relation == *relation)
                .filter_map(|linked| {
                    Some(FormulaInput::Subject {
                        subject_id: linked.subject_id,
                        name: linked.name.clone(),
                        value: linked.value.clone()?,
                    })
                })
                .collect();
            leaf(declared_weight, label, linked, |inputs| FormulaResultNode::Linked {
                subject_type: *subject_type,
                relation: *relation,
                inputs,
            })
        }
        FormulaNode::Weighted { children } => {
            let children: Vec<FormulaResult> = children
                .iter()
                .map(|child| evaluate(&child.node, child.weight, child.label.clone(), inputs))
                .collect();
            // Σ(weight × value) ÷ Σ(weight of present children): one division, so a complete
            // level with weights summing to 1 stays exact.
            let (weighted, present) = children
                .iter()
                .filter_map(|child| Some((Exact::from(child.declared_weight), child.value.as_ref()?)))
                .fold((Exact::zero(), Exact::zero()), |(sum, weights), (weight, value)| {
                    (sum.add(&weight.mul(value)), weights.add(&weight))
                });
            let value = if present > Exact::zero() {
                weighted.div(&present)
            } else {
                None
            };
            result(declared_weight, label, value, FormulaResultNode::Weighted { children })
        }
    }
}

fn assign_effective_weights(node: &mut FormulaResult, effective: Exact) {
    if node.absent {
        return;
    }
    node.effective_weight = effective.clone();
    if let FormulaResultNode::Weighted { children } = &mut node.node {
        let present: Exact = children
            .iter()
            .filter(|child| !child.absent)
            .map(|child| Exact::from(child.declared_weight))
            .sum();
        for child in children.iter_mut().filter(|child| !child.absent) {
            let share = effective
                .mul(&Exact::from(child.declared_weight))
                .div(&present)
                .unwrap_or_else(Exact::zero);
            assign_effective_weights(child, share);
        }
    }
}
