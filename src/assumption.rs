//! The named hypotheses of the theorems, as one closed set.
//!
//! A theorem's registry entry lists which of these it assumes (with its own one-sentence
//! statement of what the name requires there, see [`crate::theorem::Assumption`]); `icrl search
//! --relax NAME` and the saved counterexamples name them by their kebab-case spelling. The set is
//! a type so that a relaxation matches on it (a misspelt name does not compile) and the search
//! engine, which imports nothing from the theorems, can carry it.

use std::fmt;

macro_rules! assumption_ids {
    ($($(#[$doc:meta])* $variant:ident = $name:literal,)*) => {
        /// One named hypothesis.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum AssumptionId {
            $($(#[$doc])* $variant,)*
        }

        impl AssumptionId {
            /// Every hypothesis, in declaration order.
            pub const ALL: &'static [AssumptionId] = &[$(AssumptionId::$variant,)*];

            /// The kebab-case name (`query-mask`), as `icrl list`, `--relax` and fixtures spell it.
            pub const fn name(self) -> &'static str {
                match self {
                    $(AssumptionId::$variant => $name,)*
                }
            }
        }
    };
}

assumption_ids! {
    /// The mask zeroes the query column as a source.
    QueryMask = "query-mask",
    /// [WB]'s `P` writes only the reward row.
    PTd = "p-td",
    /// [WB]'s `Q` has the `(−Cᵀ, Cᵀ)` block form.
    QTd = "q-td",
    /// [LL]: `P22 = 0`.
    P22Zero = "p22-zero",
    /// [LL]: `V̄22 = 0`.
    V22BarZero = "v22-bar-zero",
    /// [LL]: both `P22 = 0` and `V̄22 = 0`.
    P22V22Zero = "p22-v22-zero",
    /// [LL]: the target uses the recorded next pair (SARSA, not Q-learning).
    RecordedNextAction = "recorded-next-action",
    /// Actor-critic: the policy score is in the prompt.
    ScoreInPrompt = "score-in-prompt",
    /// Actor-critic: the actor increment is a multiple of the critic's TD error.
    TdErrorActor = "td-error-actor",
    /// [XZ]: two heads.
    TwoHeads = "two-heads",
    /// [XZ]: `A = diag(I_d, 0)`.
    FeatureOnlyAttention = "feature-only-attention",
    /// [XZ]: the parameter-free shift after the head.
    Shift = "shift",
    /// The context's sources visit every state.
    Coverage = "coverage",
    /// [XZ]: one-hot features scaled by `√β`.
    OneHotFeatures = "one-hot-features",
    /// [XZ]: features fixed, `β → 0`.
    SmoothInBeta = "smooth-in-beta",
    /// [XZ] Assumption 5.1.
    Contraction = "contraction",
    /// `P_π` has a unique stationary distribution with full support.
    Ergodic = "ergodic",
    /// The step size lies in `(0, 1]`.
    StepSize = "step-size",
    /// [LL]: i.i.d. random features per training MDP.
    RandomFeatures = "random-features",
    /// [LL] Assumption 1 (richness).
    Richness = "richness",
    /// [LL]: the flow starts near the manifold.
    NearManifold = "near-manifold",
    /// A spectral gap of the Gauss–Newton matrix.
    SpectralGap = "spectral-gap",
}

impl AssumptionId {
    /// The hypothesis spelt `name`, if there is one.
    pub fn parse(name: &str) -> Option<AssumptionId> {
        AssumptionId::ALL.iter().copied().find(|a| a.name() == name)
    }
}

impl fmt::Display for AssumptionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A set of relaxed hypotheses as one label, `a+b` (fixtures and file names use it).
pub fn label(relaxed: &[AssumptionId]) -> String {
    relaxed.iter().map(|a| a.name()).collect::<Vec<_>>().join("+")
}

/// Parse a label `a+b` written by [`label`]; `None` names the first unknown part.
pub fn parse_label(label: &str) -> Result<Vec<AssumptionId>, String> {
    label.split('+').map(|p| AssumptionId::parse(p).ok_or_else(|| p.to_string())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_round_trip() {
        for (i, a) in AssumptionId::ALL.iter().enumerate() {
            assert_eq!(AssumptionId::parse(a.name()), Some(*a));
            assert!(AssumptionId::ALL[..i].iter().all(|b| b.name() != a.name()), "{a} twice");
        }
        assert_eq!(AssumptionId::parse("query-msk"), None);
        assert_eq!(parse_label("p22-zero+v22-bar-zero"), Ok(vec![AssumptionId::P22Zero, AssumptionId::V22BarZero]));
        assert_eq!(parse_label("p22-zero+nope"), Err("nope".to_string()));
    }
}
