//! Comparisons: Bradley–Terry on the skill difference (Bradley & Terry 1952), with ties
//! by Davidson's model (Davidson 1970, "On extending the Bradley–Terry model to
//! accommodate ties in paired comparison experiments", JASA 65) when the data hold exact
//! ties: with d = θ_a − θ_b and Z = e^{d/2} + e^{−d/2} + ν,
//! P(a) = e^{d/2}/Z, P(b) = e^{−d/2}/Z, P(tie) = ν/Z. With ν = 0 this is
//! P(a) = σ(d), the same logit scale as the Rasch model of binary samples. A fractional
//! credit c (a judge's probability) enters as c·log P(a) + (1 − c)·log P(b).

use super::binary::sigmoid;

/// Gradient of the log likelihood in d, its curvature (negated second derivative), and
/// the gradient and curvature in log ν.
pub(crate) struct Comparison {
    pub gradient: f64,
    pub curvature: f64,
    pub tie_gradient: f64,
    pub tie_curvature: f64,
}

pub(crate) fn comparison(difference: f64, credit_a: f64, tie: f64) -> Comparison {
    if tie <= 0.0 {
        let p = sigmoid(difference);
        return Comparison {
            gradient: credit_a - p,
            curvature: p * (1.0 - p),
            tie_gradient: 0.0,
            tie_curvature: 0.0,
        };
    }
    let half = (0.5 * difference).clamp(-300.0, 300.0);
    let (up, down) = (half.exp(), (-half).exp());
    let total = up + down + tie;
    // q = d log Z / dd; the curvature is d² log Z / dd².
    let q = (up - down) / (2.0 * total);
    let curvature = (up + down) / (4.0 * total) - q * q;
    let share = tie / total;
    if credit_a == 0.5 {
        Comparison {
            gradient: -q,
            curvature,
            tie_gradient: 1.0 - share,
            tie_curvature: share * (1.0 - share),
        }
    } else {
        Comparison {
            gradient: credit_a - 0.5 - q,
            curvature,
            tie_gradient: -share,
            tie_curvature: share * (1.0 - share),
        }
    }
}

/// The log likelihood of one comparison: c log P(a) + (1 − c) log P(b), or log P(tie)
/// for an exact tie when ties are modelled.
pub(crate) fn log_likelihood(difference: f64, credit_a: f64, tie: f64) -> f64 {
    if tie <= 0.0 {
        // log σ(d) = −log(1 + e^{−d}); log σ(−d) = log σ(d) − d.
        let log_a = -(-difference).exp().ln_1p();
        let log_a = if log_a.is_finite() { log_a } else { difference };
        return log_a - (1.0 - credit_a) * difference;
    }
    let half = (0.5 * difference).clamp(-300.0, 300.0);
    let log_total = (half.exp() + (-half).exp() + tie).ln();
    if credit_a == 0.5 {
        tie.ln() - log_total
    } else {
        (credit_a - 0.5) * 2.0 * half - log_total
    }
}
