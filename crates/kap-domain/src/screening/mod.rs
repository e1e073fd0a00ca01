//! Screening and eligibility (issue 9), the pure part: what an intake records about a person's
//! history, treatment trials, conditions and medications; treatment resistance derived from the
//! trials (never typed in) with the Maudsley and Thase–Rush stages; contraindication rules as
//! data and the engine that turns an intake into findings with their reasons; and the rules a
//! prescriber's eligibility decision must follow. Facts: `../shared/reference/clinical.md` §2.4
//! (esketamine label), §3 (contraindications, interactions, TRD definitions, staging).

pub mod decision;
pub mod intake;
pub mod record;
pub mod report;
pub mod rules;
pub mod staging;

crate::code::coded_enum! {
    /// How ketamine is given: the routes a clinic offers and rules apply to.
    pub enum Route as "route" {
        Iv = "iv" / "IV infusion",
        Im = "im" / "Intramuscular",
        Sublingual = "sublingual" / "Sublingual lozenge",
        EsketamineNasal = "esketamine_nasal" / "Esketamine nasal spray",
    }
}
