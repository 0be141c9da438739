//! Validation of pairwise comparisons and rankings (see `validate` for the approach).

use super::validate::{
    first_error, same_length, Metrics, PairwisePart, RankingPart, Resolved, UNKNOWN,
};
use super::Metric;
use crate::error::{Error, Result};

pub fn validate_pairwise<'a>(
    part: &'a super::PairwiseBatch,
    metrics: &Metrics,
) -> Result<PairwisePart<'a>> {
    let state = metrics.state;
    let rows = part.outcome.len();
    same_length(
        "pairwise.samples",
        part.samples.codes.len(),
        rows,
        "outcome",
    )?;
    same_length(
        "pairwise.model_a",
        part.model_a.codes.len(),
        rows,
        "outcome",
    )?;
    same_length(
        "pairwise.model_b",
        part.model_b.codes.len(),
        rows,
        "outcome",
    )?;
    if let Some(probability) = &part.probability_b {
        same_length("pairwise.probability_b", probability.len(), rows, "outcome")?;
    }
    let pairwise = PairwisePart {
        samples: Resolved::new(&part.samples, "pairwise.samples".into(), "sample", |id| {
            state.samples.index.get(id).copied()
        }),
        model_a: Resolved::new(&part.model_a, "pairwise.model_a".into(), "model", |id| {
            state.models.resolve(id)
        }),
        model_b: Resolved::new(&part.model_b, "pairwise.model_b".into(), "model", |id| {
            state.models.resolve(id)
        }),
        outcome: &part.outcome,
        probability_b: part.probability_b.as_deref(),
    };
    first_error(rows, |row| {
        let sample = pairwise.samples.check(row)?;
        let a = pairwise.model_a.check(row)?;
        let b = pairwise.model_b.check(row)?;
        if a == b {
            let id = &state.models.records[a as usize].id;
            return Err(Error::invalid(
                "pairwise.model_b",
                Some(row),
                format!("model_a and model_b are both {id:?}"),
            ));
        }
        let outcome = pairwise.outcome[row];
        if outcome > 2 {
            return Err(Error::invalid(
                "pairwise.outcome",
                Some(row),
                format!("{outcome} is not 0 (a), 1 (b) or 2 (tie)"),
            ));
        }
        if let Some(probability) = pairwise.probability_b.map(|column| column[row]) {
            if !probability.is_nan() && !(0.0..=1.0).contains(&probability) {
                return Err(Error::invalid(
                    "pairwise.probability_b",
                    Some(row),
                    format!("{probability} is outside [0, 1]"),
                ));
            }
        }
        if !metrics.claim(sample, Metric::Pairwise) {
            return Err(metrics.error("pairwise.samples", row, sample, Metric::Pairwise));
        }
        Ok(())
    })?;
    Ok(pairwise)
}

pub fn validate_rankings<'a>(
    part: &'a super::RankingBatch,
    metrics: &Metrics,
) -> Result<RankingPart<'a>> {
    let state = metrics.state;
    let rankings = part.samples.codes.len();
    let entries = part.models.codes.len();
    same_length(
        "rankings.offsets",
        part.offsets.len(),
        rankings + 1,
        "samples plus one",
    )?;
    same_length(
        "rankings.positions",
        part.positions.len(),
        entries,
        "models",
    )?;
    if part.offsets.first() != Some(&0) || part.offsets.last() != Some(&(entries as u64)) {
        return Err(Error::invalid(
            "rankings.offsets",
            None,
            format!("must start at 0 and end at {entries}"),
        ));
    }
    let ranking = RankingPart {
        samples: Resolved::new(&part.samples, "rankings.samples".into(), "sample", |id| {
            state.samples.index.get(id).copied()
        }),
        offsets: &part.offsets,
        models: Resolved::new(&part.models, "rankings.models".into(), "model", |id| {
            state.models.resolve(id)
        }),
        positions: &part.positions,
    };
    first_error(rankings, |row| {
        let sample = ranking.samples.check(row)?;
        let (start, end) = (ranking.offsets[row], ranking.offsets[row + 1]);
        if end < start || end - start < 2 {
            return Err(Error::invalid(
                "rankings.offsets",
                Some(row),
                "a ranking needs at least 2 models",
            ));
        }
        let (start, end) = (start as usize, end as usize);
        let mut models = Vec::with_capacity(end - start);
        for entry in start..end {
            let model = ranking.models.get(entry);
            if model == UNKNOWN {
                return Err(match ranking.models.error(entry) {
                    Error::UnknownId { kind, id, .. } => Error::UnknownId {
                        kind,
                        id,
                        row: Some(row),
                    },
                    other => other,
                });
            }
            models.push(model);
        }
        models.sort_unstable();
        if let Some(pair) = models.windows(2).find(|pair| pair[0] == pair[1]) {
            let id = &state.models.records[pair[0] as usize].id;
            return Err(Error::invalid(
                "rankings.models",
                Some(row),
                format!("model {id:?} appears twice"),
            ));
        }
        if ranking.positions[start..end]
            .windows(2)
            .any(|pair| pair[1] < pair[0])
        {
            return Err(Error::invalid(
                "rankings.positions",
                Some(row),
                "positions must be non-decreasing",
            ));
        }
        if !metrics.claim(sample, Metric::Ranking) {
            return Err(metrics.error("rankings.samples", row, sample, Metric::Ranking));
        }
        Ok(())
    })?;
    Ok(ranking)
}
