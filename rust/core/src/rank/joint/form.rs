//! The model's form: which parts beyond the plain hierarchical core a fit uses.
//!
//! The core is one skill per model with Rasch / offset / Bradley–Terry–Davidson /
//! Plackett–Luce likelihoods and difficulties shrunk to their stratum's location with a
//! fixed spread ([`FIXED_SPREAD`]). Three parts may enter, each only where held-out
//! measurements support it (`choose.rs`):
//!
//! * `spreads`: an empirical-Bayes spread per benchmark (`prior.rs`), estimated only for
//!   benchmarks with [`SPREAD_EVIDENCE`] samples or more measured twice or more; a
//!   benchmark with fewer keeps the fixed spread, since a variance read off a handful of
//!   difficulties is mostly noise;
//! * `deviations`: a deviation per model and stratum (`deviations.rs`);
//! * `measurer`: the measurer effect (`prior.rs`), held at 0 when off.

/// τ of a difficulty prior that is not estimated (logits): samples of one stratum differ
/// by about a logit, the scale of the logistic itself. It is the spread every fit starts
/// from and a weak prior for any benchmark whose difficulties span a few logits.
pub(crate) const FIXED_SPREAD: f64 = 1.0;

/// Samples measured at least twice that a benchmark needs for its spread to be estimated.
pub(crate) const SPREAD_EVIDENCE: usize = 20;

/// Which parts a fit uses beyond the core.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct JointForm {
    pub spreads: bool,
    pub deviations: bool,
    pub measurer: bool,
}

impl JointForm {
    /// The plain hierarchical model.
    pub const CORE: JointForm = JointForm {
        spreads: false,
        deviations: false,
        measurer: false,
    };
    /// Every part.
    pub const FULL: JointForm = JointForm {
        spreads: true,
        deviations: true,
        measurer: true,
    };
    /// The parts' names, in the order the selection tries them.
    pub const PARTS: [&'static str; 3] = ["spreads", "deviations", "measurer"];

    /// Whether the part `name` is on.
    pub fn has(self, name: &str) -> bool {
        match name {
            "spreads" => self.spreads,
            "deviations" => self.deviations,
            "measurer" => self.measurer,
            _ => false,
        }
    }

    /// This form with the part `name` on.
    pub fn with(self, name: &str) -> JointForm {
        let mut form = self;
        match name {
            "spreads" => form.spreads = true,
            "deviations" => form.deviations = true,
            "measurer" => form.measurer = true,
            _ => {}
        }
        form
    }

    /// The parts that are on, in [`JointForm::PARTS`] order.
    pub fn parts(self) -> Vec<&'static str> {
        JointForm::PARTS
            .into_iter()
            .filter(|&part| self.has(part))
            .collect()
    }

    /// "core", "full", or "core+part+…".
    pub fn name(self) -> String {
        if self == JointForm::FULL {
            return "full".to_owned();
        }
        let mut name = "core".to_owned();
        for part in self.parts() {
            name.push('+');
            name.push_str(part);
        }
        name
    }

    /// Parses [`JointForm::name`]'s output ("core", "full", "core+spreads", …); `None`
    /// for anything else.
    pub fn parse(text: &str) -> Option<JointForm> {
        if text == "full" {
            return Some(JointForm::FULL);
        }
        let mut pieces = text.split('+');
        if pieces.next() != Some("core") {
            return None;
        }
        let mut form = JointForm::CORE;
        for piece in pieces {
            if !JointForm::PARTS.contains(&piece) || form.has(piece) {
                return None;
            }
            form = form.with(piece);
        }
        Some(form)
    }
}

/// How a fit's form is decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FormChoice {
    /// By held-out measurements, per pool and selection (`choose.rs`).
    #[default]
    Auto,
    /// As given.
    Given(JointForm),
}

/// One form the selection scored.
#[derive(Debug, Clone, PartialEq)]
pub struct FormCandidate {
    pub form: JointForm,
    /// Held-out log-likelihood per held-out measurement.
    pub log_likelihood: f64,
    /// Its gain over the form it was compared with, and that gain's standard error
    /// (clustered by sample); 0 for the starting form.
    pub gain: f64,
    pub standard_error: f64,
    /// Whether the selection kept it.
    pub kept: bool,
}

/// Which form a fit used and why.
#[derive(Debug, Clone, PartialEq)]
pub struct FormReport {
    pub form: JointForm,
    /// "given" or "cross-validation".
    pub chosen_by: &'static str,
    pub candidates: Vec<FormCandidate>,
    /// Held-out measurements the candidates were scored on.
    pub measurements: usize,
    /// The decisions in words.
    pub reason: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for form in [
            JointForm::CORE,
            JointForm::FULL,
            JointForm::CORE.with("deviations"),
            JointForm::CORE.with("spreads").with("measurer"),
        ] {
            assert_eq!(JointForm::parse(&form.name()), Some(form));
        }
        assert_eq!(
            JointForm::parse("core+spreads+deviations+measurer"),
            Some(JointForm::FULL)
        );
        assert_eq!(JointForm::parse("core+spreads+spreads"), None);
        assert_eq!(JointForm::parse("spreads"), None);
        assert_eq!(JointForm::parse("core+nothing"), None);
    }
}
