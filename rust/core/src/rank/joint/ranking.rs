//! Rankings: Plackett–Luce on the skills (Luce 1959; Plackett 1975) with tied groups by
//! Breslow's approximation, as in `plackett_luce.rs`: with groups G_1..G_K best first and
//! S_g = Σ_{j ∈ G_g ∪ … ∪ G_K} e^{θ_j}, the log likelihood is
//! Σ_{g<K} [Σ_{i∈G_g} θ_i − |G_g| log S_g]. Gradient, diagonal and (for the full matrix)
//! off-diagonal curvatures come from prefix sums P1(g) = Σ_{g'≤g} |G_g'|/S_g' and
//! P2(g) = Σ_{g'≤g} |G_g'|/S_g'², O(list length) apart from the pairs.

use super::super::lists::risk_sets;

/// One list's terms: per member (local index, gradient, diagonal curvature, capped
/// group, e^θ), and per choosing group P2.
pub(crate) struct ListTerms {
    pub members: Vec<(u32, f64, f64, u32, f64)>,
    pub second: Vec<f64>,
    /// The list's log likelihood (when asked for).
    pub log_likelihood: f64,
    risk: Vec<f64>,
}

impl ListTerms {
    pub fn new() -> Self {
        ListTerms {
            members: Vec::new(),
            second: Vec::new(),
            log_likelihood: 0.0,
            risk: Vec::new(),
        }
    }

    /// Fills the terms of the list `models` (best first, `ends` the group ends), and its
    /// log likelihood when `objective`.
    pub fn fill(
        &mut self,
        models: &[u32],
        ends: &[u32],
        local: &[u32],
        skills: &[f64],
        objective: bool,
    ) {
        self.members.clear();
        self.second.clear();
        self.log_likelihood = 0.0;
        let groups = ends.len();
        if groups < 2 {
            return;
        }
        // Strengths relative to the list's best skill, so exp never overflows.
        let top = models
            .iter()
            .map(|&m| skills[local[m as usize] as usize])
            .fold(f64::NEG_INFINITY, f64::max);
        let strength = |model: u32| (skills[local[model as usize] as usize] - top).exp();
        risk_sets(models, ends, strength, &mut self.risk);
        let (mut first, mut second) = (0.0, 0.0);
        let mut start = 0usize;
        for (group, &end) in ends.iter().enumerate() {
            if group < groups - 1 {
                let size = (end as usize - start) as f64;
                let risk = self.risk[group];
                first += size / risk;
                second += size / (risk * risk);
                self.second.push(second);
                if objective {
                    // Σ_{i∈G_g} θ_i − |G_g| log S_g, both relative to the best skill.
                    self.log_likelihood += models[start..end as usize]
                        .iter()
                        .map(|&m| skills[local[m as usize] as usize] - top)
                        .sum::<f64>()
                        - size * risk.ln();
                }
            }
            let capped = group.min(groups - 2) as u32;
            let chosen = if group < groups - 1 { 1.0 } else { 0.0 };
            for &model in &models[start..end as usize] {
                let t = strength(model);
                self.members.push((
                    local[model as usize],
                    chosen - t * first,
                    t * first - t * t * second,
                    capped,
                    t,
                ));
            }
            start = end as usize;
        }
    }
}
