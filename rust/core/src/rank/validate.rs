//! Checks of the ranking options and the dataset before any fit.

use super::{Interval, Method, RankOptions};
use crate::data::Dataset;
use crate::error::{Error, Result};

/// Names the first invalid option or malformed part of `data`.
pub(super) fn validate(
    data: &Dataset,
    subset: Option<&[u32]>,
    options: &RankOptions,
) -> Result<()> {
    if !(options.alpha.is_finite() && options.alpha >= 0.0) {
        return Err(Error::invalid(
            "alpha",
            None,
            format!("must be finite and >= 0, got {}", options.alpha),
        ));
    }
    if !(options.ci_level > 0.0 && options.ci_level < 1.0) {
        return Err(Error::invalid(
            "ci_level",
            None,
            format!("must be in (0, 1), got {}", options.ci_level),
        ));
    }
    if !(options.tolerance.is_finite() && options.tolerance > 0.0) {
        return Err(Error::invalid(
            "tolerance",
            None,
            format!("must be finite and > 0, got {}", options.tolerance),
        ));
    }
    if options.max_iterations == 0 {
        return Err(Error::invalid("max_iterations", None, "must be at least 1"));
    }
    if let Some(initial) = &options.initial {
        if initial.len() != data.n_models {
            return Err(Error::invalid(
                "initial",
                None,
                format!("has {} scores for {} models", initial.len(), data.n_models),
            ));
        }
    }
    if options.initial_solution.is_some() && options.method != Method::Joint {
        return Err(Error::invalid(
            "initial_solution",
            None,
            format!(
                "only the joint method resumes a solution, not {}",
                options.method.name()
            ),
        ));
    }
    if let Interval::Bootstrap { replicates, .. } = options.interval {
        if replicates < 2 {
            return Err(Error::invalid(
                "replicates",
                None,
                format!("must be at least 2, got {replicates}"),
            ));
        }
    }
    let kinds = [
        ("cardinal", data.cardinal.offsets.len()),
        ("pairwise", data.pairwise.offsets.len()),
        ("rankings", data.rankings.offsets.len()),
    ];
    for (kind, len) in kinds {
        // An empty offsets vector means "no measurements of this kind".
        if len != 0 && len != data.n_samples + 1 {
            return Err(Error::invalid(
                kind,
                None,
                format!(
                    "has {len} offsets for {} samples (expected n_samples + 1)",
                    data.n_samples
                ),
            ));
        }
    }
    if let Some(subset) = subset {
        if let Some(position) = subset.iter().position(|&s| s as usize >= data.n_samples) {
            return Err(Error::invalid(
                "samples",
                Some(position),
                format!(
                    "sample index {} out of range for {} samples",
                    subset[position], data.n_samples
                ),
            ));
        }
    }
    Ok(())
}
